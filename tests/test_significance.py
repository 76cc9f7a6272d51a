"""Significance of changes: textbook p-values, the small-sample rule, and properties over random
samples (identical periods never flag; larger samples flag smaller differences)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from whatfix_data import significance as sig


def test_two_proportion_textbook_example():
    # 14 of 40 vs 11 of 50: pooled p = 25/90, z = 1.368, two-sided p = 0.171 (by hand).
    result = sig.rate_change(14, 40, 11, 50, min_trials=1)
    assert result.p_value == pytest.approx(0.1712, abs=1e-3)
    assert not result.significant and result.label == "within noise (p = 0.17)"


def test_two_proportion_equals_uncorrected_chi_square():
    # For a 2x2 table the pooled z-test and Pearson's chi-square (no continuity correction) agree.
    result = sig.rate_change(620, 1000, 560, 1000)
    chi2 = stats.chi2_contingency([[620, 380], [560, 440]], correction=False)
    assert result.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    assert result.significant and result.label == "real change (p < 0.05)"


def test_poisson_textbook_example():
    # 10 vs 20 events over equal time: P(X <= 10 | Bin(30, 1/2)) = 0.0494, two-sided 0.0987.
    result = sig.count_change(10, 20)
    assert result.p_value == pytest.approx(0.0987, abs=1e-4)
    assert not result.significant


def test_poisson_uses_exposure():
    # 60 events in 30 days vs 30 in 15 days is the same rate: no change at all.
    same_rate = sig.count_change(60, 30, exposure_now=30, exposure_before=15)
    assert same_rate.p_value == pytest.approx(1.0)
    assert sig.count_change(60, 30).significant  # the same counts over equal days do differ


def test_small_samples_are_too_few_to_judge():
    result = sig.rate_change(5, 22, 100, 200)
    assert result.verdict == sig.VERDICT_TOO_FEW and result.p_value is None
    assert result.label == "22 views: too few to judge" and not result.significant
    assert sig.count_change(4, 9, noun="views").label == "13 views: too few to judge"


@pytest.mark.parametrize("bad", [None, float("nan"), -3, "abc", float("inf")])
def test_unknown_or_impossible_counts_give_no_verdict(bad):
    assert sig.rate_change(bad, 100, 10, 100) is None
    assert sig.count_change(bad, 100) is None


def test_rate_above_one_hundred_percent_is_capped():
    # A bad row (more completions than views) reads as 100 %, never a crash.
    assert sig.rate_change(150, 100, 100, 100).p_value == pytest.approx(1.0)


counts = st.integers(min_value=0, max_value=200_000)


@settings(max_examples=200, deadline=None)
@given(trials=st.integers(min_value=0, max_value=200_000), data=st.data())
def test_identical_rate_periods_never_flag(trials, data):
    successes = data.draw(st.integers(min_value=0, max_value=trials))
    result = sig.rate_change(successes, trials, successes, trials)
    assert not result.significant


@settings(max_examples=200, deadline=None)
@given(count=counts, days=st.integers(min_value=1, max_value=400))
def test_identical_count_periods_never_flag(count, days):
    result = sig.count_change(count, count, exposure_now=days, exposure_before=days)
    assert not result.significant


@settings(max_examples=200, deadline=None)
@given(trials=st.integers(min_value=30, max_value=5000), data=st.data(),
       factor=st.integers(min_value=2, max_value=50))
def test_larger_rate_samples_flag_smaller_differences(trials, data, factor):
    now = data.draw(st.integers(min_value=0, max_value=trials))
    before = data.draw(st.integers(min_value=0, max_value=trials))
    small = sig.rate_change(now, trials, before, trials)
    large = sig.rate_change(now * factor, trials * factor, before * factor, trials * factor)
    # The same difference in rates on `factor` times the views is at least as convincing.
    assert large.p_value <= small.p_value + 1e-12
    if small.significant:
        assert large.significant


@settings(max_examples=200, deadline=None)
@given(before=st.integers(min_value=20, max_value=20_000),
       lift=st.floats(min_value=0.01, max_value=0.5), factor=st.integers(min_value=4, max_value=50))
def test_larger_counts_flag_smaller_relative_changes(before, lift, factor):
    now = math.floor(before * (1 + lift))
    small = sig.count_change(now, before)
    large = sig.count_change(now * factor, before * factor)
    if small.significant:
        assert large.significant
    assert large.p_value <= small.p_value + 0.01  # exact tests are discrete: a little slack


def test_method_sentence_is_one_sentence_and_documented():
    from pathlib import Path

    assert sig.METHOD.count(". ") == 0 and sig.METHOD.endswith(".")
    doc = (Path(__file__).resolve().parents[1] / "docs" / "STATISTICS.md").read_text()
    assert sig.METHOD in doc.replace("\n", " ")


# ----- where the verdicts are shown: KPI cards, flow comparison, takeaways -------------------


def _flows(rows):
    import pandas as pd

    from whatfix_data import frames

    frame = frames.empty_frame("flows")
    data = {c: [r.get(c) for r in rows] for c in ("flow_id", "flow_name", "views", "completions")}
    out = pd.DataFrame(data).astype({"flow_id": "string", "flow_name": "string",
                                     "views": "Int64", "completions": "Int64"})
    out["completion_rate_pct"] = (out["completions"] * 100 / out["views"]).astype("Float64")
    for column in frame.columns:
        if column not in out:
            out[column] = pd.Series([None] * len(out), dtype=frame[column].dtype)
    return out[list(frame.columns)]


def test_kpis_carry_their_verdict_and_the_takeaway_says_it():
    from whatfix_data.analytics import kpis, takeaways

    now = {"flows": _flows([{"flow_id": "f1", "flow_name": "A", "views": 2000,
                             "completions": 1400}])}
    before = {"flows": _flows([{"flow_id": "f1", "flow_name": "A", "views": 2000,
                                "completions": 1000}])}
    by_key = {k.key: k for k in kpis.kpis(now, before)}
    rate = by_key["completion_rate"]
    assert rate.significance.significant and rate.significance.short == "real change"
    views = by_key["flow_views"]
    assert views.significance.verdict == sig.VERDICT_NOISE  # 2,000 vs 2,000
    assert takeaways.kpi_sentence(rate).endswith(", a real change (p < 0.001).")
    assert "within noise" in takeaways.kpi_sentence(views)
    assert by_key["active_users"].significance is None  # engagement not loaded
    assert all(k.significance is None for k in kpis.kpis(now))  # no comparison, no verdict


def test_flow_comparison_gets_verdict_columns():
    from whatfix_data.analytics import flows

    now = _flows([{"flow_id": "f1", "flow_name": "Big", "views": 5000, "completions": 4000},
                  {"flow_id": "f2", "flow_name": "Tiny", "views": 22, "completions": 20}])
    before = _flows([{"flow_id": "f1", "flow_name": "Big", "views": 5000, "completions": 2500},
                     {"flow_id": "f2", "flow_name": "Tiny", "views": 25, "completions": 5}])
    table = flows.with_change_verdicts(flows.flow_comparison(now, before))
    by_name = table.set_index("flow_name")
    assert by_name.loc["Big", "completion_rate_verdict"] == "real change (p < 0.001)"
    assert by_name.loc["Tiny", "completion_rate_verdict"] == "22 views: too few to judge"
    assert by_name.loc["Big", "views_verdict"].startswith("within noise")
    assert list(table.columns).index("views_verdict") == list(table.columns).index(
        "views_change_pct") + 1


@settings(max_examples=300, deadline=None)
@given(now=counts, before=counts, days_now=st.integers(min_value=1, max_value=400),
       days_before=st.integers(min_value=1, max_value=400))
def test_the_count_test_is_scipys_exact_binomial_test(now, before, days_now, days_before):
    """The count test is scipy.stats.binomtest's two-sided p-value, computed with scipy.special
    only (scipy.stats takes 0.8 s to import, on the path of a page's first KPI cards)."""
    result = sig.count_change(now, before, exposure_now=days_now, exposure_before=days_before)
    if now + before < sig.MIN_EVENTS:
        assert result.p_value is None
        return
    share = days_now / (days_now + days_before)
    expected = stats.binomtest(now, now + before, share, alternative="two-sided").pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-6, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(trials_now=st.integers(min_value=30, max_value=2_000_000),
       trials_before=st.integers(min_value=30, max_value=2_000_000), data=st.data())
def test_the_rate_test_is_the_normal_two_sided_p_value(trials_now, trials_before, data):
    now = data.draw(st.integers(min_value=0, max_value=trials_now))
    before = data.draw(st.integers(min_value=0, max_value=trials_before))
    result = sig.rate_change(now, trials_now, before, trials_before)
    pooled = (now + before) / (trials_now + trials_before)
    spread = pooled * (1 - pooled) * (1 / trials_now + 1 / trials_before)
    if spread <= 0:
        assert result.p_value == 1.0
        return
    z_score = (now / trials_now - before / trials_before) / math.sqrt(spread)
    expected = 2 * stats.norm.sf(abs(z_score))
    assert result.p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_the_dashboard_does_not_import_scipy_stats():
    """Only the tests compare against scipy.stats: the app imports scipy.special (0.15 s)."""
    import subprocess
    import sys

    code = ("import whatfix_data.significance as s, sys; s.count_change(30, 10); "
            "s.rate_change(10, 40, 20, 40); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
