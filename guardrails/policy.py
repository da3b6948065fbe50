"""Guardrail policies: the YAML files AI champions write, validated strictly.

    policy = Policy.from_path("guardrails/policies/default.yaml")
    policy = Policy.from_yaml(text)

Every mistake is an error naming the field and its line, never a silent default: an unknown
key, an unknown rail, a rail at a stage it cannot run at, a parameter the rail does not take,
a message key that does not exist. ``Policy.model_json_schema()`` is the schema editors use
(``waymark policy schema``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from guardrails.contracts import Stage
from guardrails.rail import MessageKey, registry
from guardrails.untrusted_yaml import TooLarge
from guardrails.untrusted_yaml import load as load_yaml

Action = Literal["block", "redact", "warn", "log"]
"""What a failing rail does: stop the question or answer, clean the text and go on, go on with a
warning recorded, or only record."""

SUITE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""How a gate names an eval suite: a name, never a path."""

ENFORCING: frozenset[Action] = frozenset({"block", "redact"})
"""The actions with which a required rail counts as kept."""

DEFAULT_MESSAGES: dict[MessageKey, str] = {
    "blocked": "I can't help with that request.",
    "injection": "This question looks like an attempt to change my instructions, so I can't answer it.",
    "out_of_scope": "I can only answer questions about the guidance I hold. Please ask about that.",
    "banned_topic": "I can't help with that topic.",
    "too_long": "Your question is too long. Please shorten it and ask again.",
    "personal_data": "Please remove personal details (names, numbers, addresses) and ask again.",
    "unsafe_output": "I could not produce an answer that meets the rules for this service.",
    "disclaimer": "",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RailSpec(_Strict):
    """One rail in a stage: which, what it does when it fails, its parameters."""

    STAGE: ClassVar[Stage] = "input"

    rail: str = Field(description="A registered rail name, e.g. pii, injection, invisible_unicode.")
    action: Action = "block"
    params: dict[str, Any] = Field(default_factory=dict, description="The rail's own parameters.")
    message: MessageKey | None = Field(None, description="Message shown when this rail blocks (default: "
                                                         "the rail's own).")

    @field_validator("rail")
    @classmethod
    def _known(cls, v: str) -> str:
        rails = registry()
        if v not in rails:
            raise ValueError(f"unknown rail {v!r}; known rails: {', '.join(sorted(rails))}")
        if cls.STAGE not in rails[v].stages:
            raise ValueError(f"rail {v!r} cannot run at the {cls.STAGE} stage "
                             f"(it runs at: {', '.join(sorted(rails[v].stages))})")
        return v

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "rail" not in info.data:  # the rail itself is wrong: that error is reported
            return v
        try:
            registry()[info.data["rail"]].params.model_validate(v)
        except ValidationError as exc:
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                       + (f" (got {_short(e['input'])})" if e["type"] != "missing" else "")
                                       for e in exc.errors())) from None
        return v


class InputRail(RailSpec):
    STAGE: ClassVar[Stage] = "input"


class RetrievalRail(RailSpec):
    STAGE: ClassVar[Stage] = "retrieval"


class OutputRail(RailSpec):
    STAGE: ClassVar[Stage] = "output"


class Scope(_Strict):
    description: str = Field("", description="What the assistant is for, in the champion's words.")
    in_scope: list[str] = Field(default_factory=list, description="Example questions it should answer.")
    out_of_scope: list[str] = Field(default_factory=list, description="Example questions it should refuse.")


class Messages(_Strict):
    """User-facing texts in one language; a missing one falls back to English, then to the built-in."""

    blocked: str | None = None
    injection: str | None = None
    out_of_scope: str | None = None
    banned_topic: str | None = None
    too_long: str | None = None
    personal_data: str | None = None
    unsafe_output: str | None = None
    disclaimer: str | None = None


class Policy(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short id, e.g. default.")
    version: str = Field(min_length=1, description="The champion's version label, e.g. 2026-12-01 or 3.")
    owner: str = Field(min_length=1, description="Who answers for this policy.")
    description: str = ""
    scope: Scope = Scope()
    input: list[InputRail] = Field(default_factory=list)
    retrieval: list[RetrievalRail] = Field(default_factory=list)
    output: list[OutputRail] = Field(default_factory=list)
    gate: list[Annotated[str, Field(pattern=SUITE_NAME)]] = Field(default_factory=list, description=(
        "Eval suites run before this policy is put in force, under the policy in force and under this "
        "one, besides the admin's minimum gate: names of shipped suites (smoke, golden), of suites in "
        "the data directory's suite store, or 'rules' (this policy's own rules as cases); never file "
        "paths. A gated regression refuses the activation unless overridden with a reason."))
    messages: dict[str, Messages] = Field(default_factory=dict,
                                          description="By language code (en, fr, da, he, ...).")

    @field_validator("messages")
    @classmethod
    def _languages(cls, v: dict[str, Messages]) -> dict[str, Messages]:
        bad = [k for k in v if not re.fullmatch(r"[a-z]{2,3}", k)]
        if bad:
            raise ValueError(f"message languages must be ISO 639 codes such as en or fr, not {bad}")
        return v

    @model_validator(mode="after")
    def _rails_have_what_they_need(self) -> Policy:
        if any(r.rail == "scope" for r in self.input) and not (self.scope.description.strip() or self.scope.in_scope):
            raise ValueError("the scope rail needs scope.description or scope.in_scope")
        if any(r.rail == "disclaimer" for r in self.output) and not self.message("disclaimer", "en"):
            raise ValueError("the disclaimer rail needs messages.en.disclaimer (the fallback for every language)")
        return self

    # --- loading ------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, text: str, source: str = "<policy>") -> Policy:
        try:
            data = load_yaml(text)
        except TooLarge as exc:
            raise PolicyError(f"{source}: not read: {exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}:" if mark is not None else ""
            raise PolicyError(f"{source}:{line} not valid YAML: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: a policy is a YAML mapping (name:, version:, owner:, input:, ...)")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            root = yaml.compose(text)
            errors = exc.errors()
            lines = [f"{source}: line {_line(root, e['loc'])}: {'.'.join(map(str, e['loc'])) or '(top)'}: "
                     f"{e['msg'].removeprefix('Value error, ')[:400]}" for e in errors[:MAX_ERRORS]]
            more = [f"{source}: … and {len(errors) - MAX_ERRORS} more problems"] if len(errors) > MAX_ERRORS else []
            raise PolicyError("\n".join(lines + more)) from None

    @classmethod
    def from_path(cls, path: str | Path) -> Policy:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: cannot read the policy: {exc}") from None
        return cls.from_yaml(text, str(path))

    # --- use ----------------------------------------------------------------------------------
    @cached_property
    def digest(self) -> str:
        """sha256 of the policy's content (formatting and comments aside)."""
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()

    @cached_property
    def label(self) -> str:
        """How answers record the policy that judged them: name, version and content hash."""
        return f"{self.name}@{self.version}#{self.digest[:8]}"

    def message(self, key: MessageKey, language: str) -> str:
        for lang in (language, "en"):
            if (m := self.messages.get(lang)) is not None and (text := getattr(m, key)) is not None:
                return str(text)
        return DEFAULT_MESSAGES[key]

    def rails(self, stage: Stage) -> list[RailSpec]:
        return list(getattr(self, stage))

    def missing_rails(self, required: Sequence[str]) -> list[str]:
        """The ``required`` input rails this policy lacks, or runs with an action that does not enforce."""
        kept = {r.rail for r in self.input if r.action in ENFORCING}
        return [name for name in required if name not in kept]


MAX_ERRORS = 20
"""The most problems one error message lists (the rest are counted)."""


class PolicyError(ValueError):
    """A policy that cannot be used; the message names each problem, with its line."""


def _short(value: Any, limit: int = 80) -> str:
    """A value for an error message: its repr, cut (a draft can expand to millions of characters)."""
    text = repr(value) if not isinstance(value, (dict, list)) else f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The line (from 1) of the deepest YAML node that ``loc`` reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def shipped(name: str) -> Path:
    """The path of a policy shipped with Waymark (``default``, ``strict``)."""
    return Path(__file__).parent / "policies" / f"{name}.yaml"


def shipped_or_file(name: str) -> Path:
    """``name`` as a shipped policy if there is one by that name, else as a file path."""
    return shipped(name) if shipped(name).is_file() else Path(name)
