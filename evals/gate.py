"""The policy gate: before a policy is put in force (activated or rolled back to), the gate suites run
under the policy in force and under the draft; a gated regression refuses the activation unless
overridden with a reason. The suites are the admin's minimum (``WAYMARK_GATE_SUITES``, default ``rules``
and ``smoke``) plus any the draft adds. Both runs are stored with the others. ``evals.activation`` is the
one way in: the CLI and the policy studio both go through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evals import runner
from evals.compare import Delta, compare
from evals.history import RunStore
from evals.policy_cases import rule_cases, rules_suite
from evals.suite_store import load_named

if TYPE_CHECKING:
    from assistant.settings import Settings
    from guardrails.policy import Policy
    from guardrails.store import Version


@dataclass
class GateRun:
    suite: str
    baseline_run: int
    draft_run: int
    regressed: list[Delta]


@dataclass
class GateResult:
    draft_digest: str
    """The content hash of the draft that was gated: the result is valid for this draft only..."""
    baseline_version: int | None
    """...and only while this version is still the one in force."""
    suites: tuple[str, ...] = ()
    runs: list[GateRun] = field(default_factory=list)
    skipped: str | None = None
    """Why nothing ran (no policy in force to compare with)."""
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> list[str]:
        return [f"{r.suite}: {d.metric}" for r in self.runs for d in r.regressed]

    def valid_for(self, draft_digest: str, in_force: int | None) -> bool:
        return self.draft_digest == draft_digest and self.baseline_version == in_force

    def summary(self) -> str:
        if self.skipped:
            return f"gate skipped: {self.skipped}"
        return "; ".join([*(f"{r.suite} runs {r.baseline_run}->{r.draft_run}: "
                            + (", ".join(f"{d.metric} {d.a:.3f}->{d.b:.3f}" if d.a is not None and d.b is not None
                                         else f"{d.metric} missing" for d in r.regressed) or "no regression")
                            for r in self.runs), *self.notes])


def gate_suites(base: Settings, draft: Policy) -> tuple[str, ...]:
    """The admin's minimum gate (``WAYMARK_GATE_SUITES``), then the draft's own: the draft can add suites,
    never remove one."""
    return tuple(dict.fromkeys([*base.gate_suites, *draft.gate]))


def policy_gate(base: Settings, draft: Policy, active: Version | None,
                log: Callable[[str], None] = lambda m: None) -> GateResult:
    """Run the gate suites under the policy in force (``active``) and under ``draft``, and compare them.
    Suites are named, never files: shipped ones, ``rules`` (made from both policies) or the data
    directory's suite store."""

    result = GateResult(draft.digest, active.id if active else None, gate_suites(base, draft))
    if active is None:
        result.skipped = "no policy in force to compare with"
        return result
    in_force = active.policy()
    store = RunStore(base.data_dir / "evals.sqlite")
    for name in result.suites:
        if name == "rules" and not rule_cases([in_force, draft]):
            result.notes.append("rules: neither policy has rules to test")
            continue
        suite, digest = rules_suite([in_force, draft]) if name == "rules" else load_named(name, base.data_dir)
        reports = []
        for label, policy in (("in force", in_force), ("draft", draft)):
            log(f"gate: {suite.suite} ({len(suite.cases)} cases) under the policy {label}...")
            report = runner.run(suite, digest, runner.settings_for(base, suite), policy=policy)
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
