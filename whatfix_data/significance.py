"""Real change or noise: is a change against the comparison period larger than chance?

Two tests, both two-sided at ``ALPHA`` (5 %):

* rates (completion rate = completions of views, task lists completed of rows): the pooled
  two-proportion z-test (:func:`rate_change`);
* counts (views, completions, active users): the exact conditional test of two Poisson rates —
  given the total of both periods, the current count is binomial with p = the current period's
  share of the exposure (days) — (:func:`count_change`).

Below a minimum sample the answer is "too few to judge" (e.g. ``22 views: too few to judge``),
never a verdict: a 10-point swing on 22 views is noise that reads like news.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

ALPHA = 0.05


def _normal_two_sided_p(z_score: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z (scipy's ``2 * norm.sf(|z|)``)."""
    return math.erfc(abs(z_score) / math.sqrt(2))


def _binom_pmf(k: int, n: int, p: float) -> float:
    log_pmf = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
               + k * math.log(p) + (n - k) * math.log1p(-p))
    return math.exp(log_pmf)


def _binom_cdf(k: float, n: int, p: float) -> float:
    """P(X <= k); scipy.special (0.15 s to import) rather than scipy.stats (0.8 s), which a
    page's first KPI cards waited for while the rest of its data was being fetched."""
    from scipy import special

    k = math.floor(k)
    return 0.0 if k < 0 else 1.0 if k >= n else float(special.bdtr(k, n, p))


def _binom_sf(k: float, n: int, p: float) -> float:
    """P(X > k)."""
    from scipy import special

    k = math.floor(k)
    return 1.0 if k < 0 else 0.0 if k >= n else float(special.bdtrc(k, n, p))


def _search_binom_tst(pmf_order: Callable[[int], float], d: float, lo: int, hi: int) -> int:
    """The i in [lo, hi] with a(i) <= d < a(i + 1), `a` ascending there (scipy's
    ``_binary_search_for_binom_tst``)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = pmf_order(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if pmf_order(lo) <= d else lo - 1


def _binomtest_two_sided_p(k: int, n: int, p: float) -> float:
    """The exact two-sided binomial test's p-value: the probability of every outcome no more
    likely than `k` (relative tolerance 1e-7), as ``scipy.stats.binomtest`` computes it;
    ``tests/test_significance.py`` checks the two agree."""
    d = _binom_pmf(k, n, p)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _search_binom_tst(lambda x: -_binom_pmf(x, n, p), -d * rerr, math.ceil(p * n), n)
        y = n - ix + int(d * rerr == _binom_pmf(ix, n, p))
        p_value = _binom_cdf(k, n, p) + _binom_sf(n - y, n, p)
    else:
        ix = _search_binom_tst(lambda x: _binom_pmf(x, n, p), d * rerr, 0, math.floor(p * n))
        y = ix + 1
        p_value = _binom_cdf(y - 1, n, p) + _binom_sf(k - 1, n, p)
    return min(1.0, p_value)


# Each period needs this many trials (views, task-list rows) before a rate change is judged.
MIN_TRIALS = 30
# Both periods together need this many events before a count change is judged.
MIN_EVENTS = 20

METHOD = (  # one sentence for help texts and docs/STATISTICS.md
    "Rates are compared with a two-sided two-proportion z-test (pooled), counts with an exact "
    "conditional Poisson test (binomial split of the two periods' total by their length); a "
    f"change is real when p < {ALPHA:g}, and periods with fewer than {MIN_TRIALS} views (or "
    f"{MIN_EVENTS} events for counts) are too few to judge."
)

VERDICT_REAL = "real"
VERDICT_NOISE = "noise"
VERDICT_TOO_FEW = "too_few"
SHORT_WORDS = {VERDICT_REAL: "real change", VERDICT_NOISE: "within noise",
               VERDICT_TOO_FEW: "too few to judge"}


@dataclass(frozen=True)
class Significance:
    """The verdict on one change: p-value (None when too few), significant, readable label."""

    p_value: float | None
    significant: bool
    verdict: str
    label: str
    method: str = field(default=METHOD, repr=False)

    @property
    def short(self) -> str:
        """Two or three words for a card or a table cell: real change / within noise / ..."""
        return SHORT_WORDS[self.verdict]


def _p_text(p_value: float) -> str:
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}" if p_value < 0.01 else f"p = {p_value:.2f}"


def _verdict(p_value: float, alpha: float) -> Significance:
    p_value = min(max(float(p_value), 0.0), 1.0)
    if p_value < alpha:
        shown = "p < 0.001" if p_value < 0.001 else f"p < {alpha:g}"
        return Significance(p_value, True, VERDICT_REAL, f"real change ({shown})")
    return Significance(p_value, False, VERDICT_NOISE, f"within noise ({_p_text(p_value)})")


def too_few(size: float, noun: str) -> Significance:
    """The "too few to judge" verdict, e.g. ``22 views: too few to judge``."""
    return Significance(None, False, VERDICT_TOO_FEW, f"{size:,.0f} {noun}: too few to judge")


def _count(value: float | None) -> int | None:
    """A non-negative whole count, or None when unknown / not a number."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number) or number < 0:
        return None
    return round(number)


def rate_change(
    successes_now: float | None,
    trials_now: float | None,
    successes_before: float | None,
    trials_before: float | None,
    *,
    noun: str = "views",
    min_trials: int = MIN_TRIALS,
    alpha: float = ALPHA,
) -> Significance | None:
    """Two-proportion z-test of successes/trials now vs before; None when a count is unknown.

    ``noun`` names the trials in the small-sample label ("22 views: too few to judge").
    """
    k1, n1, k0, n0 = (_count(v) for v in (successes_now, trials_now, successes_before,
                                         trials_before))
    if None in (k1, n1, k0, n0):
        return None
    k1, k0 = min(k1, n1), min(k0, n0)  # type: ignore[type-var]  # a bad row never exceeds 100 %
    smaller = min(n1, n0)  # type: ignore[type-var]
    if smaller < min_trials:
        return too_few(smaller, noun)
    pooled = (k1 + k0) / (n1 + n0)
    spread = pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if spread <= 0:  # both periods 0 % or both 100 %: no difference at all
        return _verdict(1.0, alpha)
    z_score = (k1 / n1 - k0 / n0) / math.sqrt(spread)
    return _verdict(_normal_two_sided_p(z_score), alpha)


def count_change(
    count_now: float | None,
    count_before: float | None,
    *,
    exposure_now: float = 1.0,
    exposure_before: float = 1.0,
    noun: str = "events",
    min_events: int = MIN_EVENTS,
    alpha: float = ALPHA,
) -> Significance | None:
    """Exact conditional test of two Poisson counts; exposures are the periods' lengths (days).

    None when a count is unknown or an exposure is not positive.
    """
    c1, c0 = _count(count_now), _count(count_before)
    if c1 is None or c0 is None or not exposure_now > 0 or not exposure_before > 0:
        return None
    if c1 + c0 < min_events:
        return too_few(c1 + c0, noun)
    share = exposure_now / (exposure_now + exposure_before)
    return _verdict(_binomtest_two_sided_p(int(c1), int(c1 + c0), share), alpha)
