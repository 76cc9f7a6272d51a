"""Settings resolution: secrets first, then WHATFIX_* env, defaults; the key never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatfix_data.config import (
    DEFAULT_BASE_URL,
    Settings,
    allowed_connect_base_urls,
    fingerprint,
    has_credentials,
    load_settings,
    normalise_base_url,
    read_secrets_file,
)
from whatfix_data.errors import ConfigurationError

KEY = "sk-live-very-secret-0123456789"
CREDS_ENV = {
    "WHATFIX_ACCOUNT_ID": "env-account",
    "WHATFIX_INTEGRATION_KEY": KEY,
    "WHATFIX_USER": "env@example.com",
    "HOME": "/home/someone",
}


def test_environment_only_uses_documented_defaults() -> None:
    settings = load_settings(None, CREDS_ENV)
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.account_id == "env-account"
    assert settings.user == "env@example.com"
    assert settings.max_concurrency == 8
    assert (settings.ttl_today_s, settings.ttl_lists_s) == (900, 3600)
    assert settings.cache == "/home/someone/.cache/whatfix-dashboard/http_cache.sqlite"
    assert settings.demo is False


def test_secrets_table_wins_over_environment() -> None:
    secrets = {"whatfix": {"account_id": "sec-account", "integration_key": "sec-key",
                           "user": "sec@example.com", "base_url": "https://eu.whatfix.com/api/v1/"}}
    settings = load_settings(secrets, CREDS_ENV)
    assert settings.account_id == "sec-account"
    assert settings.integration_key == "sec-key"
    assert settings.user == "sec@example.com"
    assert settings.base_url == "https://eu.whatfix.com/api/v1"  # trailing slash removed


def test_environment_fills_what_the_secrets_leave_out() -> None:
    settings = load_settings({"whatfix": {"account_id": "sec-account"}},
                             {**CREDS_ENV, "WHATFIX_MAX_CONCURRENCY": "3"})
    assert settings.account_id == "sec-account"
    assert settings.integration_key == KEY
    assert settings.max_concurrency == 3


def test_ttls_timeouts_and_cache_are_configurable() -> None:
    env = {**CREDS_ENV, "WHATFIX_TTL_TODAY_S": "60", "WHATFIX_TTL_LISTS_S": "120",
           "WHATFIX_CONNECT_TIMEOUT_S": "2.5", "WHATFIX_CACHE": "memory",
           "WHATFIX_CREDENTIAL_CHECK_S": "10"}
    settings = load_settings(None, env)
    assert (settings.ttl_today_s, settings.ttl_lists_s) == (60, 120)
    assert settings.connect_timeout_s == 2.5
    assert settings.cache == "memory"
    assert settings.credential_check_s == 10


def test_xdg_cache_home_is_honoured() -> None:
    settings = load_settings(None, {**CREDS_ENV, "XDG_CACHE_HOME": "/var/cache/me"})
    assert settings.cache == "/var/cache/me/whatfix-dashboard/http_cache.sqlite"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WHATFIX_MAX_CONCURRENCY", "eight", "WHATFIX_MAX_CONCURRENCY must be a number"),
        ("WHATFIX_MAX_CONCURRENCY", "0", "between 1 and 64"),
        ("WHATFIX_TTL_TODAY_S", "-5", "WHATFIX_TTL_TODAY_S must be positive"),
        ("WHATFIX_BASE_URL", "whatfix.com/api/v1", "must start with http"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        load_settings(None, {**CREDS_ENV, name: value})


def test_incomplete_credentials_say_what_is_missing_without_the_key() -> None:
    env = {"WHATFIX_INTEGRATION_KEY": KEY, "HOME": "/h"}
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None, env)
    message = caught.value.user_message
    assert "WHATFIX_ACCOUNT_ID" in message and "WHATFIX_USER" in message
    assert KEY not in message
    assert has_credentials(None, env)
    assert not has_credentials(None, {"HOME": "/h"})


def test_repr_str_and_cache_scope_never_contain_the_key() -> None:
    settings = load_settings(None, CREDS_ENV)
    for text in (repr(settings), str(settings), settings.cache_scope, f"{settings}"):
        assert KEY not in text
    assert settings.key_fingerprint in repr(settings)
    assert settings.cache_scope == (
        f"{DEFAULT_BASE_URL}|env-account|{fingerprint(KEY + chr(10) + 'env@example.com')}"
    )
    assert "env@example.com" not in settings.cache_scope, "the user is fingerprinted too"
    assert len(settings.key_fingerprint) == 16


def test_fingerprint_separates_keys_users_and_accounts() -> None:
    one = load_settings(None, CREDS_ENV)
    other_key = one.with_changes(integration_key=KEY + "x")
    other_account = one.with_changes(account_id="another")
    other_user = one.with_changes(user="someone-else@example.com")
    # The key and the user are one credential: moving text from one to the other is another scope.
    shifted = one.with_changes(integration_key=KEY + "env", user="@example.com")
    scopes = {s.cache_scope for s in (one, other_key, other_account, other_user, shifted)}
    assert len(scopes) == 5


def test_secrets_object_that_raises_counts_as_no_secrets() -> None:
    class MissingSecrets:
        """Behaves like st.secrets when no secrets.toml exists."""

        def get(self, _name: str) -> None:
            raise FileNotFoundError("No secrets found")

    settings = load_settings(MissingSecrets(), CREDS_ENV)  # type: ignore[arg-type]
    assert settings.account_id == "env-account"


def test_secrets_file_is_read_like_streamlit(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[whatfix]\naccount_id = "toml-account"\nintegration_key = "k"\n'
                       'user = "t@example.com"\n', encoding="utf-8")
    parsed = read_secrets_file([tmp_path / "absent.toml", secrets])
    settings = load_settings(parsed, {"HOME": "/h"})
    assert settings.account_id == "toml-account"
    assert read_secrets_file([tmp_path / "absent.toml"]) == {}


def test_broken_secrets_file_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "secrets.toml"
    broken.write_text("[whatfix\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="could not be read"):
        read_secrets_file([broken])


def test_settings_is_immutable() -> None:
    settings = load_settings(None, CREDS_ENV)
    with pytest.raises(AttributeError):
        settings.account_id = "x"  # type: ignore[misc]
    assert isinstance(settings, Settings)


def test_no_credentials_at_all_is_an_error_that_names_what_to_set(tmp_path: Path) -> None:
    # Demo mode is the entry points' decision (whatfix_data.session), not the settings' reader's.
    with pytest.raises(ConfigurationError) as raised:
        load_settings(None, {"HOME": str(tmp_path), "WHATFIX_MAX_CONCURRENCY": "4"})
    message = raised.value.user_message
    for name in ("WHATFIX_ACCOUNT_ID", "WHATFIX_INTEGRATION_KEY", "WHATFIX_USER", "[whatfix]"):
        assert name in message


def test_today_override_from_env_or_secrets() -> None:
    from datetime import date

    assert load_settings(None, CREDS_ENV).today is None  # the real day by default
    env = {**CREDS_ENV, "WHATFIX_TODAY": "2026-11-27"}
    assert load_settings(None, env).today == date(2026, 11, 27)
    toml_date = {"whatfix": {"today": date(2025, 1, 31)}}  # TOML dates arrive as dates
    assert load_settings(toml_date, env).today == date(2025, 1, 31)
    with pytest.raises(ConfigurationError, match="WHATFIX_TODAY must be a date"):
        load_settings(None, {**CREDS_ENV, "WHATFIX_TODAY": "27/11/2026"})


# --- connection form settings (issue 9) ---------------------------------------------------------


@given(word=st.sampled_from(["true", "TRUE", " yes", "On", "1"]))
def test_connect_form_is_on_by_default_and_read_from_words(word: str) -> None:
    assert load_settings(None, CREDS_ENV).connect_form is True
    assert load_settings(None, {**CREDS_ENV, "WHATFIX_CONNECT_FORM": word}).connect_form is True
    off = word.replace("true", "false").replace("TRUE", "FALSE").replace("yes", "no")
    off = {"On": "Off", "1": "0"}.get(off, off)
    assert load_settings(None, {**CREDS_ENV, "WHATFIX_CONNECT_FORM": off}).connect_form is False


def test_connect_form_takes_a_toml_bool_and_refuses_other_words() -> None:
    secrets = {"whatfix": {"connect_form": False}}
    assert load_settings(secrets, CREDS_ENV).connect_form is False
    with pytest.raises(ConfigurationError, match="WHATFIX_CONNECT_FORM must be true or false"):
        load_settings(None, {**CREDS_ENV, "WHATFIX_CONNECT_FORM": "maybe"})


def test_connect_base_urls_default_to_the_configured_and_official_hosts() -> None:
    configured = load_settings(None, {**CREDS_ENV, "WHATFIX_BASE_URL": "https://EU.Example/api/"})
    assert allowed_connect_base_urls(configured) == ("https://eu.example/api", DEFAULT_BASE_URL)
    assert allowed_connect_base_urls(load_settings(None, CREDS_ENV)) == (DEFAULT_BASE_URL,)


def test_connect_base_urls_when_listed_replace_the_default() -> None:
    env = {**CREDS_ENV, "WHATFIX_CONNECT_BASE_URLS": " http://a.test/v1/ ,https://b.test/api,, "}
    assert allowed_connect_base_urls(load_settings(None, env)) == (
        "http://a.test/v1", "https://b.test/api")
    with pytest.raises(ConfigurationError, match="WHATFIX_CONNECT_BASE_URLS"):
        load_settings(None, {**CREDS_ENV, "WHATFIX_CONNECT_BASE_URLS": "a.test, https://b.test"})


@given(path=st.text(alphabet="aB/.-", max_size=12), slashes=st.integers(0, 3))
def test_normalised_urls_ignore_host_case_and_end_slashes(path: str, slashes: int) -> None:
    url = f"https://api.example/{path}"
    spelled = f"HTTPS://API.Example/{path}" + "/" * slashes
    assert normalise_base_url(spelled) == normalise_base_url(url)
    assert normalise_base_url(normalise_base_url(url)) == normalise_base_url(url)
    if path.rstrip("/") != path.rstrip("/").lower():  # the path is case-sensitive: kept as typed
        assert normalise_base_url(url.lower()) != normalise_base_url(url)


def test_min_flow_views_is_a_setting_of_at_least_one():
    from whatfix_data.config import DEFAULT_MIN_FLOW_VIEWS, collect, settings_from_values

    env = {"WHATFIX_ACCOUNT_ID": "a", "WHATFIX_INTEGRATION_KEY": "k", "WHATFIX_USER": "u@x.io",
           "WHATFIX_CACHE": "memory"}
    assert settings_from_values(collect(env=env)).min_flow_views == DEFAULT_MIN_FLOW_VIEWS == 100
    assert settings_from_values(collect(env={**env, "WHATFIX_MIN_FLOW_VIEWS": "250"})
                                ).min_flow_views == 250
    with pytest.raises(ConfigurationError, match="WHATFIX_MIN_FLOW_VIEWS must be at least 1"):
        settings_from_values(collect(env={**env, "WHATFIX_MIN_FLOW_VIEWS": "0"}))
