"""The policy gate: before a policy is put in force, its gate suites run under the policy in force
and under the draft; a gated regression refuses the activation unless overridden with a reason
(``waymark policy activate FILE --reason ... [--override]``). Both runs are stored with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evals.compare import Delta, compare

if TYPE_CHECKING:
    from assistant.settings import Settings
    from guardrails.policy import Policy


@dataclass
class GateRun:
    suite: str
    baseline_run: int
    draft_run: int
    regressed: list[Delta]


@dataclass
class GateResult:
    runs: list[GateRun] = field(default_factory=list)
    skipped: str | None = None
    """Why nothing ran (no gate named, no policy in force to compare with)."""

    @property
    def regressed(self) -> list[str]:
        return [f"{r.suite}: {d.metric}" for r in self.runs for d in r.regressed]

    def summary(self) -> str:
        if self.skipped:
            return f"gate skipped: {self.skipped}"
        return "; ".join(f"{r.suite} runs {r.baseline_run}->{r.draft_run}: "
                         + (", ".join(f"{d.metric} {d.a:.3f}->{d.b:.3f}" if d.a is not None and d.b is not None
                                      else f"{d.metric} missing" for d in r.regressed) or "no regression")
                         for r in self.runs)


def policy_gate(base: Settings, draft_file: Path, draft: Policy, active: Policy | None,
                log: Callable[[str], None] = lambda m: None) -> GateResult:
    """Run ``draft.gate``'s suites under ``active`` and under the draft, and compare them."""
    from evals import runner
    from evals.history import RunStore
    from evals.policy_cases import rules_suite
    from evals.suite import load

    if not draft.gate:
        return GateResult(skipped="the policy names no gate suite")
    if active is None:
        return GateResult(skipped="no policy in force to compare with")
    store = RunStore(base.data_dir / "evals.sqlite")
    result = GateResult()
    for name in draft.gate:
        suite, digest = rules_suite([active, draft]) if name == "rules" else load(name)
        reports = []
        for label, policy in (("in force", "active"), ("draft", str(draft_file))):
            log(f"gate: {suite.suite} ({len(suite.cases)} cases) under the policy {label}...")
            report = runner.run(suite, digest, runner.settings_for(base, suite, policy=policy))
            store.save(report)
            reports.append(report)
        deltas = compare(reports[0], reports[1], suite.gates)
        result.runs.append(GateRun(suite.suite, reports[0].run_id or 0, reports[1].run_id or 0,
                                   [d for d in deltas if d.regressed]))
    return result


class GateRefused(Exception):
    """A draft whose gate regressed, activated without an override."""


def activation_reason(result: GateResult, reason: str, override: bool) -> str:
    """The reason to record for an activation after ``result``; raises ``GateRefused`` on a gated
    regression without ``override``."""
    if not result.regressed:
        return reason
    if not override:
        raise GateRefused(f"the gate regressed on {', '.join(result.regressed)} ({result.summary()}). Fix the "
                          "draft, or activate with an override and a reason saying why.")
    return f"{reason} [gate overridden: {result.summary()}]"
