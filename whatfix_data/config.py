"""Settings of the data layer: Streamlit-style secrets first, then WHATFIX_* environment variables.

Every setting has a name; its secrets key is that name inside the `[whatfix]` table and its
environment variable is `WHATFIX_` + the name in upper case (e.g. `max_concurrency` ->
`WHATFIX_MAX_CONCURRENCY`). With no credentials at all, `load_settings` returns demo settings
(the built-in server, see `whatfix_data.demo`). The integration key is only ever exposed through
`Settings.integration_key`; `repr`, `str` and the cache scope show a sha256 fingerprint instead.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from whatfix_data.errors import ConfigurationError

DEFAULT_BASE_URL = "https://whatfix.com/api/v1"
DEFAULT_MAX_CONCURRENCY = 8
MAX_CONCURRENCY_LIMIT = 64
DEFAULT_TTL_TODAY_S = 15 * 60
DEFAULT_TTL_LISTS_S = 60 * 60
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_S = 0.3
DEFAULT_CREDENTIAL_CHECK_S = 300
FINGERPRINT_CHARS = 16
SECRETS_TABLE = "whatfix"
ENV_PREFIX = "WHATFIX_"
CACHE_DIR_NAME = "whatfix-dashboard"
CACHE_FILE_NAME = "http_cache.sqlite"
CREDENTIAL_FIELDS = ("account_id", "integration_key", "user")
# Cache specifiers that are not a SQLite path.
CACHE_MEMORY = "memory"
CACHE_OFF = "off"
# Delivery (alerts and scheduled reports): SMTP and webhook. The password and the webhook URL
# (Slack-style URLs are credentials) are repr=False and never appear in a message or log.
SMTP_SECURITY = ("starttls", "tls", "none")
DEFAULT_SMTP_PORT = 587
DEFAULT_SMTP_SECURITY = "starttls"
DEFAULT_WEBHOOK_TIMEOUT_S = 10.0
STORE_FILE_NAME = "whatfix_store.sqlite"
# Best/worst flow lists rank only flows with at least this many views (a 100 % rate on 3 views
# says little); shown on the Overview.
DEFAULT_MIN_VIEWS = 20


def default_cache_path(env: Mapping[str, str] | None = None) -> Path:
    """The SQLite cache file under the user's cache folder ($XDG_CACHE_HOME or ~/.cache)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / CACHE_DIR_NAME / CACHE_FILE_NAME


def fingerprint(secret: str) -> str:
    """Short sha256 hex digest of a secret: the only form of the key used in cache keys."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one Whatfix account; `repr` hides the integration key."""

    base_url: str
    account_id: str
    integration_key: str = field(repr=False)
    user: str
    cache: str
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    ttl_today_s: int = DEFAULT_TTL_TODAY_S
    ttl_lists_s: int = DEFAULT_TTL_LISTS_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    demo: bool = False
    retries: int = DEFAULT_RETRIES
    backoff_s: float = DEFAULT_BACKOFF_S
    credential_check_s: int = DEFAULT_CREDENTIAL_CHECK_S
    # An override of "today" (UTC) for reproducible demos and tests: the boundary of windows that
    # never expire, the dashboard's date presets, the demo server's last day. None = the real day.
    today: date | None = None
    # ----- delivery and the per-account store (targets, sent alerts) -------------------------
    # store: a SQLite path, redis://..., or "memory"; "" = beside the cache (see store_spec).
    store: str = ""
    smtp_host: str = ""
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_security: str = DEFAULT_SMTP_SECURITY
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    alert_email: str = ""
    alert_webhook: str = field(default="", repr=False)
    webhook_timeout_s: float = DEFAULT_WEBHOOK_TIMEOUT_S
    min_views: int = DEFAULT_MIN_VIEWS

    @property
    def store_spec(self) -> str:
        """Where targets and the alert sent-log live: the `store` setting, else the cache's Redis
        when the cache is redis://, else a SQLite file in the cache's folder."""
        if self.store:
            return self.store
        cache = self.cache.strip()
        if cache.startswith(("redis://", "rediss://", "unix://")):
            return cache
        folder = (default_cache_path().parent if cache in (CACHE_MEMORY, CACHE_OFF)
                  else Path(cache).expanduser().parent)
        return str(folder / STORE_FILE_NAME)

    @property
    def store_scope(self) -> str:
        """The account's key in the store: base URL and account id (targets survive a new
        integration key); the demo account's port changes per process, so it is left out."""
        return f"demo|{self.account_id}" if self.demo else f"{self.base_url}|{self.account_id}"

    @property
    def key_fingerprint(self) -> str:
        """Short sha256 of the integration key."""
        return fingerprint(self.integration_key)

    @property
    def cache_scope(self) -> str:
        """Base URL, account and key fingerprint: part of every cache key (HTTP and Streamlit)."""
        return f"{self.base_url}|{self.account_id}|{self.key_fingerprint}"

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr
        )
        return f"Settings({shown}, key_fingerprint={self.key_fingerprint!r})"

    __str__ = __repr__

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated like the original)."""
        return _validated(replace(self, **changes))


# name -> (type, default). Defaults that depend on the environment are filled in later.
_SPEC: dict[str, tuple[type, Any]] = {
    "base_url": (str, DEFAULT_BASE_URL),
    "account_id": (str, ""),
    "integration_key": (str, ""),
    "user": (str, ""),
    "cache": (str, None),
    "max_concurrency": (int, DEFAULT_MAX_CONCURRENCY),
    "ttl_today_s": (int, DEFAULT_TTL_TODAY_S),
    "ttl_lists_s": (int, DEFAULT_TTL_LISTS_S),
    "connect_timeout_s": (float, DEFAULT_CONNECT_TIMEOUT_S),
    "read_timeout_s": (float, DEFAULT_READ_TIMEOUT_S),
    "retries": (int, DEFAULT_RETRIES),
    "backoff_s": (float, DEFAULT_BACKOFF_S),
    "credential_check_s": (int, DEFAULT_CREDENTIAL_CHECK_S),
    "today": (date, None),
    "store": (str, ""),
    "smtp_host": (str, ""),
    "smtp_port": (int, DEFAULT_SMTP_PORT),
    "smtp_security": (str, DEFAULT_SMTP_SECURITY),
    "smtp_user": (str, ""),
    "smtp_password": (str, ""),
    "smtp_from": (str, ""),
    "alert_email": (str, ""),
    "alert_webhook": (str, ""),
    "webhook_timeout_s": (float, DEFAULT_WEBHOOK_TIMEOUT_S),
    "min_views": (int, DEFAULT_MIN_VIEWS),
}
SECRET_SETTINGS = ("integration_key", "smtp_password", "alert_webhook")


def _secrets_table(secrets: Mapping | None) -> Mapping:
    """The `[whatfix]` table of a secrets mapping (st.secrets or a parsed TOML), or {}."""
    if secrets is None:
        return {}
    try:
        table = secrets.get(SECRETS_TABLE) if hasattr(secrets, "get") else secrets[SECRETS_TABLE]
    except Exception:  # st.secrets raises its own error types when no secrets file exists
        return {}
    return table if isinstance(table, Mapping) else {}


def _convert_date(raw: Any, source: str) -> date:
    """A date from TOML (already a date) or text in ISO form (YYYY-MM-DD)."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ConfigurationError(
            f"{source} must be a date in the form YYYY-MM-DD, got {raw!r}."
        ) from None


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = _SPEC[name][0]
    if kind is date:
        return _convert_date(raw, source)
    if isinstance(raw, kind) and not isinstance(raw, bool):
        return raw.strip() if isinstance(raw, str) else raw
    try:
        return kind(str(raw).strip())
    except ValueError:
        raise ConfigurationError(
            f"{source} must be a {'number' if kind is not str else 'text'}, got {raw!r}."
            if name not in SECRET_SETTINGS
            else f"{source} is not valid text."
        ) from None


def collect(secrets: Mapping | None = None, env: Mapping[str, str] | None = None) -> dict:
    """Raw values per setting: the secrets table wins over the environment, then defaults."""
    env = os.environ if env is None else env
    table = _secrets_table(secrets)
    values: dict[str, Any] = {}
    for name, (_kind, default) in _SPEC.items():
        env_name = ENV_PREFIX + name.upper()
        if table.get(name) not in (None, ""):
            values[name] = _convert(name, table[name], f"[{SECRETS_TABLE}] {name}")
        elif env.get(env_name, "") != "":
            values[name] = _convert(name, env[env_name], env_name)
        else:
            values[name] = default
    if values["cache"] is None:
        values["cache"] = str(default_cache_path(env))
    return values


def has_credentials(secrets: Mapping | None = None, env: Mapping[str, str] | None = None) -> bool:
    """True when any of account id, integration key or user is configured."""
    values = collect(secrets, env)
    return any(values[name] for name in CREDENTIAL_FIELDS)


def _validated(settings: Settings) -> Settings:
    if not settings.base_url.startswith(("http://", "https://")):
        raise ConfigurationError(
            "WHATFIX_BASE_URL must start with http:// or https:// "
            f"(e.g. {DEFAULT_BASE_URL})."
        )
    if not 1 <= settings.max_concurrency <= MAX_CONCURRENCY_LIMIT:
        raise ConfigurationError(
            f"WHATFIX_MAX_CONCURRENCY must be between 1 and {MAX_CONCURRENCY_LIMIT}."
        )
    for name in ("ttl_today_s", "ttl_lists_s", "connect_timeout_s", "read_timeout_s"):
        if getattr(settings, name) <= 0:
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()} must be positive.")
    if settings.retries < 0 or settings.backoff_s < 0 or settings.credential_check_s < 0:
        raise ConfigurationError(
            "WHATFIX_RETRIES, WHATFIX_BACKOFF_S and WHATFIX_CREDENTIAL_CHECK_S must not be "
            "negative."
        )
    return _validated_delivery(settings)


def _validated_delivery(settings: Settings) -> Settings:
    """The delivery block: SMTP security mode and port, webhook scheme and timeout."""
    if settings.smtp_security not in SMTP_SECURITY:
        raise ConfigurationError(
            f"WHATFIX_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)} "
            "(starttls: port 587, tls: port 465)."
        )
    if not 1 <= settings.smtp_port <= 65535:
        raise ConfigurationError("WHATFIX_SMTP_PORT must be between 1 and 65535.")
    if settings.min_views < 0:
        raise ConfigurationError("WHATFIX_MIN_VIEWS must not be negative.")
    if settings.webhook_timeout_s <= 0:
        raise ConfigurationError("WHATFIX_WEBHOOK_TIMEOUT_S must be positive.")
    if settings.alert_webhook and not settings.alert_webhook.startswith(("http://", "https://")):
        raise ConfigurationError("WHATFIX_ALERT_WEBHOOK must start with http:// or https://.")
    return settings


def settings_from_values(values: Mapping[str, Any], *, demo: bool = False) -> Settings:
    """Build validated Settings from `collect()` output (credentials must be complete)."""
    missing = [name for name in CREDENTIAL_FIELDS if not values.get(name)]
    if missing:
        env_names = ", ".join(ENV_PREFIX + name.upper() for name in missing)
        raise ConfigurationError(
            f"Incomplete Whatfix credentials: set {env_names} (or {', '.join(missing)} in the "
            f"[{SECRETS_TABLE}] secrets), or remove all of them to use the demo account."
        )
    known = {f.name for f in fields(Settings)}
    kwargs = {k: v for k, v in values.items() if k in known}
    kwargs["base_url"] = str(kwargs["base_url"]).rstrip("/")
    return _validated(Settings(**kwargs, demo=demo))


def load_settings(secrets: Mapping | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve the settings: secrets `[whatfix]` table, then WHATFIX_* env vars, then defaults.

    With no credentials at all this returns `whatfix_data.demo.demo_settings(env)`: the built-in
    server on a loopback port, used through exactly the same client code as a real account.
    """
    values = collect(secrets, env)
    if not any(values[name] for name in CREDENTIAL_FIELDS):
        from whatfix_data.demo import demo_settings  # lazy: starts a server only when needed

        return demo_settings(env)
    return settings_from_values(values)


def read_secrets_file(paths: list[Path] | None = None) -> dict:
    """Parse the first existing Streamlit secrets file (for the CLI, to match the app).

    Default search order is Streamlit's: ./.streamlit/secrets.toml, then ~/.streamlit/secrets.toml.
    """
    candidates = paths or [
        Path.cwd() / ".streamlit" / "secrets.toml",
        Path.home() / ".streamlit" / "secrets.toml",
    ]
    for path in candidates:
        if path.is_file():
            try:
                return tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigurationError(
                    f"The secrets file {path} could not be read ({type(exc).__name__})."
                ) from None
    return {}
