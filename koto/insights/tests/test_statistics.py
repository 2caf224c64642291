"""The impact statistics against SciPy and textbook values."""

import math
import random

import numpy as np
import pytest
from scipy import stats

from koto.insights.statistics import kaplan_meier, survival_at, wilson_interval


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (3, 250), (120, 400), (1, 1), (499, 500)]
)
def test_wilson_interval__matches_scipy(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-12)
    assert hi == pytest.approx(ci.high, abs=1e-12)


def test_wilson_interval__no_observations_is_none():
    assert wilson_interval(0, 0) is None


def test_wilson_interval__k_above_n_is_refused():
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def _expand(table):
    times, observed = [], []
    for t, (events, censored) in table.items():
        times += [t] * (events + censored)
        observed += [True] * events + [False] * censored
    return np.array(times, dtype=float), np.array(observed)


def _scipy_survival(table):
    times, observed = _expand(table)
    data = stats.CensoredData(uncensored=times[observed], right=times[~observed])
    return stats.ecdf(data).sf


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_kaplan_meier__survival_matches_scipy_ecdf(seed):
    rng = random.Random(seed)
    table = {}
    for t in range(0, 30):
        if rng.random() < 0.8:
            table[t] = (rng.randint(0, 12), rng.randint(0, 9))
    steps = kaplan_meier(table)
    sf = _scipy_survival(table)
    for step in steps:
        assert step.survival == pytest.approx(float(sf.evaluate(step.months)), abs=1e-12)


def test_kaplan_meier__log_log_interval_matches_scipy():
    table = {1: (3, 1), 2: (2, 0), 4: (5, 2), 6: (1, 3), 9: (4, 1), 12: (2, 5)}
    steps = kaplan_meier(table)
    ci = _scipy_survival(table).confidence_interval(confidence_level=0.95, method="log-log")
    for step in steps:
        if step.events == 0:
            continue
        assert step.low == pytest.approx(float(ci.low.evaluate(step.months)), abs=1e-9)
        assert step.high == pytest.approx(float(ci.high.evaluate(step.months)), abs=1e-9)


def test_kaplan_meier__textbook_example():
    # Freireich et al. 6-MP arm (weeks), the classic product-limit example: S(10) = 0.753.
    obs = [(6, 1), (6, 1), (6, 1), (6, 0), (7, 1), (9, 0), (10, 1), (10, 0), (11, 0), (13, 1),
           (16, 1), (17, 0), (19, 0), (20, 0), (22, 1), (23, 1), (25, 0), (32, 0), (32, 0),
           (34, 0), (35, 0)]  # fmt: skip
    table: dict[int, tuple[int, int]] = {}
    for t, event in obs:
        e, c = table.get(t, (0, 0))
        table[t] = (e + event, c + (1 - event))
    steps = kaplan_meier(table)
    at = {s.months: s for s in steps}
    assert at[6].survival == pytest.approx(18 / 21)
    assert round(at[10].survival, 3) == 0.753
    assert round(at[23].survival, 3) == 0.448
    assert at[6].at_risk == 21


def test_kaplan_meier__no_events_keeps_survival_one():
    steps = kaplan_meier({3: (0, 4), 5: (0, 2)})
    assert [s.survival for s in steps] == [1.0, 1.0]
    assert steps[0].low is None


def test_survival_at__beyond_follow_up_is_none():
    steps = kaplan_meier({1: (1, 0), 6: (1, 3)})
    assert survival_at(steps, 6).months == 6
    assert survival_at(steps, 4).months == 1
    assert survival_at(steps, 12) is None
    before = survival_at(steps, 0)
    assert (before.survival, before.at_risk) == (1.0, 5)
    assert math.isclose(survival_at(steps, 6).reached, 1 - (4 / 5) * (3 / 4))


def test_survival_at__after_everyone_reached_the_outcome__reached_stays_one():
    """The last plan followed reached the outcome: the estimate is 1 from then on, known
    however long after (until 2026-12-08 None, so a group whose every plan had reached it
    by 4 months showed 0 % at 3 months and then nothing)."""
    steps = kaplan_meier({2: (1, 1), 4: (1, 0)})
    assert survival_at(steps, 12).reached == 1.0
    censored_last = kaplan_meier({2: (1, 0), 4: (0, 1)})
    assert survival_at(censored_last, 12) is None
