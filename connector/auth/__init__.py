"""Credentials, secret storage and OAuth2 (docs/architecture.md §9).

* :class:`OAuthProfile`: one package's OAuth facts (declared by the adapter).
* :class:`TokenSet`: one credential's tokens; :func:`load_tokens`/:func:`save_tokens`.
* :class:`SecretStore` and :func:`open_secret_store`: keyring, encrypted file or (demo) plain file.
* :func:`client_secret`: the app's client secret from the environment or the store.
* :class:`CredentialAuth`: an ``httpx.Auth`` with single-flight, cross-process refresh.
* :mod:`connector.auth.linking`: the authorization-code flow with a loopback redirect listener.
* :mod:`connector.auth.locks`: per-credential locks behind the :class:`CredentialLocks` protocol.
"""

from connector.auth.locks import CredentialLocks, FileCredentialLocks
from connector.auth.oauth2 import CredentialAuth
from connector.auth.profile import OAuthProfile
from connector.auth.secret_store import (
    EncryptedFileStore,
    KeyringStore,
    PlainFileStore,
    SecretStore,
    client_secret,
    client_secret_env,
    client_secret_key,
    open_secret_store,
    set_client_secret,
)
from connector.auth.tokens import TokenSet, delete_tokens, load_tokens, save_tokens, tokens_key

__all__ = [
    "CredentialAuth",
    "CredentialLocks",
    "EncryptedFileStore",
    "FileCredentialLocks",
    "KeyringStore",
    "OAuthProfile",
    "PlainFileStore",
    "SecretStore",
    "TokenSet",
    "client_secret",
    "client_secret_env",
    "client_secret_key",
    "delete_tokens",
    "load_tokens",
    "open_secret_store",
    "save_tokens",
    "set_client_secret",
    "tokens_key",
]
