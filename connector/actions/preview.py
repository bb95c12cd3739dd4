"""``arconnect plan NAME --letters DIR``: every planned letter as apply would send it, sent nowhere.

For each planned message that apply would deliver by e-mail or letter, the letter PDF (what goes to
the printer, or into the package as the step's document) and, for e-mail, the ``.eml`` message
(what goes to the SMTP server), rendered by the same code apply uses
(:func:`connector.actions.dispatch.letter_for`, :func:`connector.actions.channels.email.build_message`).
Nothing is sent and nothing is journaled. A letter apply would refuse (an unverified interest rate
the rules file does not accept) is not written; the refusal is reported instead.

The files carry personal data: the folder is 0700 (made so when it is created; an existing folder
that others can read is refused) and every file 0600.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from connector.actions.applying import creditor_facts, template_dir, unverified_rate_refusals
from connector.actions.channels.email import build_message
from connector.actions.channels.files import key_digest, safe_name
from connector.actions.dispatch import Effect, LetterProblem, letter_for, route
from connector.actions.planning import PlanResult
from connector.config import ConnectionConfig
from connector.errors import ConfigError
from connector.model import Debtor
from connector.packages import package_spec
from connector.pdf import letter_pdf
from connector.store import Store


@dataclass
class LetterFiles:
    written: list[Path] = field(default_factory=list)
    #: one line per planned letter that was not written (refused by apply, or not renderable)
    skipped: list[str] = field(default_factory=list)


def private_dir(directory: Path) -> Path:
    """``directory``, created 0700 when missing; an existing one must not be open to others."""
    if directory.exists():
        if not directory.is_dir():
            raise ConfigError(f"--letters: {directory} is not a folder")
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"--letters: {directory} can be read by others (mode {mode:o}); letters hold personal data: "
                "name a new folder or chmod 700 it"
            )
        return directory
    directory.mkdir(parents=True, mode=0o700)
    directory.chmod(0o700)  # whatever the umask made of it
    return directory


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def write_letters(result: PlanResult, connection: ConnectionConfig, store: Store, directory: Path) -> LetterFiles:
    """Write every planned letter of ``result`` (one connection's plan) into ``directory``."""
    folder = private_dir(directory)
    out = LetterFiles()
    actions, refused = unverified_rate_refusals(result.actions)
    out.skipped.extend(refused)
    capabilities = package_spec(connection.package).capabilities
    creditor = creditor_facts(result.rules.creditor)
    templates = template_dir(connection, result.rules)
    debtors: dict[str, Debtor | None] = {}
    for action in actions:
        effects = route(action, capabilities)
        if not {Effect.EMAIL, Effect.LETTER} & set(effects):
            continue
        if action.debtor_source_id not in debtors:
            debtors[action.debtor_source_id] = store.debtor(connection.name, action.debtor_source_id)
        debtor = debtors[action.debtor_source_id]
        try:
            letter = letter_for(action, debtor, creditor, templates)
        except LetterProblem as exc:
            out.skipped.append(f"not written: {action.step or action.kind.value} for debtor {action.debtor_source_id}: {exc}")
            continue
        who = safe_name((debtor.code or debtor.source_id) if debtor else action.debtor_source_id)
        stem = f"{connection.name}-{action.run_date.isoformat()}-{who}-{safe_name(action.step or action.kind.value)}-{key_digest(action.idempotency_key)}"
        pdf = folder / f"{stem}.pdf"
        _write_private(pdf, letter_pdf(letter.subject, letter.text))
        out.written.append(pdf)
        if Effect.EMAIL in effects:
            sender = connection.mail.sender if connection.mail else (creditor.email or "debiteuren@example.invalid")
            to = list(debtor.emails) if debtor else []
            if not to:
                out.skipped.append(
                    f"no e-mail: debtor {action.debtor_source_id} has no e-mail address, so apply would not send "
                    f"{action.step or action.kind.value}"
                )
                continue
            sent_at = datetime.combine(action.run_date, time(9), tzinfo=ZoneInfo(connection.timezone))
            message = build_message(
                letter, sender=sender, sender_name=creditor.name, to=to, idempotency_key=action.idempotency_key,
                sent_at=sent_at,
            )
            eml = folder / f"{stem}.eml"
            _write_private(eml, bytes(message))
            out.written.append(eml)
    return out
