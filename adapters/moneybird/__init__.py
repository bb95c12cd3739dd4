"""Moneybird: client, mapping, adapter and sandbox (docs/reference/moneybird.md)."""

from __future__ import annotations

from adapters.moneybird.adapter import (
    DEFAULT_BLOCK_FIELD,
    DEFAULT_CREDIT_LIMIT_FIELD,
    MoneybirdAdapter,
    limitations,
)
from adapters.moneybird.client import HOSTS, MONEYBIRD_HTTP, OAUTH, SCOPES
from connector.config import ConnectionConfig, CredentialConfig
from connector.http import ApiClient
from connector.model import Administration
from connector.packages import PackageSpec, SandboxSpec
from connector.ports import Adapter, StateReader
from connector.sandbox import RunningServer


def _limiter_key(credential: CredentialConfig, administration: str | None) -> str:
    # §9: 150 requests per 5 minutes per API token; one token (credential) serves every
    # administration the user granted, so they share one budget.
    return f"moneybird:{credential.host}:{credential.name}"


def _administrations(api: ApiClient) -> list[Administration]:
    return MoneybirdAdapter(api, connection_id="-", administration_id="-").administrations()


def _make_adapter(api: ApiClient, connection: ConnectionConfig, state: StateReader) -> Adapter:
    # The contact custom fields that hold a block and a credit limit (§8) are named per connection
    # (config.yaml: block_field, credit_limit_field), else Moneybird's usual Dutch names are used.
    return MoneybirdAdapter(
        api,
        connection_id=connection.name,
        administration_id=connection.administration,
        base_currency=connection.currency,
        state=state,
        block_field=connection.block_field or DEFAULT_BLOCK_FIELD,
        credit_limit_field=connection.credit_limit_field or DEFAULT_CREDIT_LIMIT_FIELD,
    )


def _plan_warnings(connection: ConnectionConfig) -> list[str]:
    return limitations(connection.block_field or DEFAULT_BLOCK_FIELD,
                       connection.credit_limit_field or DEFAULT_CREDIT_LIMIT_FIELD)


def _serve_sandbox(port: int, seed: int, size: str, client_id: str, client_secret: str,
                   redirect_uri: str) -> RunningServer:
    from adapters.moneybird.sandbox import serve_moneybird

    return serve_moneybird(port, seed, size, client_id, client_secret, redirect_uri)


def _serve_sandbox_for_demo(port: int, seed: int, size: str, client_id: str, client_secret: str,
                            redirect_uri: str) -> RunningServer:
    from adapters.moneybird.sandbox import serve_moneybird
    from adapters.moneybird.sandbox_realism import Realism

    # Issue 16 point 5: realistic, all but the null e-mail addresses (see adapters/exact/__init__.py).
    return serve_moneybird(port, seed, size, client_id, client_secret, redirect_uri, realistic=Realism(nulls=False))


PACKAGE = PackageSpec(
    name="moneybird",
    title="Moneybird",
    oauth=OAUTH,
    http=MONEYBIRD_HTTP,
    hosts=HOSTS,
    limiter_key=_limiter_key,
    administrations=_administrations,
    make_adapter=_make_adapter,
    scopes=SCOPES,
    plan_warnings=_plan_warnings,
    capabilities=MoneybirdAdapter.capabilities,
    sandbox=SandboxSpec(serve=_serve_sandbox, default_port=8767,
                        size_help="small, medium, large or a number of sales invoices",
                        serve_for_demo=_serve_sandbox_for_demo),
)

__all__ = ["PACKAGE", "MoneybirdAdapter", "limitations"]
