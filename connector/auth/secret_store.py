"""Where client secrets and tokens live: the OS keyring, an encrypted file, the store database
(encrypted, for several machines), or (demo only) a plain file.

Choose with ``ARCONNECT_SECRET_STORE=keyring|encrypted-file|database|plain-file`` (default ``keyring``);
:func:`open_secret_store` checks the choice works before anything is linked or synced, so a headless
server learns at start how to configure one (docs/architecture.md §9). ``encrypted-file`` and ``database`` seal
values the same way (:class:`PassphraseCipher`, passphrase in ``ARCONNECT_SECRETS_PASSPHRASE``).

Keys are plain strings: ``tokens:<credential>`` (see :mod:`connector.auth.tokens`) and
``client-secret:<credential>`` (see :func:`client_secret`). Values never reach a log or a message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from connector.auth.locks import DEFAULT_LOCK_TIMEOUT, hold_path
from connector.config import SECRET_STORE_ENV, CredentialConfig, data_dir, database_url, secret_store_kind
from connector.errors import ConfigError, KeyringUnavailable, MissingSecret, TransientError
from connector.store.tables import secrets

SERVICE = "arconnect"
STORE_ENV = SECRET_STORE_ENV
PASSPHRASE_ENV = "ARCONNECT_SECRETS_PASSPHRASE"
STORE_KINDS = ("keyring", "encrypted-file", "plain-file", "database")

KEYRING_HELP = (
    f"set {STORE_ENV}=encrypted-file and {PASSPHRASE_ENV}=<a long passphrase>, "
    "or install a keyring backend (e.g. Secret Service or keyrings.cryptfile)"
)


class SecretStore(Protocol):
    """A string-to-string secret map shared by every arconnect process on this machine."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


# --------------------------------------------------------------------------- keyring


class KeyringStore:
    """The OS keyring (``keyring`` package), service name ``arconnect``."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def _unusable(self, exc: Exception) -> KeyringUnavailable:
        return KeyringUnavailable(
            f"the keyring backend {type(self._backend).__name__} failed ({type(exc).__name__}); {KEYRING_HELP}"
        )

    def get(self, key: str) -> str | None:
        try:
            value = self._backend.get_password(SERVICE, key)
        except Exception as exc:
            raise self._unusable(exc) from None
        return None if value is None else str(value)

    def set(self, key: str, value: str) -> None:
        try:
            self._backend.set_password(SERVICE, key, value)
        except Exception as exc:
            raise self._unusable(exc) from None

    def delete(self, key: str) -> None:
        import keyring.errors

        try:
            self._backend.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            return
        except Exception as exc:
            raise self._unusable(exc) from None


def _refusal(backend: Any) -> str | None:
    """Why ``backend`` must not hold secrets, or None. Refused: a backend that stores them
    unencrypted (keyrings.alt's ``PlaintextKeyring``, base64 in a file in the data folder, is what
    ``keyring`` picks on a headless machine) and one that stores nothing (``null``)."""
    cls = type(backend)
    scheme = str(getattr(backend, "scheme", "") or "").lower()
    if "plaintext" in cls.__name__.lower() or scheme.startswith(("no enc", "none", "plain")):
        return f"the keyring backend {cls.__module__}.{cls.__name__} stores secrets unencrypted, arconnect will not use it"
    if cls.__module__ == "keyring.backends.null":
        return f"the keyring backend {cls.__module__}.{cls.__name__} stores nothing, arconnect cannot use it"
    return None


def _keyring_store() -> KeyringStore:
    """The keyring store, or KeyringUnavailable (one line saying what to do) when none is usable."""
    import keyring
    import keyring.backends.chainer
    import keyring.backends.fail

    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise KeyringUnavailable(f"no keyring backend on this machine; {KEYRING_HELP}")
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        # A chain falls back to its next backend when one fails: never to a plaintext one.
        safe = [b for b in backend.backends if _refusal(b) is None]
        if not safe:
            refused = [r for b in backend.backends if (r := _refusal(b))]
            raise KeyringUnavailable(f"{refused[0] if refused else 'no keyring backend on this machine'}; {KEYRING_HELP}")
        backend = safe[0]
    reason = _refusal(backend)
    if reason is not None:
        raise KeyringUnavailable(f"{reason}; {KEYRING_HELP}")
    store = KeyringStore(backend)
    store.get("arconnect-probe")  # a locked or broken backend raises here, not in the middle of a sync
    return store


# --------------------------------------------------------------------------- files


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a 0600 temp file in the same directory and ``os.replace``."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _FileStore:
    """A JSON map in one file; every change is read-modify-write under a cross-process lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.parent / "locks" / f"{path.name}.lock"

    # subclasses turn the map into bytes and back
    def _decode(self, raw: bytes) -> dict[str, str]:
        raise NotImplementedError

    def _encode(self, values: dict[str, str]) -> bytes:
        raise NotImplementedError

    def _read(self) -> dict[str, str]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        return self._decode(raw)

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def set(self, key: str, value: str) -> None:
        with hold_path(self._lock_path, DEFAULT_LOCK_TIMEOUT, what=f"the lock of {self.path}"):
            values = self._read()
            values[key] = value
            _atomic_write(self.path, self._encode(values))

    def delete(self, key: str) -> None:
        with hold_path(self._lock_path, DEFAULT_LOCK_TIMEOUT, what=f"the lock of {self.path}"):
            values = self._read()
            if values.pop(key, None) is not None:
                _atomic_write(self.path, self._encode(values))

    def _map(self, parsed: object) -> dict[str, str]:
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ConfigError(f"{self.path} is not an arconnect secrets file")
        return {str(k): v for k, v in parsed.items()}


class PlainFileStore(_FileStore):
    """Secrets in a **plain, unencrypted** JSON file (mode 0600). For the demo and sandboxes only.

    Anyone who can read the file holds the tokens. It is used only when chosen explicitly with
    ``ARCONNECT_SECRET_STORE=plain-file``; never use it with a real package.
    """

    def _decode(self, raw: bytes) -> dict[str, str]:
        try:
            return self._map(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            raise ConfigError(f"{self.path} is not an arconnect secrets file") from None

    def _encode(self, values: dict[str, str]) -> bytes:
        return json.dumps(values, sort_keys=True).encode("utf-8")


FORMAT = "arconnect-secrets/1"
#: scrypt cost (RFC 7914 §2's interactive-use figures); stored with every sealed value so it can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class PassphraseCipher:
    """Fernet encryption under a key derived with scrypt from a passphrase; shared by the encrypted stores.

    A sealed value is JSON ``{"format", "kdf": "scrypt", "salt", "n", "r", "p", "data"}`` where ``data``
    is a Fernet token. scrypt costs about 0.1 s, so derived keys are cached per salt and cost, and new
    values reuse the salt last opened or sealed at the current cost: a process derives once, not per value.
    """

    def __init__(self, passphrase: str, *, kind: str) -> None:
        if not passphrase:
            raise ConfigError(f"{STORE_ENV}={kind} needs the passphrase in {PASSPHRASE_ENV}")
        self._passphrase = passphrase.encode("utf-8")
        self._keys: dict[tuple[bytes, int, int, int], Fernet] = {}
        self._salt: bytes | None = None

    def __repr__(self) -> str:
        return "PassphraseCipher(...)"

    def _fernet(self, salt: bytes, n: int, r: int, p: int) -> Fernet:
        cached = self._keys.get((salt, n, r, p))
        if cached is None:
            key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self._passphrase)
            cached = self._keys[(salt, n, r, p)] = Fernet(base64.urlsafe_b64encode(key))
        return cached

    def seal(self, plain: bytes) -> bytes:
        if self._salt is None:
            self._salt = os.urandom(16)
        fernet = self._fernet(self._salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = {
            "format": FORMAT,
            "kdf": "scrypt",
            "salt": base64.b64encode(self._salt).decode("ascii"),
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "data": fernet.encrypt(plain).decode("ascii"),
        }
        return json.dumps(header).encode("utf-8")

    def unseal(self, sealed: bytes, *, where: str, damaged: str) -> bytes:
        """The plain bytes; ConfigError ``damaged`` when it is not a sealed value, or naming ``where`` on a wrong passphrase."""
        try:
            header = json.loads(sealed.decode("utf-8"))
            if header.get("format") != FORMAT or header.get("kdf") != "scrypt":
                raise ValueError("format")
            salt = base64.b64decode(header["salt"])
            cost = (int(header["n"]), int(header["r"]), int(header["p"]))
            fernet = self._fernet(salt, *cost)
            token = str(header["data"]).encode("ascii")
        except (UnicodeError, ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise ConfigError(damaged) from None
        try:
            plain = fernet.decrypt(token)
        except InvalidToken:
            raise ConfigError(
                f"cannot decrypt {where}: {PASSPHRASE_ENV} is not the passphrase it was written with"
            ) from None
        if cost == (SCRYPT_N, SCRYPT_R, SCRYPT_P):
            self._salt = salt
        return plain


class EncryptedFileStore(_FileStore):
    """Secrets in one Fernet-encrypted file; the key is derived with scrypt from a passphrase.

    The file is one value sealed by :class:`PassphraseCipher` (the JSON map of every secret), written
    atomically with mode 0600.
    """

    def __init__(self, path: Path, passphrase: str) -> None:
        super().__init__(path)
        self._cipher = PassphraseCipher(passphrase, kind="encrypted-file")

    def __repr__(self) -> str:
        return f"EncryptedFileStore({str(self.path)!r})"

    def _decode(self, raw: bytes) -> dict[str, str]:
        plain = self._cipher.unseal(
            raw, where=str(self.path), damaged=f"{self.path} is not an arconnect encrypted secrets file"
        )
        return self._map(json.loads(plain.decode("utf-8")))

    def _encode(self, values: dict[str, str]) -> bytes:
        return self._cipher.seal(json.dumps(values, sort_keys=True).encode("utf-8"))


# --------------------------------------------------------------------------- database


_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_engines_lock = threading.Lock()


def _secrets_engine(url: str) -> Engine:
    """One engine per database URL; NullPool, so no connection outlives a call or crosses a fork (Celery)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            parsed = make_url(url)
            if parsed.drivername in ("postgresql", "postgres"):
                parsed = parsed.set(drivername="postgresql+psycopg")
            backend = parsed.get_backend_name()
            if backend == "postgresql":
                args: dict[str, Any] = {"connect_timeout": 10, "application_name": "arconnect secrets"}
            elif backend == "sqlite":
                args = {"timeout": 30}  # the busy timeout, like the store's (connector/store/store.py)
            else:
                raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")
            engine = _engines[url] = sa.create_engine(parsed, poolclass=NullPool, connect_args=args)
        return engine


def _ensure_schema(url: str) -> None:
    """Migrate the store database once per process, so the ``secrets`` table exists before ``link``."""
    with _engines_lock:
        if url in _migrated:
            return
    from connector.store import Store

    with Store(url) as store:
        store.migrate()  # serialised across processes by the store's own lock; harmless when up to date
    with _engines_lock:
        _migrated.add(url)


class DatabaseSecretStore:
    """Secrets in the ``secrets`` table of the store database, each value sealed by :class:`PassphraseCipher`.

    For several machines on one PostgreSQL database (``ARCONNECT_SECRET_STORE=database``): every machine
    with the same passphrase reads and writes the same tokens, refreshed under
    :class:`~connector.auth.locks.DatabaseCredentialLocks`. ``set`` is one upsert (``INSERT … ON CONFLICT
    DO UPDATE``) in its own transaction, so a reader sees the old value or the new one; ``get`` reads the
    committed value. The sealed plain text names its key, so a value copied onto another row is refused.
    Opening checks the passphrase against a stored value, so a wrong one fails at start.
    """

    def __init__(self, url: str, passphrase: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self._cipher = PassphraseCipher(passphrase, kind="database")
        self._clock = clock or (lambda: datetime.now(UTC))
        self._engine = _secrets_engine(url)
        self._where = f"the secrets table of {self._engine.url.render_as_string(hide_password=True)}"
        with self._reaching():
            _ensure_schema(url)
            with self._engine.connect() as conn:
                first = conn.execute(
                    sa.select(secrets.c.key, secrets.c.value).order_by(secrets.c.key).limit(1)
                ).first()
        if first is not None:
            self._open(first.key, first.value)

    def __repr__(self) -> str:
        return f"DatabaseSecretStore({self._where.removeprefix('the secrets table of ')!r})"

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise TransientError(
                f"cannot reach {self._where} ({type(exc.orig).__name__}); is the database up?"
            ) from None

    def _open(self, key: str, sealed: str) -> str:
        damaged = f"secret {key} in {self._where} is not an arconnect encrypted secret"
        plain = self._cipher.unseal(sealed.encode("utf-8"), where=self._where, damaged=damaged)
        try:
            parsed = json.loads(plain.decode("utf-8"))
        except (UnicodeError, ValueError):
            raise ConfigError(damaged) from None
        if not isinstance(parsed, dict) or parsed.get("key") != key or not isinstance(parsed.get("value"), str):
            raise ConfigError(f"{damaged} (it was written for another key)")
        return str(parsed["value"])

    def get(self, key: str) -> str | None:
        with self._reaching(), self._engine.connect() as conn:
            sealed = conn.execute(sa.select(secrets.c.value).where(secrets.c.key == key)).scalar_one_or_none()
        return None if sealed is None else self._open(key, sealed)

    def set(self, key: str, value: str) -> None:
        sealed = self._cipher.seal(json.dumps({"key": key, "value": value}).encode("utf-8")).decode("ascii")
        insert = (postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert)(secrets)
        statement = insert.values(key=key, value=sealed, updated_at=self._clock()).on_conflict_do_update(
            index_elements=[secrets.c.key],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
        with self._reaching(), self._engine.begin() as conn:
            conn.execute(statement)

    def delete(self, key: str) -> None:
        with self._reaching(), self._engine.begin() as conn:
            conn.execute(sa.delete(secrets).where(secrets.c.key == key))


# --------------------------------------------------------------------------- selection


def plain_file_path() -> Path:
    return data_dir() / "secrets.json"


def encrypted_file_path() -> Path:
    return data_dir() / "secrets.enc"


store_kind = secret_store_kind


def open_secret_store(kind: str | None = None) -> SecretStore:
    """The secret store chosen by ``kind`` or ``ARCONNECT_SECRET_STORE`` (default: keyring), checked usable."""
    chosen = store_kind(kind)
    if chosen == "keyring":
        return _keyring_store()
    if chosen == "encrypted-file":
        return EncryptedFileStore(encrypted_file_path(), os.environ.get(PASSPHRASE_ENV, ""))
    if chosen == "plain-file":
        return PlainFileStore(plain_file_path())
    if chosen == "database":
        return DatabaseSecretStore(database_url(), os.environ.get(PASSPHRASE_ENV, ""))
    raise ConfigError(f"{STORE_ENV}={chosen!r} is not one of {', '.join(STORE_KINDS)}")


# --------------------------------------------------------------------------- client secrets


def client_secret_key(credential_name: str) -> str:
    return f"client-secret:{credential_name}"


def client_secret_env(credential_name: str) -> str:
    """``ARCONNECT_CLIENT_SECRET_<NAME>``: the name upper-cased, anything not alphanumeric as ``_``."""
    return "ARCONNECT_CLIENT_SECRET_" + re.sub(r"[^A-Z0-9]", "_", credential_name.upper())


def client_secret(credential: CredentialConfig, store: SecretStore) -> str:
    """The app's client secret: from the environment first, then the store, else MissingSecret."""
    env = client_secret_env(credential.name)
    value = os.environ.get(env) or store.get(client_secret_key(credential.name))
    if not value:
        raise MissingSecret(
            f"no client secret for credential {credential.name}: set {env} or run 'arconnect link {credential.package}'"
        )
    return value


def set_client_secret(store: SecretStore, credential_name: str, value: str) -> None:
    store.set(client_secret_key(credential_name), value)
