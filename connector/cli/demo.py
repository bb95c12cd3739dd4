"""``arconnect demo``: the whole path against the Exact sandbox on 127.0.0.1, no account needed.

1. Start the Exact Online simulator on a free loopback port and register a demo app with it.
2. Link through the real OAuth2 authorization-code flow: the consent page, the redirect to our
   loopback listener, the code exchange at the sandbox's token endpoint. Only the person's click
   is played by :class:`DemoBrowser` (it loads the consent page and submits its form).
3. Sync every granted division and print the aging table.

The demo uses its own config and data dir (``<data dir>/demo``) and keeps its sandbox tokens in
a **plain file** there (ARCONNECT_SECRET_STORE=plain-file), so it runs on a headless machine with
no keyring. Never do that with a real package.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated
from urllib.parse import urljoin

import httpx
import typer
from rich.console import Console

import rules
from connector import config as cfg
from connector.cli.console import plain
from connector.errors import ConfigError
from connector.packages import PackageSpec, known_packages, package_spec

DEMO_CLIENT_ID = "arconnect-demo"
DEMO_CLIENT_SECRET = "demo-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag in ("input", "button") and values.get("name"):
            kind = values.get("type", "text")
            if kind == "checkbox" and "checked" not in values:
                return
            self.fields.append((values["name"], values.get("value", "")))


def press_allow(browser: httpx.Client, authorize_url: str) -> str:
    """What a person does at the consent page: load it, submit its form; returns the redirect URL."""
    page = browser.get(authorize_url)
    page.raise_for_status()
    form = _FormParser()
    form.feed(page.text)
    action = urljoin(str(page.url), form.action or "")
    # A form may carry one name several times (every ticked division): send each value, as a browser does.
    data: dict[str, list[str]] = {}
    for name, value in form.fields:
        data.setdefault(name, []).append(value)
    answer = browser.post(action, data=data)
    location = answer.headers.get("location")
    if answer.status_code not in (302, 303) or not location:
        raise RuntimeError(f"consent was not accepted (HTTP {answer.status_code})")
    return str(location)


class DemoBrowser:
    """Plays the person at the browser: open the consent page, press Allow, follow the redirect."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __call__(self, url: str) -> None:
        threading.Thread(target=self._run, args=(url,), daemon=True).start()

    def _run(self, url: str) -> None:
        try:
            with httpx.Client(follow_redirects=False, timeout=10) as browser:
                browser.get(press_allow(browser, url))
        except BaseException as exc:  # reported by the link step timing out with a clear message
            self.error = exc


def demo_package() -> PackageSpec:
    """The package the demo runs against: the one whose simulator is marked as the demo's."""
    specs = [package_spec(name) for name in known_packages()]
    for spec in specs:
        if spec.sandbox is not None and spec.sandbox.demo_default:
            return spec
    raise ConfigError("no package declares a simulator for the demo")


def run_demo(*, console: Console, keep: bool = False, package: str | None = None) -> None:
    from connector.cli.reports import render_aging
    from connector.runtime import aging_reports, link_package, sync_connections, today

    spec = package_spec(package) if package else demo_package()
    if spec.sandbox is None:
        raise ConfigError(f"the {spec.name} package has no simulator to run the demo against")
    serve = spec.sandbox.serve_for_demo or spec.sandbox.serve

    demo_dir = cfg.data_dir() / "demo"
    if demo_dir.exists() and not keep:
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True, exist_ok=True)
    _use_demo_dirs(demo_dir)

    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    server = serve(free_port(), 42, "small", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri)
    try:
        console.print(f"[bold]1.[/bold] {spec.title} sandbox listening on {server.url}")
        console.print("[bold]2.[/bold] Linking through the OAuth2 redirect on 127.0.0.1 (the demo presses 'Allow' for you)")
        connections = link_package(
            spec.name,
            region=spec.default_region,
            client_id=DEMO_CLIENT_ID,
            redirect_uri=redirect_uri,
            credential_name=f"{spec.name}-demo",
            host=server.url,
            open_browser=True,
            divisions=[],
            say=lambda text: console.print(plain(text), markup=False, highlight=False),
            opener=DemoBrowser(),
            client_secret_value=DEMO_CLIENT_SECRET,
        )
        console.print(f"[bold]3.[/bold] Syncing {len(connections)} division(s)")
        for result in sync_connections(None, console=console):
            if result.error:
                console.print(f"  {result.connection}: failed: {plain(result.error)}", markup=False)
            else:
                console.print(
                    f"  {result.connection}: {result.stored} records stored, {result.quarantined} quarantined, "
                    f"{result.api_calls} API calls"
                )
        console.print("[bold]4.[/bold] Aging")
        render_aging(aging_reports(None, today()), "table", today())
        _plan_and_apply(console, [c.name for c in connections])
        from connector.cli.kpi import build_report, write_html

        report_path = write_html(build_report(None, None, None, "month"))
        console.print(f"[bold]8.[/bold] KPI report (DSO, CEI, aging, dunning effect) written to {report_path}", highlight=False, soft_wrap=True)
        console.print(f"Demo data, config and (plain-file) sandbox tokens are in {demo_dir}")
    finally:
        server.stop()


def _plan_and_apply(console: Console, names: list[str]) -> None:
    """Steps 5 and 6: apply the shipped example rules (NL, or BE for a Belgian division) with e-mail
    to an SMTP server on 127.0.0.1, then apply again to show that nothing happens twice."""
    from connector.actions.applying import apply_connection, effects_table, summary_line
    from connector.actions.channels.local_smtp import LocalSmtpServer
    from connector.config import MailConfig
    from connector.runtime import today
    from rules.calendar import business_day_in_all

    examples = Path(rules.__file__).resolve().parent / "examples"
    with LocalSmtpServer(free_port()) as smtp:
        config = cfg.load_config()
        # Letters go out on business days only: on a weekend or holiday the demo shows the next run.
        run_date = business_day_in_all(today(), {config.connections[name].country for name in names})
        if run_date != today():
            console.print(f"  today is no business day in every country here: the demo plans the next run, {run_date.isoformat()}")
        for name in names:
            connection = config.connections[name]
            example = examples / ("be-practice.yaml" if connection.country == "BE" else "nl-practice.yaml")
            rules_file = demo_rules(example, cfg.config_dir())
            config.connections[name] = connection.model_copy(update={
                "rules_file": str(rules_file),
                "reminders_sent_by": "arconnect",
                "mail": MailConfig(host=smtp.host, port=smtp.port, sender="debiteuren@vandijk-installatie.nl"),
            })
            console.print(f"[bold]5.[/bold] {name}: plan and apply a copy of rules/examples/{example.name}; "
                          f"e-mail goes to an SMTP server on 127.0.0.1:{smtp.port}")
        console.print(f"  {UNVERIFIED_NOTE}")
        cfg.save_config(config)
        for name in names:
            result = apply_connection(name, run_date, console=console)
            console.print(effects_table(result))
            console.print(summary_line(result), highlight=False)
        console.print(f"  the SMTP server received {len(smtp.received)} e-mail(s)")
        if smtp.received:
            console.print(f"  first one: {smtp.received[0].subject!r} to {', '.join(smtp.received[0].recipients)}")
        console.print("[bold]6.[/bold] Apply again: every effect is journaled and remote state is read first, "
                      "so nothing happens twice")
        before = len(smtp.received)
        for name in names:
            console.print(summary_line(apply_connection(name, run_date, console=console)), highlight=False)
        console.print(f"  the SMTP server received {len(smtp.received) - before} more e-mail(s)")
        later = business_day_in_all(run_date + timedelta(days=14), {config.connections[name].country for name in names})
        console.print(f"[bold]7.[/bold] Two weeks later (a simulated run on {later.isoformat()}): consumers who did not pay "
                      "get the 14-day letter (NL) with the exact costs; letters to print are in the outbox")
        for name in names:
            result = apply_connection(name, later, console=console)
            console.print(effects_table(result))
            console.print(summary_line(result), highlight=False)


#: What the demo says about its copy of the example rules (issue 10 point 12).
UNVERIFIED_NOTE = (
    "the demo's copies of the example rules accept interest rates not yet verified (costs.accept_unverified_rates: "
    "true), because the demo runs after the last verified half-year of rules/data/interest.yaml; a real rules file "
    "leaves this off, and apply then refuses such a letter and says why"
)


def demo_rules(example: Path, folder: Path) -> Path:
    """A copy of an example rules file in the demo's folder that accepts unverified interest rates
    explicitly (the shipped example does not; apply refuses a letter carrying one otherwise)."""
    text = example.read_text(encoding="utf-8")
    marker = "\ncosts:\n"
    if marker not in text:
        raise ConfigError(f"{example.name}: no costs section to accept unverified rates in")
    copy = folder / f"demo-{example.name}"
    copy.write_text(text.replace(marker, marker + "  accept_unverified_rates: true   # the demo only (see above)\n", 1),
                    encoding="utf-8")
    return copy


def _use_demo_dirs(demo_dir: Path) -> None:
    os.environ["ARCONNECT_CONFIG_DIR"] = str(demo_dir)
    os.environ["ARCONNECT_DATA_DIR"] = str(demo_dir)
    os.environ["ARCONNECT_SECRET_STORE"] = "plain-file"
    os.environ.pop("ARCONNECT_DATABASE_URL", None)


def demo(
    keep: Annotated[bool, typer.Option(help="Keep the demo data dir of an earlier run")] = False,
    package: Annotated[str | None, typer.Option(help="Run against this package's simulator (default: Exact Online)")] = None,
) -> None:
    """Try arconnect without an account: sandbox on loopback, real OAuth link, sync, aging, plan, apply."""
    from connector.cli.console import out

    run_demo(console=out, keep=keep, package=package)


def register(app: typer.Typer) -> None:
    app.command()(demo)
