"""Exact Online: client, mapping, adapter and sandbox (docs/reference/exact.md)."""

from __future__ import annotations

from adapters.exact.adapter import ExactAdapter
from adapters.exact.client import EXACT_HTTP, HOSTS, OAUTH
from connector.config import ConnectionConfig, CredentialConfig, config_path
from connector.http import ApiClient
from connector.model import Administration
from connector.packages import PackageSpec, SandboxSpec
from connector.ports import Adapter, StateReader
from connector.sandbox import RunningServer


def _limiter_key(credential: CredentialConfig, division: str | None) -> str:
    # §8: limits count per app and per company (division); a token serves many divisions.
    return f"exact:{credential.host}:{credential.client_id}:{division or 'me'}"


def _administrations(api: ApiClient) -> list[Administration]:
    return ExactAdapter(api, connection_id="-", division="0").administrations()


def _make_adapter(api: ApiClient, connection: ConnectionConfig, state: StateReader) -> Adapter:
    return ExactAdapter(
        api,
        connection_id=connection.name,
        division=connection.administration,
        base_currency=connection.currency,
        state=state,
    )


def _plan_warnings(connection: ConnectionConfig) -> list[str]:
    if connection.reminders_sent_by is not None:
        return []
    # docs/reference/exact.md: Exact's own reminders cannot be switched off through its API.
    return [
        f"double dunning: Exact Online's own reminders cannot be switched off through its API; set "
        f"reminders_sent_by (arconnect or package) for connection {connection.name!r} in {config_path()}"
    ]


def _serve_sandbox(port: int, seed: int, size: str, client_id: str, client_secret: str,
                   redirect_uri: str) -> RunningServer:
    from adapters.exact.sandbox import serve_exact

    return serve_exact(port, seed, size, client_id, client_secret, redirect_uri)


def _serve_sandbox_for_demo(port: int, seed: int, size: str, client_id: str, client_secret: str,
                            redirect_uri: str) -> RunningServer:
    # Exact's real limits (60 calls a minute, docs/reference/exact.md §8) would make the demo's
    # apply step wait a minute for every 60 calls; the demo shows the flow, the sandbox tests the limits.
    from adapters.exact.sandbox import Realism, serve_exact

    # Issue 16 point 5: the demo runs the realistic sandbox, all but the null e-mail addresses: a debtor
    # without one gets an e-mail reminder that fails on every apply (the plan does not fall back to a letter
    # yet), which would spoil the demo's "the second apply does nothing".
    return serve_exact(port, seed, size, client_id, client_secret, redirect_uri,
                       minutely_limit=10_000, daily_limit=100_000, realistic=Realism(nulls=False))


PACKAGE = PackageSpec(
    name="exact",
    title="Exact Online",
    oauth=OAUTH,
    http=EXACT_HTTP,
    hosts=HOSTS,
    limiter_key=_limiter_key,
    administrations=_administrations,
    make_adapter=_make_adapter,
    plan_warnings=_plan_warnings,
    capabilities=ExactAdapter.capabilities,
    sandbox=SandboxSpec(
        serve=_serve_sandbox,
        default_port=8800,
        size_help="small, medium, large, or a number of payment terms per division",
        serve_for_demo=_serve_sandbox_for_demo,
        demo_default=True,
    ),
    # Exact divisions are numbers that stay stable when a division is renamed.
    connection_name=lambda administration: f"exact-{administration.source_id}",
)
