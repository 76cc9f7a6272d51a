"""Configuration of the built-in Whatfix server: the run settings and the demo accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from whatfix_data.windows import today_for

DEFAULT_USERS = 2000
DEFAULT_SEED = 7
MIN_SECONDARY_USERS = 200
SECONDARY_USER_SHARE = 5  # the second account has users // 5 users (at least MIN_SECONDARY_USERS)
SECONDARY_SEED_OFFSET = 1009  # a different seed gives the second account different data
EARLIEST_TODAY = date(3, 1, 1)  # the 730-day history must stay within representable dates


@dataclass(frozen=True)
class DemoAccount:
    """Credentials of one account served by the built-in server."""

    account_id: str
    integration_key: str
    user_email: str


# Position matters: [0] is the primary account (`users` users), [1] a smaller account with other
# data, [2] an account with no users, no content and no segments.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("acme-demo", "wf-demo-key-acme", "pm@acme.example"),
    DemoAccount("globex-demo", "wf-demo-key-globex", "analyst@globex.example"),
    DemoAccount("empty-demo", "wf-demo-key-empty", "nobody@empty.example"),
)

PROFILE_PRIMARY = "primary"
PROFILE_SECONDARY = "secondary"
PROFILE_EMPTY = "empty"


@dataclass
class SimulatorConfig:
    """Settings of one built-in server run; the data is deterministic for (seed, users, today)."""

    seed: int = DEFAULT_SEED
    users: int = DEFAULT_USERS
    today: date = field(default_factory=today_for)
    latency_ms: int = 0  # time every /api/v1 response takes, its handling included
    fault_rate: float = 0.0
    rate_limit: float = 0.0  # requests per second per account, 429 + Retry-After above (0: off)
    accounts: list[DemoAccount] | tuple[DemoAccount, ...] | None = None

    def __post_init__(self) -> None:
        if self.users < 0:
            raise ValueError("users must be >= 0")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.rate_limit < 0:
            raise ValueError("rate_limit must be >= 0")
        if self.today < EARLIEST_TODAY:
            raise ValueError(f"today must be {EARLIEST_TODAY} or later (two years of history)")

    def resolved_accounts(self) -> list[DemoAccount]:
        """The accounts to serve: the configured ones or DEMO_ACCOUNTS."""
        accounts = list(self.accounts) if self.accounts else list(DEMO_ACCOUNTS)
        ids = [a.account_id for a in accounts]
        keys = [a.integration_key for a in accounts]
        if len(set(ids)) != len(ids) or len(set(keys)) != len(keys):
            raise ValueError("account ids and integration keys must be unique")
        return accounts


@dataclass(frozen=True)
class AccountProfile:
    """How much and which data one account gets."""

    account: DemoAccount
    kind: str
    users: int
    seed: int


def account_profiles(config: SimulatorConfig) -> list[AccountProfile]:
    """One profile per served account, by position: primary, secondary, then empty accounts."""
    profiles = []
    for index, account in enumerate(config.resolved_accounts()):
        if index == 0:
            profiles.append(AccountProfile(account, PROFILE_PRIMARY, config.users, config.seed))
        elif index == 1:
            users = max(MIN_SECONDARY_USERS, config.users // SECONDARY_USER_SHARE)
            seed = config.seed + SECONDARY_SEED_OFFSET
            profiles.append(AccountProfile(account, PROFILE_SECONDARY, users, seed))
        else:
            profiles.append(AccountProfile(account, PROFILE_EMPTY, 0, config.seed))
    return profiles
