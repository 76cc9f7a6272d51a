"""Settings of the data layer: Streamlit-style secrets first, then WHATFIX_* environment variables.

Every setting has a name; its secrets key is that name inside the `[whatfix]` table and its
environment variable is `WHATFIX_` + the name in upper case (e.g. `max_concurrency` ->
`WHATFIX_MAX_CONCURRENCY`). Reading settings never starts anything: with no credentials at all
the entry points (app.py, each CLI command) start the built-in server themselves through
`whatfix_data.session.open_session`; this module knows nothing of it. The integration key is only
ever exposed through `Settings.integration_key`; `repr`, `str` and the cache scope show a sha256
fingerprint instead.
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
from urllib.parse import urlsplit, urlunsplit

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
# ----- bounds of one dataset fetch (issue 12): what a response may order the client to do -----
# The largest list of a 1,000,000-user account: task completion, one row per user and task list
# (up to five task lists each).
DEFAULT_MAX_ROWS = 5_000_000
# Wall-clock budget of one dataset fetch (all its pages, retries and waits included).
DEFAULT_FETCH_DEADLINE_S = 600.0
FINGERPRINT_CHARS = 16
# ---- analytics settings (how numbers are ranked and shown; one block, one constant each)
# Best/worst flow lists and the completion-rate chart rank only flows with this many views.
DEFAULT_MIN_FLOW_VIEWS = 100
SECRETS_TABLE = "whatfix"
ENV_PREFIX = "WHATFIX_"
CACHE_DIR_NAME = "whatfix-dashboard"
CACHE_FILE_NAME = "http_cache.sqlite"
CREDENTIAL_FIELDS = ("account_id", "integration_key", "user")
# Cache specifiers that are not a SQLite path.
CACHE_MEMORY = "memory"
CACHE_OFF = "off"
# --- connection form (issue 9): who may use the sidebar's "Connect an account", and where to.
DEFAULT_CONNECT_FORM = True
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

# ---- Upload limits (User Sync page and `sync-users`): a file past one is refused before parsing.
# A valid file maps at most 50 attributes + userId, email and name (53 columns); the default
# leaves room for columns an export carries that are ignored, and refuses a 10,000-column file.
DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_UPLOAD_ROWS = 250_000
DEFAULT_MAX_UPLOAD_COLUMNS = 120
# XLSX is a ZIP: the members together may inflate to this many bytes, and each member to at most
# this many times its compressed size (sheet XML compresses 5-30x; a zip bomb, 300x and more).
DEFAULT_MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_ZIP_RATIO = 100
UPLOAD_LIMIT_FIELDS = ("max_upload_bytes", "max_upload_rows", "max_upload_columns",
                       "max_unzipped_bytes", "max_zip_ratio")
# Delivery (alerts and scheduled reports): SMTP and webhook. The password and the webhook URL
# (Slack-style URLs are credentials) are repr=False and never appear in a message or log.
SMTP_SECURITY = ("starttls", "tls", "none")
DEFAULT_SMTP_PORT = 587
DEFAULT_SMTP_SECURITY = "starttls"
DEFAULT_WEBHOOK_TIMEOUT_S = 10.0
STORE_FILE_NAME = "whatfix_store.sqlite"


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
    # Fetch bounds (issue 12): a totalCount above max_rows is refused before its pages are
    # requested; a dataset still loading after fetch_deadline_s seconds is stopped.
    max_rows: int = DEFAULT_MAX_ROWS
    fetch_deadline_s: float = DEFAULT_FETCH_DEADLINE_S
    # An override of "today" (UTC) for reproducible demos and tests: the boundary of windows that
    # never expire, the dashboard's date presets, the demo server's last day. None = the real day.
    today: date | None = None
    # --- connection form (issue 9). `connect_base_urls`: comma-separated URLs the form may use
    # ("" = this base_url and DEFAULT_BASE_URL, see `allowed_connect_base_urls`).
    connect_form: bool = DEFAULT_CONNECT_FORM
    connect_base_urls: str = ""
    # ---- analytics settings
    min_flow_views: int = DEFAULT_MIN_FLOW_VIEWS
    # 1: the app fetches the default views in the background when it starts (see `warm`); 0: not.
    warm_on_start: int = 1
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
    def credential_fingerprint(self) -> str:
        """Short sha256 of the key together with the user: the two headers are one credential."""
        return fingerprint(f"{self.integration_key}\n{self.user}")  # no header holds a newline

    @property
    def cache_scope(self) -> str:
        """Base URL, account and a fingerprint of key + user: part of every cache key.

        The user is part of it: the API accepts a key only with its own user, so a client (or a
        cached answer) verified for one user must never be reused for another.
        """
        return f"{self.base_url}|{self.account_id}|{self.credential_fingerprint}"

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
    "max_rows": (int, DEFAULT_MAX_ROWS),
    "fetch_deadline_s": (float, DEFAULT_FETCH_DEADLINE_S),
    "today": (date, None),
    # --- connection form (issue 9)
    "connect_form": (bool, DEFAULT_CONNECT_FORM),
    "connect_base_urls": (str, ""),
    "max_upload_bytes": (int, DEFAULT_MAX_UPLOAD_BYTES),
    "max_upload_rows": (int, DEFAULT_MAX_UPLOAD_ROWS),
    "max_upload_columns": (int, DEFAULT_MAX_UPLOAD_COLUMNS),
    "max_unzipped_bytes": (int, DEFAULT_MAX_UNZIPPED_BYTES),
    "max_zip_ratio": (int, DEFAULT_MAX_ZIP_RATIO),
    # ---- analytics settings
    "min_flow_views": (int, DEFAULT_MIN_FLOW_VIEWS),
    "warm_on_start": (int, 1),
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


def _convert_bool(raw: Any, source: str) -> bool:
    """A switch from TOML (already a bool) or text: true/false, yes/no, on/off, 1/0."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ConfigurationError(f"{source} must be true or false, got {raw!r}.")


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = _SPEC[name][0]
    if kind is date:
        return _convert_date(raw, source)
    if kind is bool:
        return _convert_bool(raw, source)
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
    for name in ("ttl_today_s", "ttl_lists_s", "connect_timeout_s", "read_timeout_s",
                 "max_rows", "fetch_deadline_s"):
        if getattr(settings, name) <= 0:
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()} must be positive.")
    if settings.retries < 0 or settings.backoff_s < 0 or settings.credential_check_s < 0:
        raise ConfigurationError(
            "WHATFIX_RETRIES, WHATFIX_BACKOFF_S and WHATFIX_CREDENTIAL_CHECK_S must not be "
            "negative."
        )
    for url in _split_urls(settings.connect_base_urls):
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(
                "WHATFIX_CONNECT_BASE_URLS must be a comma-separated list of URLs starting with "
                f"http:// or https:// (e.g. {DEFAULT_BASE_URL})."
            )
    if settings.min_flow_views < 1:
        raise ConfigurationError("WHATFIX_MIN_FLOW_VIEWS must be at least 1.")
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
    if settings.webhook_timeout_s <= 0:
        raise ConfigurationError("WHATFIX_WEBHOOK_TIMEOUT_S must be positive.")
    if settings.alert_webhook and not settings.alert_webhook.startswith(("http://", "https://")):
        raise ConfigurationError("WHATFIX_ALERT_WEBHOOK must start with http:// or https://.")
    return settings


# --- connection form (issue 9): the base URLs a visitor may type into "Connect an account".


def _split_urls(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def normalise_base_url(url: str) -> str:
    """A base URL in one spelling: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"),
                       parts.query, parts.fragment))


def allowed_connect_base_urls(settings: Settings) -> tuple[str, ...]:
    """The base URLs the connection form may send credentials to (normalised, in order).

    `connect_base_urls` when set; else the configured `base_url` (the demo server's in demo mode)
    and the official Whatfix API. Nothing else: a visitor must not point the form at a host of
    their choice.
    """
    listed = _split_urls(settings.connect_base_urls) or [settings.base_url, DEFAULT_BASE_URL]
    return tuple(dict.fromkeys(normalise_base_url(url) for url in listed))


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

    The credentials must be configured (ConfigurationError otherwise, naming what to set). Demo
    mode, where no credentials are set at all, is the entry points' decision: see
    `whatfix_data.session.open_session`, which starts the built-in server.
    """
    values = collect(secrets, env)
    if not any(values[name] for name in CREDENTIAL_FIELDS):
        env_names = ", ".join(ENV_PREFIX + name.upper() for name in CREDENTIAL_FIELDS)
        raise ConfigurationError(
            f"No Whatfix credentials: set {env_names} (or {', '.join(CREDENTIAL_FIELDS)} in the "
            f"[{SECRETS_TABLE}] secrets). The dashboard and the CLI use the demo account then."
        )
    return settings_from_values(values)


@dataclass(frozen=True)
class UploadLimits:
    """Ceilings of one uploaded user export (see the "Upload limits" block above)."""

    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_upload_rows: int = DEFAULT_MAX_UPLOAD_ROWS
    max_upload_columns: int = DEFAULT_MAX_UPLOAD_COLUMNS
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES
    max_zip_ratio: int = DEFAULT_MAX_ZIP_RATIO


def upload_limits(secrets: Mapping | None = None,
                  env: Mapping[str, str] | None = None) -> UploadLimits:
    """The upload limits from the secrets table, then WHATFIX_* variables, then the defaults.

    Needs no credentials (a file is checked before any account is contacted).
    """
    values = collect(secrets, env)
    limits = UploadLimits(**{name: values[name] for name in UPLOAD_LIMIT_FIELDS})
    for name in UPLOAD_LIMIT_FIELDS:
        if getattr(limits, name) < 1:
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()} must be at least 1.")
    return limits


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
