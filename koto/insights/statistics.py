"""Statistics for the impact evaluation, on aggregated counts (no person rows).

- `wilson_interval`: the Wilson score interval of a binomial proportion (Wilson 1927;
  Brown, Cai & DasGupta 2001 recommend it over the normal approximation for small n and
  proportions near 0 or 1).
- `kaplan_meier`: the product-limit estimate of the share not yet employed or studying,
  from a life table of (months, events, censored), with Greenwood's variance and the
  log(-log) confidence interval (Kalbfleisch & Prentice), which stays inside [0, 1].

Both are checked against SciPy (`scipy.stats.binomtest(...).proportion_ci(method="wilson")`
and `scipy.stats.ecdf` on right-censored data) in the tests; SciPy is not a run-time
dependency because the inputs here are counts per month, not arrays of persons. Pure: no
Django, no I/O."""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The 95 % Wilson interval for k successes out of n; None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError("k must be between 0 and n")
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class KmStep:
    months: int
    at_risk: int
    events: int
    censored: int
    survival: float  # share not yet employed or studying after `months`
    low: float | None
    high: float | None

    @property
    def reached(self) -> float:
        """Share employed or studying by `months` (1 − survival)."""
        return 1 - self.survival


def kaplan_meier(table: dict[int, tuple[int, int]], z: float = Z95) -> list[KmStep]:
    """Product-limit estimate from {months: (events, censored)}. Censoring at the same time
    as an event counts as after the event (the usual convention)."""
    total = sum(e + c for e, c in table.values())
    at_risk = total
    survival = 1.0
    greenwood = 0.0
    steps: list[KmStep] = []
    for t in sorted(table):
        events, censored = table[t]
        if at_risk <= 0:
            break
        if events:
            survival *= 1 - events / at_risk
            if at_risk > events:
                greenwood += events / (at_risk * (at_risk - events))
            else:
                greenwood = math.inf
        low = high = None
        if events or steps:
            low, high = _loglog_ci(survival, greenwood, z)
        steps.append(KmStep(t, at_risk, events, censored, survival, low, high))
        at_risk -= events + censored
    return steps


def _loglog_ci(s: float, greenwood: float, z: float) -> tuple[float | None, float | None]:
    if s <= 0 or s >= 1 or math.isinf(greenwood):
        return None, None  # no event yet, or nobody left: no interval to give
    se = math.sqrt(greenwood) / abs(math.log(s))
    lo = s ** math.exp(z * se)
    hi = s ** math.exp(-z * se)
    return lo, hi


def survival_at(steps: list[KmStep], months: int) -> KmStep | None:
    """The estimate in force at `months` (the last step at or before it); None when no one
    was followed that long, unless every plan had reached the outcome by then (the estimate
    is 100 % from the last exit on: the last one left reached it)."""
    if not steps:
        return None
    if steps[-1].months < months:
        return steps[-1] if steps[-1].survival == 0 else None
    last = None
    for step in steps:
        if step.months > months:
            break
        last = step
    if last is None:  # before the first exit everyone is still followed
        first = steps[0]
        return KmStep(months, first.at_risk, 0, 0, 1.0, None, None)
    return last
