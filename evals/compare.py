"""Compare two runs metric by metric, and gate on regressions: ``waymark eval compare A B [--gate]``.

A difference is "beyond noise" when a 95% test says so:
- for case-level rates measured on the same cases in both runs: an exact McNemar test on the cases
  whose outcome changed (paired, so a few flips on a small suite can count);
- for other rates: Newcombe's interval for the difference of two proportions (from the two Wilson
  intervals) excludes 0;
- for means: the two normal intervals of the difference exclude 0; latency is shown, never tested.
A gated metric regresses when B is worse than A beyond noise (or at all, for an ``any_drop`` gate) and
by more than the gate's tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evals.metrics import MetricValue
from evals.runner import Report
from evals.suite import Gate


@dataclass(frozen=True)
class Delta:
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    beyond_noise: bool
    worse: bool
    """B is worse than A beyond noise."""
    test: str
    p: float | None = None
    gated: bool = False
    regressed: bool = False


def mcnemar_p(a: dict[str, bool], b: dict[str, bool]) -> tuple[float, int, int]:
    """Two-sided exact McNemar p-value over the cases both runs judged: (p, only-A-passed, only-B-passed)."""
    shared = a.keys() & b.keys()
    lost = sum(a[c] and not b[c] for c in shared)
    won = sum(b[c] and not a[c] for c in shared)
    n = lost + won
    if n == 0:
        return 1.0, 0, 0
    k = min(lost, won)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail), lost, won


def newcombe(a: MetricValue, b: MetricValue) -> tuple[float, float] | None:
    """95% interval of b - a for two independent proportions (Newcombe's hybrid score method)."""
    if a.value is None or b.value is None or a.interval is None or b.interval is None:
        return None
    (la, ua), (lb, ub) = a.interval, b.interval
    d = b.value - a.value
    return (d - math.sqrt((b.value - lb) ** 2 + (ua - a.value) ** 2),
            d + math.sqrt((ub - b.value) ** 2 + (a.value - la) ** 2))


def compare_metric(a: MetricValue, b: MetricValue) -> Delta:
    delta = None if a.value is None or b.value is None else b.value - a.value
    sign = 1 if a.better == "higher" else -1
    if delta is None or a.unit == "ms":
        return Delta(a.name, a.value, b.value, delta, False, False, "not tested")
    if a.unit == "rate" and a.outcomes and b.outcomes and a.outcomes.keys() == b.outcomes.keys():
        p, lost, won = mcnemar_p(a.outcomes, b.outcomes)
        beyond = p < 0.05
        return Delta(a.name, a.value, b.value, delta, beyond, beyond and sign * delta < 0,
                     f"McNemar (paired, {lost} lost, {won} gained)", p)
    if a.unit == "rate":
        ci = newcombe(a, b)
        beyond = ci is not None and (ci[0] > 0 or ci[1] < 0)
        return Delta(a.name, a.value, b.value, delta, beyond, beyond and sign * delta < 0, "Newcombe interval")
    beyond = a.interval is not None and b.interval is not None and (
        b.interval[0] > a.interval[1] or b.interval[1] < a.interval[0])
    return Delta(a.name, a.value, b.value, delta, beyond, beyond and sign * delta < 0, "normal intervals")


def compare(a: Report, b: Report, gates: list[Gate] | None = None) -> list[Delta]:
    """Every metric both runs measured, gated ones flagged (a gate on a metric B lacks regresses)."""
    gate_of = {g.metric: g for g in gates or []}
    out: list[Delta] = []
    for name, va in a.metrics.items():
        vb = b.metrics.get(name)
        if vb is None:
            continue
        d = compare_metric(va, vb)
        gate = gate_of.get(name)
        if gate:
            sign = 1 if va.better == "higher" else -1
            worse = (d.delta is not None and sign * d.delta < 0) if gate.any_drop else d.worse
            regressed = worse and d.delta is not None and -sign * d.delta > gate.tolerance
            d = Delta(**{**d.__dict__, "gated": True, "regressed": regressed})
        out.append(d)
    for name in sorted(gate_of.keys() - (a.metrics.keys() & b.metrics.keys())):
        out.append(Delta(name, None, None, None, False, True, "missing from a run", gated=True, regressed=True))
    return out
