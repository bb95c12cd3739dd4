"""Twinfield (Wolters Kluwer): client, mapping, adapter and sandbox (docs/reference/twinfield.md)."""

from __future__ import annotations

from adapters.twinfield.adapter import TwinfieldAdapter
from adapters.twinfield.client import HOSTS, OAUTH, SCOPES, TWINFIELD_HTTP
from adapters.twinfield.mapping import DEFAULT_BLOCK_FIELD
from connector.config import ConnectionConfig, CredentialConfig
from connector.http import ApiClient
from connector.model import Administration
from connector.packages import PackageSpec, SandboxSpec
from connector.ports import Adapter, StateReader
from connector.sandbox import RunningServer


def _limiter_key(credential: CredentialConfig, office: str | None) -> str:
    # Fair Use Policy: credits count per client id + organisation (every office of one grant shares it).
    return f"twinfield:{credential.host}:{credential.client_id}:{credential.name}"


def _administrations(api: ApiClient) -> list[Administration]:
    return TwinfieldAdapter(api, connection_id="-", office="-").administrations()


def _make_adapter(api: ApiClient, connection: ConnectionConfig, state: StateReader) -> Adapter:
    return TwinfieldAdapter(
        api,
        connection_id=connection.name,
        office=connection.administration,
        base_currency=connection.currency,
        state=state,
        block_field=connection.block_field,
    )


def _plan_warnings(connection: ConnectionConfig) -> list[str]:
    field = connection.block_field or DEFAULT_BLOCK_FIELD
    # Twinfield docs (Customers, creditmanagement): ``blocked`` blocks projects in time & expenses only.
    return [
        f"credit block: Twinfield has no sales block on a customer (its 'blocked' flag only blocks projects in "
        f"time & expenses); arconnect records a block as text in creditmanagement/{field} of connection "
        f"{connection.name!r}, and Twinfield itself will not stop invoicing"
    ]


def _serve_sandbox(port: int, seed: int, size: str, client_id: str, client_secret: str,
                   redirect_uri: str) -> RunningServer:
    from adapters.twinfield.sandbox import serve_twinfield

    return serve_twinfield(port, seed, size, client_id, client_secret, redirect_uri)


PACKAGE = PackageSpec(
    name="twinfield",
    title="Twinfield",
    oauth=OAUTH,
    http=TWINFIELD_HTTP,
    hosts=HOSTS,
    limiter_key=_limiter_key,
    administrations=_administrations,
    make_adapter=_make_adapter,
    scopes=SCOPES,
    plan_warnings=_plan_warnings,
    capabilities=TwinfieldAdapter.capabilities,
    sandbox=SandboxSpec(serve=_serve_sandbox, default_port=8768,
                        size_help="small, medium, large or a number of transaction lines per office"),
)
