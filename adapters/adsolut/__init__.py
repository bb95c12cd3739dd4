"""Adsolut (Wolters Kluwer Belgium): client, mapping, adapter and sandbox (Adsolut reference A1–A9)."""

from __future__ import annotations

from adapters.adsolut.adapter import OPEN_ITEMS_OFF, AdsolutAdapter, limitations
from adapters.adsolut.client import ADSOLUT_HTTP, HOSTS, OAUTH, SCOPES
from connector.config import ConnectionConfig, CredentialConfig
from connector.http import ApiClient
from connector.model import Administration
from connector.packages import PackageSpec, SandboxSpec
from connector.ports import Adapter, NoState, StateReader
from connector.sandbox import RunningServer


def _limiter_key(credential: CredentialConfig, administration: str | None) -> str:
    # ASSUMED (A7: no quota is published): counted per app and dossier, like the sandbox does.
    return f"adsolut:{credential.client_id}:{administration or 'adm'}"


def _adapter(api: ApiClient, connection: ConnectionConfig, state: StateReader) -> AdsolutAdapter:
    return AdsolutAdapter(
        api,
        connection_id=connection.name,
        administration_id=connection.administration,
        base_currency=connection.currency,
        default_country=connection.country,
        state=state,
        open_items_endpoint=connection.open_items_endpoint,
    )


def _administrations(api: ApiClient) -> list[Administration]:
    return AdsolutAdapter(api, connection_id="-", administration_id="-").administrations()


def _make_adapter(api: ApiClient, connection: ConnectionConfig, state: StateReader) -> Adapter:
    return _adapter(api, connection, state)


def _on_link(api: ApiClient, connection: ConnectionConfig) -> None:
    _adapter(api, connection, NoState()).activate()


def _plan_warnings(connection: ConnectionConfig) -> list[str]:
    endpoint = (connection.open_items_endpoint or "").strip().lower()
    return limitations(connection.name, open_items_on=endpoint != OPEN_ITEMS_OFF)


def _serve_sandbox(port: int, seed: int, size: str, client_id: str, client_secret: str,
                   redirect_uri: str) -> RunningServer:
    from adapters.adsolut.sandbox import serve_adsolut

    return serve_adsolut(port, seed, size, client_id, client_secret, redirect_uri)


def _serve_for_demo(port: int, seed: int, size: str, client_id: str, client_secret: str,
                    redirect_uri: str) -> RunningServer:
    from adapters.adsolut.sandbox import serve_adsolut

    # The ASSUMED conservative rate limit out of the way: the demo is about the path, not pacing.
    return serve_adsolut(port, seed, size, client_id, client_secret, redirect_uri, rate_limit=100_000)


PACKAGE = PackageSpec(
    name="adsolut",
    title="Adsolut",
    oauth=OAUTH,
    http=ADSOLUT_HTTP,
    hosts=HOSTS,
    limiter_key=_limiter_key,
    administrations=_administrations,
    make_adapter=_make_adapter,
    scopes=SCOPES,
    plan_warnings=_plan_warnings,
    capabilities=AdsolutAdapter.capabilities,
    on_link=_on_link,
    sandbox=SandboxSpec(serve=_serve_sandbox, default_port=8769, serve_for_demo=_serve_for_demo,
                        size_help="small (two dossiers), medium, large or a number of open items"),
    default_region="be",
)

__all__ = ["PACKAGE", "AdsolutAdapter", "limitations"]
