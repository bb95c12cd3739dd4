"""Secret stores: keyring (or a one-line KeyringUnavailable), encrypted file, plain file; client secrets."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import pytest

from connector.auth import (
    EncryptedFileStore,
    KeyringStore,
    PlainFileStore,
    client_secret,
    client_secret_env,
    open_secret_store,
    set_client_secret,
)
from connector.config import CredentialConfig, data_dir
from connector.errors import ConfigError, KeyringUnavailable, MissingSecret

SECRET = "refresh!token-value-xyz"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if self.values.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("collection is locked")


@pytest.fixture
def backend() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def test_keyring_store_round_trip(backend: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "keyring")
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    store = open_secret_store()
    assert isinstance(store, KeyringStore)
    store.set("tokens:exact-nl", SECRET)
    assert store.get("tokens:exact-nl") == SECRET
    assert memory.values[("arconnect", "tokens:exact-nl")] == SECRET
    store.delete("tokens:exact-nl")
    store.delete("tokens:exact-nl")  # deleting what is not there is fine
    assert store.get("tokens:exact-nl") is None


@pytest.mark.parametrize("make_backend", [
    keyring.backends.fail.Keyring,
    lambda: keyring.backends.chainer.ChainerBackend(),  # type: ignore[no-untyped-call]
    LockedKeyring,
], ids=["fail-backend", "empty-chainer", "raises-on-use"])
def test_no_usable_keyring_says_how_to_configure_one_in_one_line(
    backend: None, monkeypatch: pytest.MonkeyPatch, make_backend: Callable[[], keyring.backend.KeyringBackend]
) -> None:
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "keyring")
    chosen = make_backend()
    if isinstance(chosen, keyring.backends.chainer.ChainerBackend):
        monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(chosen)
    with pytest.raises(KeyringUnavailable) as info:
        open_secret_store()
    message = str(info.value)
    assert "\n" not in message
    assert "ARCONNECT_SECRET_STORE=encrypted-file" in message
    assert "ARCONNECT_SECRETS_PASSPHRASE" in message


def test_a_plaintext_keyring_is_refused_with_the_line_that_says_how_to_store_secrets_encrypted(
    backend: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On a headless machine ``keyring`` picks keyrings.alt's PlaintextKeyring (base64 in a file):
    arconnect refuses it, before anything is stored, instead of writing the client secret there."""
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.delenv("ARCONNECT_SECRET_STORE")
    plaintext = PlaintextKeyring()  # type: ignore[no-untyped-call]
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(plaintext)
    with pytest.raises(KeyringUnavailable) as info:
        open_secret_store().set("client-secret:exact-nl", SECRET)
    message = str(info.value)
    assert "\n" not in message
    assert "stores secrets unencrypted" in message
    assert "ARCONNECT_SECRET_STORE=encrypted-file" in message and "ARCONNECT_SECRETS_PASSPHRASE" in message
    assert not (tmp_path / "keyring_pass.cfg").exists()


def test_a_keyring_chain_never_falls_back_to_a_plaintext_backend(backend: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "keyring")
    plaintext = PlaintextKeyring()  # type: ignore[no-untyped-call]
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")
    memory = MemoryKeyring()
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [plaintext, memory])
    keyring.set_keyring(keyring.backends.chainer.ChainerBackend())  # type: ignore[no-untyped-call]
    open_secret_store().set("tokens:exact-nl", SECRET)
    assert memory.values[("arconnect", "tokens:exact-nl")] == SECRET
    assert not (tmp_path / "keyring_pass.cfg").exists()
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [plaintext])
    with pytest.raises(KeyringUnavailable, match="stores secrets unencrypted"):
        open_secret_store()


def test_keyring_is_the_default(backend: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCONNECT_SECRET_STORE")
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    with pytest.raises(KeyringUnavailable, match="no keyring backend on this machine"):
        open_secret_store()


def test_encrypted_file_round_trip_is_private_and_unreadable_without_the_passphrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "encrypted-file")
    monkeypatch.setenv("ARCONNECT_SECRETS_PASSPHRASE", "correct horse battery staple")
    store = open_secret_store()
    assert isinstance(store, EncryptedFileStore)
    store.set("tokens:a", SECRET)
    store.set("client-secret:a", "app-secret")
    path = data_dir() / "secrets.enc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET.encode() not in path.read_bytes()
    assert b"app-secret" not in path.read_bytes()
    again = open_secret_store()  # a new process
    assert again.get("tokens:a") == SECRET
    again.delete("tokens:a")
    assert store.get("tokens:a") is None
    assert store.get("client-secret:a") == "app-secret"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_encrypted_file_with_the_wrong_passphrase_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir() / "secrets.enc"
    EncryptedFileStore(path, "right passphrase").set("tokens:a", SECRET)
    with pytest.raises(ConfigError) as info:
        EncryptedFileStore(path, "wrong passphrase").get("tokens:a")
    assert str(info.value) == (
        f"cannot decrypt {path}: ARCONNECT_SECRETS_PASSPHRASE is not the passphrase it was written with"
    )
    with pytest.raises(ConfigError):  # and it does not overwrite what it cannot read
        EncryptedFileStore(path, "wrong passphrase").set("tokens:b", "x")
    assert EncryptedFileStore(path, "right passphrase").get("tokens:a") == SECRET


def test_encrypted_file_needs_a_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "encrypted-file")
    with pytest.raises(ConfigError, match="needs the passphrase in ARCONNECT_SECRETS_PASSPHRASE"):
        open_secret_store()


def test_a_damaged_secrets_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="is not an arconnect encrypted secrets file"):
        EncryptedFileStore(path, "p").get("x")


def test_plain_file_is_chosen_explicitly_and_written_0600() -> None:
    store = open_secret_store("plain-file")
    assert isinstance(store, PlainFileStore)
    assert "demo" in (PlainFileStore.__doc__ or "")
    store.set("k", SECRET)
    assert stat.S_IMODE((data_dir() / "secrets.json").stat().st_mode) == 0o600
    assert open_secret_store("plain-file").get("k") == SECRET


def test_an_unknown_store_kind_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "vault")
    with pytest.raises(ConfigError, match="'vault' is not one of keyring, encrypted-file, plain-file"):
        open_secret_store()


CREDENTIAL = CredentialConfig(name="exact-nl.main", package="exact", host="https://start.exactonline.nl",
                              client_id="id")


def test_client_secret_env_name() -> None:
    assert client_secret_env("exact-nl.main") == "ARCONNECT_CLIENT_SECRET_EXACT_NL_MAIN"


def test_client_secret_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_secret_store("plain-file")
    set_client_secret(store, CREDENTIAL.name, "from-store")
    assert client_secret(CREDENTIAL, store) == "from-store"
    monkeypatch.setenv("ARCONNECT_CLIENT_SECRET_EXACT_NL_MAIN", "from-env")
    assert client_secret(CREDENTIAL, store) == "from-env"


def test_a_missing_client_secret_names_the_env_var() -> None:
    with pytest.raises(MissingSecret, match="set ARCONNECT_CLIENT_SECRET_EXACT_NL_MAIN"):
        client_secret(CREDENTIAL, open_secret_store("plain-file"))
