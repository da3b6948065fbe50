"""Putting a policy in force: the one path the CLI (``waymark policy activate|rollback``) and the policy
studio both take, so neither can skip a step.

1. a reason is given; the draft parses and validates;
2. the draft names the version it was drafted from, and that is still the one in force (else
   ``StaleDraft``: nothing changes, the draft is kept);
3. a required rail (``WAYMARK_REQUIRED_RAILS``) the draft drops or stops enforcing needs an admin's
   override with its own reason, recorded with the activation;
4. the gate (the admin's minimum suites plus the draft's) has run for exactly this draft against exactly
   the version in force; a gated regression needs an override, recorded;
5. the draft's rails start (``check``), and the store puts it in force only if the version in force is
   still the one it was compared against (checked in the same database transaction as the write).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evals.gate import GateRefused, GateResult, activation_reason, gate_suites, policy_gate
from guardrails.policy import Policy, PolicyError
from guardrails.store import PolicyStore, StaleDraft, Version

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = ["ActivationRefused", "Request", "StaleDraft", "activate", "rollback"]


class ActivationRefused(PolicyError):
    """Nothing was put in force; the message says why and what to do."""


@dataclass(frozen=True)
class Request:
    author: str
    reason: str
    based_on: int | None
    """The version in force the draft was drafted from (None: there was none)."""
    override_regression: bool = False
    required_override: str | None = None
    """An admin's reason for dropping a required rail (refused from anyone else)."""
    admin: bool = False


def activate(settings: Settings, store: PolicyStore, content: str, request: Request, source: str,
             check: Callable[[Policy], object], gate: GateResult | None = None,
             log: Callable[[str], None] = lambda m: None) -> Version:
    """Put ``content`` in force as a new version, or raise ``PolicyError`` (``ActivationRefused``,
    ``StaleDraft``) and change nothing. ``gate``: a result the caller ran already (the studio's), used only
    if it is for this very draft and version in force; otherwise the gate runs now."""
    try:
        draft = Policy.from_yaml(content, source)
    except PolicyError as exc:
        raise ActivationRefused(f"the draft is not a valid policy:\n{exc}") from None
    why = _approved(settings, store, draft, request, gate, log)
    return store.activate(content, request.author, why, source, check=check, expected=request.based_on)


def rollback(settings: Settings, store: PolicyStore, version: int, request: Request,
             check: Callable[[Policy], object], gate: GateResult | None = None,
             log: Callable[[str], None] = lambda m: None) -> Version:
    """Put stored ``version`` back in force, past the same checks and gate as any activation."""
    target = store.get(version)
    why = _approved(settings, store, target.policy(), request, gate, log)
    return store.rollback(version, request.author, why, check=check, expected=request.based_on)


def _approved(settings: Settings, store: PolicyStore, draft: Policy, request: Request, gate: GateResult | None,
              log: Callable[[str], None]) -> str:
    """The reason to record, once every check before the write has passed."""
    if not request.reason.strip():
        raise ActivationRefused("say why (a reason is recorded with every activation)")
    active = store.active()
    in_force = active.id if active else None
    if request.based_on != in_force:
        raise StaleDraft(request.based_on, in_force)
    why = request.reason.strip()
    missing = draft.missing_rails(settings.required_rails)
    if missing:
        names = ", ".join(missing)
        if not request.admin:
            raise ActivationRefused(f"the draft drops or stops enforcing required rails ({names}); only an "
                                    "admin can override that, with a reason")
        if not (request.required_override or "").strip():
            raise ActivationRefused(f"the draft drops or stops enforcing required rails ({names}): give the "
                                    "override's reason")
        why += f" [required rails dropped: {names}; admin override: {(request.required_override or '').strip()}]"
    if gate is None or not gate.valid_for(draft.digest, in_force) or gate.suites != gate_suites(settings, draft):
        gate = policy_gate(settings, draft, active, log)
    log(gate.summary())
    try:
        return activation_reason(gate, why, request.override_regression)
    except GateRefused as exc:
        raise ActivationRefused(str(exc)) from None
