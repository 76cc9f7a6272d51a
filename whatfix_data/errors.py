"""The one exception hierarchy of the data layer; every message is safe to show to a PM.

Each exception carries a `user_message` that says what went wrong and what to do about it. No
message ever contains the integration key: callers build messages from settings names and HTTP
status codes only, never from request headers.
"""

from __future__ import annotations

SECRETS_HINT = (
    "Check WHATFIX_INTEGRATION_KEY and WHATFIX_USER (or integration_key and user in the "
    "[whatfix] table of the Streamlit secrets)"
)


class WhatfixError(Exception):
    """Base class: `user_message` is a one-line, actionable text without secrets."""

    default_message = "The Whatfix data could not be loaded."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        status_code: int | None = None,
        operation: str | None = None,
    ) -> None:
        self.user_message = user_message or self.default_message
        self.status_code = status_code
        self.operation = operation
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message


class ConfigurationError(WhatfixError):
    """The settings (secrets or WHATFIX_* environment variables) are incomplete or invalid."""

    default_message = (
        "The Whatfix configuration is invalid. Set WHATFIX_BASE_URL, WHATFIX_ACCOUNT_ID, "
        "WHATFIX_INTEGRATION_KEY and WHATFIX_USER, or the [whatfix] table of the secrets."
    )


class AuthenticationError(WhatfixError):
    """401: the integration key (or the user it belongs to) was rejected."""

    default_message = (
        f"The integration key was rejected (401). {SECRETS_HINT}, and that the key has not "
        "been revoked in the Whatfix dashboard."
    )


class PermissionDeniedError(WhatfixError):
    """403: the key is valid but may not read this resource."""

    default_message = (
        "The integration key has no permission for this data (403). Ask a Whatfix admin to "
        "grant the key access to this account's analytics, or check WHATFIX_ACCOUNT_ID."
    )


class NotFoundError(WhatfixError):
    """404: the account or the endpoint does not exist at this base URL."""

    default_message = (
        "The Whatfix API answered 'not found' (404). Check WHATFIX_ACCOUNT_ID and "
        "WHATFIX_BASE_URL (e.g. https://whatfix.com/api/v1)."
    )


class InvalidRequestError(WhatfixError):
    """400: the API refused the request parameters or body."""

    default_message = (
        "The Whatfix API refused the request (400). Check the dates (start before end) and "
        "the values sent."
    )


class RateLimitedError(WhatfixError):
    """429 still returned after the retries."""

    default_message = (
        "The Whatfix API is rate limiting this key (429) and retries did not help. Wait a "
        "minute and reload, or lower WHATFIX_MAX_CONCURRENCY."
    )


class ApiUnavailableError(WhatfixError):
    """5xx, timeouts or dropped connections after the retries, and no cached copy to serve."""

    default_message = (
        "The Whatfix API is unavailable (server errors or no connection after several retries) "
        "and no cached copy exists. Try again in a few minutes or check WHATFIX_BASE_URL."
    )


class CacheUnavailableError(WhatfixError):
    """The HTTP cache backend (a shared Redis, or the SQLite file) cannot be read or written."""

    default_message = (
        "The HTTP cache set in WHATFIX_CACHE cannot be reached (a Redis server that is down, or a "
        "SQLite file that cannot be written). Start it again, or set WHATFIX_CACHE to memory or "
        "to another file, and reload."
    )


class BadResponseError(WhatfixError):
    """The body is not JSON, or not the shape the API contract describes."""

    default_message = (
        "The Whatfix API sent a response this dashboard cannot read (not JSON, or not the "
        "documented shape). Try again later; if it persists, report it to Whatfix support."
    )


class IncompleteDataError(WhatfixError):
    """Pagination did not add up (rows != totalCount, duplicates, or a total that kept moving)."""

    default_message = (
        "The list changed while it was being downloaded and did not settle after several "
        "attempts, so no partial numbers are shown. Reload in a minute."
    )


class FetchTimeoutError(ApiUnavailableError):
    """A dataset was still loading when its deadline (WHATFIX_FETCH_DEADLINE_S) passed."""

    default_message = (
        "The Whatfix API answered too slowly: the data was still loading when "
        "WHATFIX_FETCH_DEADLINE_S ran out, so it was stopped and nothing partial is shown. Try "
        "again later, or raise WHATFIX_FETCH_DEADLINE_S."
    )


class FetchCancelledError(WhatfixError):
    """The caller abandoned the fetch (cancel token set, e.g. the filters changed)."""

    default_message = "The data load was cancelled before it finished."


class TooLargeError(WhatfixError):
    """The API claims more rows than WHATFIX_MAX_ROWS allows: refused before the pages are sent."""

    default_message = (
        "The Whatfix API claims more rows than WHATFIX_MAX_ROWS allows, so they were not "
        "downloaded. If the account really is that large, raise WHATFIX_MAX_ROWS."
    )
