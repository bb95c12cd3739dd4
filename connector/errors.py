"""One error tree for arconnect, grouped by how the caller reacts.

::

    ArconnectError                  anything arconnect raises on purpose; str() is one clear line
    ├── ConfigError                 the user must fix a setting or a file; never retried
    │   ├── UnknownConnection       a connection name that is not configured
    │   ├── KeyringUnavailable      no usable keyring backend (headless machine)
    │   ├── MissingSecret           a client secret that is neither in the keyring nor the environment
    │   └── RulesError              a broken rules.yaml (carries one line per mistake)
    ├── ReauthRequired              the grant is gone (revoked, expired, rotated away): re-link
    ├── TransientError              may succeed later; retried with bounded back-off
    │   ├── RateLimited             429; carries when to try again
    │   ├── TokenStillValid         the API refused a token the token endpoint calls valid (spurious 401)
    │   ├── ServiceUnavailable      5xx, or a 2xx that is not what the endpoint returns (maintenance page)
    │   └── NetworkError            timeouts, refused or dropped connections, unreachable host
    ├── PermanentError              will fail again the same way; never retried
    │   ├── ApiError                a 4xx other than 401/429, with the package's own message
    │   ├── UnsupportedAction       the package cannot take that action
    │   └── PagingError             a next link or cursor that does not advance (would loop)
    ├── DataError                   a record or a value that does not fit the model
    │   ├── MappingError            one source record that cannot be mapped (goes to quarantine)
    │   └── CurrencyMismatch        arithmetic across currencies
    └── ConcurrencyError            another runner holds the lease of an administration

Messages never contain tokens, codes or secrets: they are built from our own words and the
package's error text only.
"""

from __future__ import annotations

from datetime import datetime


class ArconnectError(Exception):
    """Base of every error arconnect raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ArconnectError):
    exit_code = 2


class UnknownConnection(ConfigError):
    pass


class KeyringUnavailable(ConfigError):
    pass


class MissingSecret(ConfigError):
    pass


class RulesError(ConfigError):
    """A broken rules file; ``problems`` holds one ``file:line:col: field: message`` per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) if self.problems else "invalid rules file")


class ReauthRequired(ArconnectError):
    exit_code = 3


class TransientError(ArconnectError):
    exit_code = 4


class TokenStillValid(TransientError):
    """The API refused an access token that the package's token endpoint will not refresh because it
    is still valid (Exact: "Access Token not expired"): a spurious 401, not a lost grant."""


class RateLimited(TransientError):
    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ServiceUnavailable(TransientError):
    pass


class NetworkError(TransientError):
    pass


class PermanentError(ArconnectError):
    exit_code = 5


class ApiError(PermanentError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class UnsupportedAction(PermanentError):
    pass


class PagingError(PermanentError):
    """A package's next link or sync cursor did not advance: following it again would loop forever."""


class DataError(ArconnectError):
    exit_code = 6


class MappingError(DataError):
    pass


class CurrencyMismatch(DataError):
    pass


class ConcurrencyError(ArconnectError):
    exit_code = 7


class Busy(ConcurrencyError):
    """Another runner (sync or apply, any process or machine) holds the administration's lease.

    A temporary failure: exits like TransientError, but is never retried by the HTTP retry loop.
    """

    exit_code = TransientError.exit_code


class JournalUnchecked(ConcurrencyError):
    """A connection's journal is new and could not be rebuilt from the package's records yet: applying
    now could repeat steps taken before, so nothing is applied until it has (issue 11.2)."""
