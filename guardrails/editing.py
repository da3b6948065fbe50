"""The common fields of a policy, as the policy studio's form edits them, and back into YAML.

The form covers what champions change most: the scope (description, examples), banned terms, what
happens to personal data, the injection classifier's threshold, whether scope is enforced, and the
messages users read. Everything else stays as written in the YAML. Applying the form rewrites the
YAML from its data (comments are not kept; the raw editor keeps them).
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from guardrails.policy import Action, Policy
from guardrails.untrusted_yaml import load as load_yaml

MESSAGE_KEYS = ("injection", "personal_data", "banned_topic", "out_of_scope", "blocked")


class CommonFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    in_scope: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)
    banned_terms: list[str] = Field(default_factory=list)
    pii_action: Action | None = None
    """None: no personal-data rail on questions."""
    injection_margin: float | None = None
    """None: the injection rail's classifier is off or absent."""
    scope_action: Action | None = None
    messages_en: dict[str, str] = Field(default_factory=dict)


def _input_rail(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((r for r in data.get("input") or [] if r.get("rail") == name), None)


def common_fields(policy: Policy) -> CommonFields:
    data = policy.model_dump(mode="json")
    terms = _input_rail(data, "banned_terms")
    pii = _input_rail(data, "pii")
    injection = _input_rail(data, "injection")
    scope = _input_rail(data, "scope")
    classifier = injection is not None and injection["params"].get("classifier", True)
    en = policy.messages.get("en")
    return CommonFields(
        description=policy.scope.description, in_scope=list(policy.scope.in_scope),
        out_of_scope=list(policy.scope.out_of_scope),
        banned_terms=list(terms["params"].get("terms", [])) if terms else [],
        pii_action=pii["action"] if pii else None,
        injection_margin=float(injection["params"].get("margin", 0.02)) if injection and classifier else None,
        scope_action=scope["action"] if scope else None,
        messages_en={k: v for k, v in (en.model_dump() if en else {}).items() if v and k in MESSAGE_KEYS})


def apply(text: str, fields: CommonFields) -> str:
    """``text`` (a policy's YAML) with the common fields set to ``fields``; raises ``PolicyError`` if the
    result is not a valid policy."""
    data = load_yaml(text) or {}  # a valid policy's text (checked by the caller), so within limits
    data["scope"] = {"description": fields.description, "in_scope": fields.in_scope,
                     "out_of_scope": fields.out_of_scope}
    rails: list[dict[str, Any]] = list(data.get("input") or [])

    def set_rail(name: str, action: str | None, params: dict[str, Any] | None = None, before: str = "") -> None:
        current = next((r for r in rails if r.get("rail") == name), None)
        if action is None:
            if current is not None:
                rails.remove(current)
            return
        if current is None:
            current = {"rail": name}
            at = next((i for i, r in enumerate(rails) if r.get("rail") == before), len(rails))
            rails.insert(at, current)
        current["action"] = action
        if params:
            current["params"] = {**(current.get("params") or {}), **params}

    set_rail("pii", fields.pii_action, before="injection")
    set_rail("banned_terms", "block" if fields.banned_terms else None,
             {"terms": fields.banned_terms} if fields.banned_terms else None, before="injection")
    if fields.injection_margin is not None:
        set_rail("injection", "block", {"classifier": True, "margin": fields.injection_margin})
    set_rail("scope", fields.scope_action)
    data["input"] = rails
    messages = data.setdefault("messages", {}) or {}
    en = {**(messages.get("en") or {}), **{k: v for k, v in fields.messages_en.items() if v.strip()}}
    for key in MESSAGE_KEYS:
        if key in fields.messages_en and not fields.messages_en[key].strip():
            en.pop(key, None)
    messages["en"] = en
    data["messages"] = messages
    out = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    Policy.from_yaml(out, "the form")  # refuse a form that makes an invalid policy
    return out
