"""The one human-editable configuration file (``config.yaml`` in the user config dir).

It holds **credentials** (one OAuth grant each: package, host, client id, redirect URI) and
**connections** (one administration reached through a credential, with its rules file, schedule
and mail settings). Client secrets and tokens never go in this file: they live in the secret
store (see :mod:`connector.auth.tokens`).

Locations (platformdirs): ``arconnect connections`` prints them. ``ARCONNECT_CONFIG_DIR`` and
``ARCONNECT_DATA_DIR`` override them (tests, servers, the demo).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from connector.errors import ConfigError, UnknownConnection

APP = "arconnect"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def _checked_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError("use lower-case letters, digits, '-', '_' or '.'")
    return value


#: Names of credentials and connections: they appear in commands, file names and keyring entries.
Name = Annotated[str, AfterValidator(_checked_name)]


def config_dir() -> Path:
    return Path(os.environ.get("ARCONNECT_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("ARCONNECT_DATA_DIR") or platformdirs.user_data_dir(APP))


def config_path() -> Path:
    return config_dir() / "config.yaml"


def database_url() -> str:
    """``ARCONNECT_DATABASE_URL`` or SQLite in the data dir."""
    url = os.environ.get("ARCONNECT_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'arconnect.db'}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: A package is a folder ``adapters/<name>/``; ``connector.packages.package_spec`` says which exist.
PackageName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

class CredentialConfig(_Model):
    """One OAuth grant: a client registered with a package, used by one user on one host."""

    name: Name
    package: PackageName
    #: The package's base URL, e.g. https://start.exactonline.nl or https://start.exactonline.be;
    #: a token is valid only on its own host.
    host: str
    client_id: str
    #: Must equal the URI registered with the package, character for character, so the port is fixed.
    redirect_uri: str = "http://127.0.0.1:8765/callback"
    scopes: list[str] = Field(default_factory=list)


class MailConfig(_Model):
    host: str = "127.0.0.1"
    port: int = 25
    sender: str
    #: STARTTLS after connecting (port 587); ``implicit_tls``: TLS from the first byte (port 465,
    #: also assumed on port 465). A ``username`` needs one of them: no password goes in the clear.
    starttls: bool = False
    implicit_tls: bool = False
    username: str | None = None
    #: A CA bundle (PEM) to trust besides the system's, for a mail server with a private CA.
    ca_file: str | None = None


class ConnectionConfig(_Model):
    """One administration (division / administration / office / dossier) of one package."""

    name: Name
    credential: str
    package: PackageName
    administration: str
    administration_name: str | None = None
    country: Literal["NL", "BE"] = "NL"
    currency: str = "EUR"
    rules_file: str | None = None
    sync_every_minutes: int = Field(default=15, ge=1)
    apply_at: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    timezone: Literal["Europe/Amsterdam", "Europe/Brussels"] = "Europe/Amsterdam"
    #: Who sends reminders: arconnect, or the package itself. Exact's own reminders cannot be
    #: switched off through its API, so plan warns of double dunning until this is set.
    reminders_sent_by: Literal["arconnect", "package"] | None = None
    mail: MailConfig | None = None
    #: Packages without a block field on the debtor (Moneybird) keep arconnect's block and credit
    #: limit in contact custom fields of these names; the bookkeeper creates them in the package.
    block_field: str | None = None
    credit_limit_field: str | None = None
    #: Packages whose open-items endpoint is not documented (Adsolut) read open items from this
    #: path, ``{administration}`` standing for the administration's id; ``off`` reads none (the
    #: plan says so). Unset: the adapter's own (assumed) path.
    open_items_endpoint: str | None = None
    #: How debtors of unknown kind (no VAT, KvK/KBO number or legal form in the name) are treated:
    #: ``consumer`` (the safe reading: consumer letters, only what the law lets a consumer be charged)
    #: or ``business``. Unset: the rules file's ``debtors.unknown_as``, else consumer. A rules file can
    #: still set the kind of one debtor (``debtors.kinds``).
    unknown_as: Literal["consumer", "business"] | None = None


class Config(_Model):
    credentials: dict[str, CredentialConfig] = Field(default_factory=dict)
    connections: dict[str, ConnectionConfig] = Field(default_factory=dict)

    def connection(self, name: str) -> ConnectionConfig:
        try:
            return self.connections[name]
        except KeyError:
            known = ", ".join(sorted(self.connections)) or "none yet; run 'arconnect link'"
            raise UnknownConnection(f"unknown connection {name!r} (configured: {known})") from None

    def credential(self, name: str) -> CredentialConfig:
        try:
            return self.credentials[name]
        except KeyError:
            raise ConfigError(f"unknown credential {name!r} in {config_path()}") from None


def load_config(path: Path | None = None) -> Config:
    path = path or config_path()
    if not path.exists():
        return Config()
    text = _config_text(path)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {field}: {first['msg']}") from None


#: config.yaml is a few kilobytes; these bounds answer a YAML bomb with one line (issue 11 §7).
MAX_CONFIG_BYTES = 1_000_000
MAX_CONFIG_VALUES = 100_000


def _config_text(path: Path) -> str:
    """The text of ``path``, or one ConfigError line with the path and what to do."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size:,} bytes, not an arconnect configuration; restore it from a backup")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (UTF-8) file; restore it from a backup, or move it away and run 'arconnect link' again") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}); check its owner and mode") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text file (it contains NUL bytes); restore it from a backup, or move it away and run 'arconnect link' again")
    _check_expansion(text, path)
    return text


def _check_expansion(text: str, path: Path) -> None:
    """ConfigError at ``file:line:col`` when aliases make the document stand for more than
    :data:`MAX_CONFIG_VALUES` values or an alias contains itself (counted without expanding)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return  # the loader reports it with its line
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def where(node: yaml.Node) -> str:
        return f"{path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ConfigError(f"{where(node)}: an alias refers to a value that contains it (a recursive anchor)")
        open_nodes.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        total = 1 + sum(size(child) for child in children)
        open_nodes.discard(key)
        if total > MAX_CONFIG_VALUES:
            raise ConfigError(f"{where(node)}: stands for more than {MAX_CONFIG_VALUES:,} values once its aliases are expanded (a YAML bomb?)")
        sizes[key] = total
        return total

    if root is not None:
        try:
            size(root)
        except RecursionError:
            raise ConfigError(f"{path}: nested too deeply to be an arconnect configuration") from None


HEADER = "# arconnect configuration. Secrets and tokens are never stored here.\n"


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write ``config`` into the file **as an edit** of what is there (issue 11.1).

    The file is hand-edited by bookkeepers: comments, key order, quoting and settings arconnect never
    sets (``mail``, ``apply_at``, ``block_field``, ``sync_every_minutes``) must survive a re-link.
    So the file is read with a round-trip YAML parser and only what the code *set* is written: a
    field a model was built or updated with (pydantic's ``model_fields_set``) is written when it
    differs from the file, removed when it was set to None (a default the file does not mention is
    not added); a field the code did not set keeps whatever the file says. Credentials and connections that are no longer in ``config`` are
    removed. A new file gets a one-line header.
    """
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml_rt = _round_trip()
    document: Any = None
    if path.exists():
        try:
            document = yaml_rt.load(path.read_text(encoding="utf-8"))
        except Exception:
            document = None
    if not isinstance(document, CommentedMap):
        document = CommentedMap()
        text = HEADER
    else:
        text = ""
    for section in ("credentials", "connections"):
        entries: dict[str, BaseModel] = dict(getattr(config, section))
        current = document.get(section)
        if not isinstance(current, CommentedMap):
            if not entries:
                document.pop(section, None)
                continue
            current = CommentedMap()
            document[section] = current
        for gone in [name for name in current if name not in entries]:
            del current[gone]
        for name, model in entries.items():
            existing = current.get(name)
            if isinstance(existing, CommentedMap):
                _merge(existing, model)
            else:
                current[name] = _scalars(model.model_dump(mode="json", exclude_none=True))
    buffer = io.StringIO()
    yaml_rt.dump(document, buffer)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text + buffer.getvalue(), encoding="utf-8")
    tmp.replace(path)
    return path


def _round_trip() -> YAML:
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    yaml_rt.width = 4096  # never re-wrap a long value
    yaml_rt.indent(mapping=2, sequence=2, offset=0)
    return yaml_rt


def _merge(target: CommentedMap, model: BaseModel) -> None:
    """Write the fields ``model`` was given into ``target``, leaving every other key as it is."""
    for field in type(model).model_fields:
        if field not in model.model_fields_set:
            continue
        value = getattr(model, field)
        if field not in target and value == type(model).model_fields[field].get_default(call_default_factory=True):
            continue  # the default, never written: the file stays as the bookkeeper left it
        if value is None:
            target.pop(field, None)
        elif isinstance(value, BaseModel) and isinstance(target.get(field), CommentedMap):
            _merge(target[field], value)
        else:
            plain = value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) else value
            if _plain(target.get(field)) != plain:
                target[field] = _scalars(plain)


_RESOLVER = yaml.resolver.Resolver()


def _scalars(value: Any) -> Any:
    """Quote a string that a YAML 1.1 reader (``load_config``) would take for something else: the
    round-trip writer speaks YAML 1.2, where ``off``, ``yes`` or ``1_000`` are plain strings."""
    if isinstance(value, dict):
        return {k: _scalars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scalars(v) for v in value]
    if isinstance(value, str) and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":  # type: ignore[no-untyped-call]
        return SingleQuotedScalarString(value)
    return value


def _plain(value: Any) -> Any:
    """A ruamel value as plain Python, for comparing with what the model says."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


#: Which secret store holds client secrets and tokens: keyring (default), encrypted-file, database.
SECRET_STORE_ENV = "ARCONNECT_SECRET_STORE"


def secret_store_kind(kind: str | None = None) -> str:
    """``kind``, else ``ARCONNECT_SECRET_STORE``, else ``keyring``; normalised, not yet checked."""
    return (kind or os.environ.get(SECRET_STORE_ENV) or "keyring").strip().lower()


# --------------------------------------------------------------------------- personal data on disk
# The data dir holds names, addresses, e-mail addresses and amounts owed (GDPR): folders 0700 and
# files 0600 whatever the umask, and modes of what an older version left are fixed on start.

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``mkdir -p path``; ``path`` and the folders it creates inside the data dir are 0700 (a
    parent outside it, such as ``~/.local/share``, keeps the usual mode)."""
    missing = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    root = data_dir().absolute()
    for folder in {path, *(m for m in missing if m.absolute().is_relative_to(root))}:
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` of a file that is 0600 from its first byte on, whatever the umask."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


#: What arconnect keeps in the data dir: only these get their modes fixed, so a data dir that is
#: (against advice) shared with other files never has those changed.
DATA_ENTRIES = ("arconnect.db", "arconnect.db-wal", "arconnect.db-shm", "arconnect.db-journal", "secrets.json",
                "secrets.enc", "outbox", "calls", "handover", "locks", "demo")


def secure_data_dir(root: Path) -> int:
    """The data dir 0700 and what arconnect keeps in it (:data:`DATA_ENTRIES`) 0700/0600; returns
    how many modes were changed."""
    if not root.is_dir() or root.is_symlink():
        return 0
    changed = 0
    if root.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
        os.chmod(root, PRIVATE_DIR_MODE)
        changed += 1
    for name in DATA_ENTRIES:
        entry = root / name
        if entry.is_symlink() or not entry.exists():
            continue
        if entry.is_dir():
            changed += secure_tree(entry)
        elif entry.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
            os.chmod(entry, PRIVATE_FILE_MODE)
            changed += 1
    return changed


def secure_tree(root: Path) -> int:
    """Make ``root`` and everything under it 0700 (folders) and 0600 (files); returns how many
    modes were changed. Symbolic links are left alone (their targets are not ours)."""
    if not root.is_dir() or root.is_symlink():
        return 0
    changed = 0

    def fix(path: str, mode: int) -> None:
        nonlocal changed
        try:
            if os.lstat(path).st_mode & 0o777 != mode:
                os.chmod(path, mode)
                changed += 1
        except FileNotFoundError:  # a temporary file another process just renamed
            pass

    fix(str(root), PRIVATE_DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                fix(path, PRIVATE_DIR_MODE)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                fix(path, PRIVATE_FILE_MODE)
    return changed
