"""Where client secrets and tokens live: the OS keyring, an encrypted file, or (demo only) a plain file.

Choose with ``ARCONNECT_SECRET_STORE=keyring|encrypted-file|plain-file`` (default ``keyring``);
:func:`open_secret_store` checks the choice works before anything is linked or synced, so a headless
server learns at start how to configure one (DESIGN.md §9).

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
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from connector.auth.locks import DEFAULT_LOCK_TIMEOUT, hold_path
from connector.config import CredentialConfig, data_dir
from connector.errors import ConfigError, KeyringUnavailable, MissingSecret

SERVICE = "arconnect"
STORE_ENV = "ARCONNECT_SECRET_STORE"
PASSPHRASE_ENV = "ARCONNECT_SECRETS_PASSPHRASE"
STORE_KINDS = ("keyring", "encrypted-file", "plain-file")

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


def _keyring_store() -> KeyringStore:
    """The keyring store, or KeyringUnavailable (one line saying what to do) when none is usable."""
    import keyring
    import keyring.backends.chainer
    import keyring.backends.fail

    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise KeyringUnavailable(f"no keyring backend on this machine; {KEYRING_HELP}")
    if isinstance(backend, keyring.backends.chainer.ChainerBackend) and not backend.backends:
        raise KeyringUnavailable(f"no keyring backend on this machine; {KEYRING_HELP}")
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
#: scrypt cost (RFC 7914 §2's interactive-use figures); stored in the file so it can be raised later.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


class EncryptedFileStore(_FileStore):
    """Secrets in one Fernet-encrypted file; the key is derived with scrypt from a passphrase.

    File: JSON ``{"format", "kdf": "scrypt", "salt", "n", "r", "p", "data"}`` where ``data`` is a
    Fernet token of the JSON map. Written atomically with mode 0600.
    """

    def __init__(self, path: Path, passphrase: str) -> None:
        super().__init__(path)
        if not passphrase:
            raise ConfigError(f"{STORE_ENV}=encrypted-file needs the passphrase in {PASSPHRASE_ENV}")
        self._passphrase = passphrase.encode("utf-8")
        self._keys: dict[tuple[bytes, int, int, int], Fernet] = {}

    def __repr__(self) -> str:
        return f"EncryptedFileStore({str(self.path)!r})"

    def _fernet(self, salt: bytes, n: int, r: int, p: int) -> Fernet:
        cached = self._keys.get((salt, n, r, p))
        if cached is None:
            key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self._passphrase)
            cached = self._keys[(salt, n, r, p)] = Fernet(base64.urlsafe_b64encode(key))
        return cached

    def _decode(self, raw: bytes) -> dict[str, str]:
        try:
            header = json.loads(raw.decode("utf-8"))
            if header.get("format") != FORMAT or header.get("kdf") != "scrypt":
                raise ValueError("format")
            salt = base64.b64decode(header["salt"])
            fernet = self._fernet(salt, int(header["n"]), int(header["r"]), int(header["p"]))
            token = str(header["data"]).encode("ascii")
        except (UnicodeError, ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise ConfigError(f"{self.path} is not an arconnect encrypted secrets file") from None
        try:
            plain = fernet.decrypt(token)
        except InvalidToken:
            raise ConfigError(
                f"cannot decrypt {self.path}: {PASSPHRASE_ENV} is not the passphrase it was written with"
            ) from None
        return self._map(json.loads(plain.decode("utf-8")))

    def _encode(self, values: dict[str, str]) -> bytes:
        salt = self._existing_salt() or os.urandom(16)
        fernet = self._fernet(salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        header = {
            "format": FORMAT,
            "kdf": "scrypt",
            "salt": base64.b64encode(salt).decode("ascii"),
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "data": fernet.encrypt(json.dumps(values, sort_keys=True).encode("utf-8")).decode("ascii"),
        }
        return json.dumps(header).encode("utf-8")

    def _existing_salt(self) -> bytes | None:
        try:
            header = json.loads(self.path.read_bytes().decode("utf-8"))
            if int(header["n"]) == SCRYPT_N and int(header["r"]) == SCRYPT_R and int(header["p"]) == SCRYPT_P:
                return base64.b64decode(header["salt"])
        except (OSError, UnicodeError, ValueError, KeyError, TypeError, binascii.Error):
            pass
        return None


# --------------------------------------------------------------------------- selection


def plain_file_path() -> Path:
    return data_dir() / "secrets.json"


def encrypted_file_path() -> Path:
    return data_dir() / "secrets.enc"


def open_secret_store(kind: str | None = None) -> SecretStore:
    """The secret store chosen by ``kind`` or ``ARCONNECT_SECRET_STORE`` (default: keyring), checked usable."""
    chosen = (kind or os.environ.get(STORE_ENV) or "keyring").strip().lower()
    if chosen == "keyring":
        return _keyring_store()
    if chosen == "encrypted-file":
        return EncryptedFileStore(encrypted_file_path(), os.environ.get(PASSPHRASE_ENV, ""))
    if chosen == "plain-file":
        return PlainFileStore(plain_file_path())
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
