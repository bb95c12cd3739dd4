"""Tokens shared by several machines: the ``database`` secret store and the database credential lock.

``ARCONNECT_SECRET_STORE=database`` keeps every secret in the ``secrets`` table of the store database,
sealed with the passphrase like the encrypted file; with it, refreshes take a PostgreSQL advisory lock
instead of this machine's lock file. The proof at the end: two processes with different data dirs (two
"machines": different lock files) share one PostgreSQL database and refresh one Exact credential at the
same moment against the rotating-token Exact sandbox; both succeed with exactly one refresh. The control
beside it shows the same race with per-machine file locks losing the grant.

The PostgreSQL tests use a database of their own (the server on 127.0.0.1:5432, see tests/store/pg.py) and
fail when it is down, unless ``ARCONNECT_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from adapters.exact.client import OAUTH
from adapters.exact.sandbox import ExactSandbox, serve_exact
from connector.auth import FileCredentialLocks, load_tokens, open_secret_store, set_client_secret
from connector.auth.linking import exchange_code
from connector.auth.locks import DatabaseCredentialLocks, default_locks
from connector.auth.secret_store import DatabaseSecretStore
from connector.cli.demo import free_port
from connector.config import CredentialConfig, data_dir
from connector.errors import ConfigError, TransientError
from connector.sandbox import RunningServer
from connector.store import Store
from connector.store.lease import connection_lease
from tests.connector.auth.machine_child import CLIENT_ID, CREDENTIAL_NAME
from tests.support.paths import REPO
from tests.support.pg import temporary_postgres_url

PASSPHRASE = "several machines, one passphrase"
SECRET = "refresh!token-value-xyz"
CLIENT_SECRET = "machines-test-secret"

@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """One PostgreSQL database for this file, migrated once; tests empty its ``secrets`` table."""
    if os.environ.get("ARCONNECT_SKIP_POSTGRES") == "1":
        pytest.skip("ARCONNECT_SKIP_POSTGRES=1")
    with temporary_postgres_url("arconnect_auth_secrets") as url:
        with Store(url) as store:
            store.migrate()
        yield url


@pytest.fixture
def pg_url(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared database, empty, chosen as store database and secret store of this process."""
    engine = sa.create_engine(pg_database, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM secrets"))
    engine.dispose()
    monkeypatch.setenv("ARCONNECT_DATABASE_URL", pg_database)
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "database")
    monkeypatch.setenv("ARCONNECT_SECRETS_PASSPHRASE", PASSPHRASE)
    return pg_database


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql",
                                                                           marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ``database`` store on the default SQLite database of the data dir, or on PostgreSQL."""
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "database")
    monkeypatch.setenv("ARCONNECT_SECRETS_PASSPHRASE", PASSPHRASE)
    if request.param == "sqlite":
        monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
        return f"sqlite:///{data_dir() / 'arconnect.db'}"
    return cast(str, request.getfixturevalue("pg_url"))


def raw_rows(url: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [(r.key, r.value) for r in conn.execute(sa.text("SELECT key, value FROM secrets ORDER BY key"))]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the store


def test_round_trip_overwrite_and_delete_are_seen_by_a_new_process(any_url: str) -> None:
    store = open_secret_store()
    assert isinstance(store, DatabaseSecretStore)
    store.set("tokens:a", SECRET)
    store.set("client-secret:a", "app-secret")
    store.set("tokens:a", SECRET + "-rotated")  # an upsert: one row per key
    again = open_secret_store()  # a new process
    assert again.get("tokens:a") == SECRET + "-rotated"
    assert again.get("client-secret:a") == "app-secret"
    assert [key for key, _ in raw_rows(any_url)] == ["client-secret:a", "tokens:a"]
    again.delete("tokens:a")
    again.delete("tokens:a")  # deleting what is not there is fine
    assert store.get("tokens:a") is None
    assert store.get("never-set") is None


@pytest.mark.postgres
def test_a_wrong_passphrase_is_one_clear_error_when_the_store_opens(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_secret_store().set("tokens:a", SECRET)
    monkeypatch.setenv("ARCONNECT_SECRETS_PASSPHRASE", "not the passphrase")
    with pytest.raises(ConfigError) as info:
        open_secret_store()
    safe = sa.engine.make_url(pg_url).render_as_string(hide_password=True)
    assert str(info.value) == (
        f"cannot decrypt the secrets table of {safe}: "
        "ARCONNECT_SECRETS_PASSPHRASE is not the passphrase it was written with"
    )
    monkeypatch.delenv("ARCONNECT_SECRETS_PASSPHRASE")
    with pytest.raises(ConfigError) as missing:
        open_secret_store()
    assert str(missing.value) == "ARCONNECT_SECRET_STORE=database needs the passphrase in ARCONNECT_SECRETS_PASSPHRASE"


@pytest.mark.postgres
def test_a_value_in_the_table_is_unreadable_without_the_passphrase(pg_url: str) -> None:
    store = open_secret_store()
    store.set("tokens:a", SECRET)
    store.set("client-secret:a", "app-secret")
    rows = raw_rows(pg_url)
    assert len(rows) == 2
    for _key, value in rows:
        assert SECRET not in value and "app-secret" not in value
        assert '"kdf": "scrypt"' in value  # sealed like the encrypted file (PassphraseCipher)
    with pytest.raises(ConfigError, match="is not the passphrase it was written with"):
        DatabaseSecretStore(pg_url, "not the passphrase").get("tokens:a")


@pytest.mark.postgres
def test_a_sealed_value_copied_onto_another_key_is_refused(pg_url: str) -> None:
    store = open_secret_store()
    store.set("tokens:a", SECRET)
    store.set("tokens:b", "b's tokens")
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE secrets SET value = (SELECT value FROM secrets WHERE key = 'tokens:a') "
                             "WHERE key = 'tokens:b'"))
    engine.dispose()
    with pytest.raises(ConfigError, match="it was written for another key"):
        store.get("tokens:b")
    assert store.get("tokens:a") == SECRET


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    url = f"postgresql+psycopg://arconnect:s3cret@127.0.0.1:{free_port()}/arconnect"
    with pytest.raises(TransientError) as info:
        DatabaseSecretStore(url, PASSPHRASE)
    message = str(info.value)
    assert message.startswith("cannot reach the secrets table of postgresql+psycopg://arconnect:***@127.0.0.1:")
    assert "s3cret" not in message and "\n" not in message


# --------------------------------------------------------------------------- the lock


def test_the_database_store_brings_the_database_lock_and_the_others_the_file_lock(
    any_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(default_locks(), DatabaseCredentialLocks)
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "encrypted-file")
    assert isinstance(default_locks(), FileCredentialLocks)


@pytest.mark.postgres
def test_the_database_lock_excludes_another_machine_and_times_out_clearly(pg_url: str) -> None:
    held, release = threading.Event(), threading.Event()

    def other_machine() -> None:
        with DatabaseCredentialLocks(pg_url).hold("exact-nl"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_machine)
    thread.start()
    try:
        assert held.wait(10)
        # A differently spelled URL: another thread-lock key, so only PostgreSQL can make it wait.
        here = DatabaseCredentialLocks(pg_url.replace("postgresql+psycopg://", "postgresql://"))
        started = time.monotonic()
        with pytest.raises(TransientError) as info, here.hold("exact-nl", timeout=0.4):
            pass
        assert 0.35 < time.monotonic() - started < 3
        assert str(info.value) == (
            "timed out after 0.4 s waiting for the token lock of credential exact-nl (held by another process or machine)"
        )
        with here.hold("exact-be", timeout=0.4):  # another credential is free
            pass
        with connection_lease("exact-nl", database_url=pg_url):  # and leases live in another key space
            pass
    finally:
        release.set()
        thread.join(10)
    with here.hold("exact-nl", timeout=2):  # free once the other machine let go
        pass


def test_on_sqlite_the_database_lock_is_a_file_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'arconnect.db'}"
    with DatabaseCredentialLocks(url).hold("exact-nl"):
        assert (tmp_path / "db" / "locks" / "credential-exact-nl.lock").exists()
        with (
            pytest.raises(TransientError, match="waiting for the token lock of credential exact-nl"),
            DatabaseCredentialLocks(url).hold("exact-nl", timeout=0.2),
        ):
            pass


# --------------------------------------------------------------------------- two machines, one credential


def link_in_database(server: RunningServer, redirect_uri: str) -> str:
    """Link the credential through the sandbox's consent (division 101); the tokens land in the database."""
    app = cast(ExactSandbox, server.app)
    credential = CredentialConfig(name=CREDENTIAL_NAME, package="exact", host=server.url, client_id=CLIENT_ID,
                                  redirect_uri=redirect_uri)
    store = open_secret_store()
    set_client_secret(store, CREDENTIAL_NAME, CLIENT_SECRET)
    landing = app.approve(CLIENT_ID, redirect_uri, "state-1", [101])
    code = parse_qs(urlsplit(landing).query)["code"][0]
    with httpx.Client(timeout=10) as http:
        tokens = exchange_code(credential, OAUTH, store, http, code, clock=app.clock.now)
    assert tokens.refresh_value()
    return str(tokens.refresh_value())


def race_two_machines(tmp_path: Path, locks: str) -> tuple[int, list[int], list[str], str]:
    """Two child processes, each with its own data dir, refresh the near-expiry credential at once.

    Returns the refresh grants the sandbox received, the children's exit codes and output, and the refresh
    token of the link."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    server = serve_exact(0, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=redirect_uri)
    app = cast(ExactSandbox, server.app)
    try:
        linked_refresh = link_in_database(server, redirect_uri)
        app.clock.advance(575)  # within 30 s of expiry and past Exact's 570 s minimum age (exact.md §1.4)
        app.faults.slow(0.5, endpoint="oauth2/token", times=2)  # the second arrives while the first refreshes
        offset = (app.clock.now() - datetime.now(UTC)).total_seconds()
        before = app.count("oauth2/token")
        go = tmp_path / "go"
        command = [sys.executable, "-m", "tests.connector.auth.machine_child", server.url, redirect_uri, str(go), str(offset),
                   locks]
        children = []
        for machine in ("machine-a", "machine-b"):
            env = {**os.environ, "PYTHONPATH": str(REPO), "ARCONNECT_DATA_DIR": str(tmp_path / machine / "data"),
                   "ARCONNECT_CONFIG_DIR": str(tmp_path / machine / "config")}
            children.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True))
        outputs: list[str] = []
        try:
            for child in children:
                assert child.stdout is not None
                lines = [child.stdout.readline().strip(), child.stdout.readline().strip()]
                assert lines[1] == "ready", [*lines, child.communicate(timeout=10)[1]]
                outputs.append(lines[0] + "\n")
            go.touch()
            for index, child in enumerate(children):
                out, err = child.communicate(timeout=20)
                outputs[index] += out + err
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.communicate()
        refreshes = app.count("oauth2/token") - before
        return refreshes, [child.returncode for child in children], outputs, linked_refresh
    finally:
        server.stop()


@pytest.mark.postgres
def test_two_machines_refresh_one_exact_credential_at_once_exactly_once_and_both_succeed(
    pg_url: str, tmp_path: Path
) -> None:
    refreshes, codes, outputs, linked_refresh = race_two_machines(tmp_path, "default")
    assert all(out.startswith("locks DatabaseCredentialLocks\n") for out in outputs), outputs
    assert codes == [0, 0], outputs
    assert all("status 200" in out for out in outputs), outputs
    assert refreshes == 1
    stored = load_tokens(open_secret_store(), CREDENTIAL_NAME)
    assert stored is not None and stored.refresh_value() != linked_refresh  # the rotated token was persisted
    assert not (tmp_path / "machine-a" / "data" / "locks").exists()  # no machine fell back to its lock file


@pytest.mark.postgres
def test_control_with_per_machine_file_locks_the_same_race_refreshes_twice_and_loses(
    pg_url: str, tmp_path: Path
) -> None:
    refreshes, codes, outputs, _ = race_two_machines(tmp_path, "file")
    assert all(out.startswith("locks FileCredentialLocks\n") for out in outputs), outputs
    assert refreshes == 2  # both sent the same single-use refresh token
    assert sorted(codes) == [0, 1], outputs
    assert "error ReauthRequired" in "".join(outputs)
