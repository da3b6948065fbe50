"""One ``Guardrail`` Protocol and the registry that names rails in policy files.

A rail is a small class registered under a name with ``@guardrail("name", stages=...)``. Its
``Params`` (a pydantic model, extra fields forbidden) are what a policy may set for it; the
policy loader validates them, so a typo'd parameter is an error, never a silent default. A
rail's ``check`` returns a ``Decision``: pass, fail or error, with a score, a detail for the
record and, for rails that can clean text (redaction), the cleaned text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from guardrails.contracts import Stage, Verdict

MessageKey = Literal["blocked", "injection", "out_of_scope", "banned_topic", "too_long", "personal_data",
                     "unsafe_output", "disclaimer"]
"""The user-facing messages a policy defines (per language)."""


class Params(BaseModel):
    """Base of every rail's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Context:
    """What a rail may look at besides the text."""

    stage: Stage
    language: str = "en"
    passages: Sequence[str] = ()
    """Output stage: the texts of the passages the answer cites."""
    scope: str = ""
    """The policy's scope description (for the scope rail)."""
    in_scope: Sequence[str] = ()
    out_of_scope: Sequence[str] = ()
    disclaimer: str = ""
    """Output stage: the policy's disclaimer in the asker's language (for the disclaimer rail)."""
    names_read: bool = False
    """The text is the redaction's output, and the redaction has already read it with the names model (so the
    ``pii`` rail does not read it again: decision 0012)."""


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    score: float | None = None
    detail: str = ""
    text: str | None = None
    """The text with the problem removed (e.g. redacted), when the rail can clean it; on a pass, a
    rewrite that is not a problem (e.g. a disclaimer added)."""

    @classmethod
    def ok(cls, score: float | None = None, detail: str = "") -> Decision:
        return cls("pass", score, detail)


class Guardrail(Protocol):
    name: ClassVar[str]
    stages: ClassVar[frozenset[Stage]]
    message: ClassVar[MessageKey]
    """The policy message shown when this rail blocks (a key of the policy's messages)."""

    def check(self, text: str, context: Context) -> Decision: ...


@dataclass(frozen=True)
class Tools:
    """Shared, heavy things a rail may need, built once by whoever runs the policy."""

    embed: Callable[[list[str]], Any] | None = None
    """Texts -> unit-norm embedding rows (numpy array), multilingual (the E5 query encoder). Built by
    ``service.rail_tools``, it reads a long text as its head and tail (``head_and_tail``)."""
    system_prompts: tuple[str, ...] = ()
    """The system prompts whose words must never come back in an answer (``system_prompt_leak``); the
    answer path that owns them passes them in (``service.rail_tools``)."""
    canary: str = ""
    """The token planted in those prompts (``system_prompt_leak``)."""


RAIL_EMBED_TOKENS = 48
"""Tokens of a text the classifier rails embed: e5-small takes about 0.7 ms per token on a 2-core CPU,
so 48 keeps all input rails near 40 ms per question at p95 (decision record 0006)."""


def head_and_tail(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> str:
    """All of ``text`` if it has at most ``max_tokens`` tokens, else its longest head and tail of about
    ``max_tokens / 2`` tokens each (attacks hide behind padding, at either end). The embedding's cost
    grows with its tokens, so this bounds a rail's time whatever the length and script of the text."""
    if count_tokens(text) <= max_tokens:
        return text

    def longest(fits: Callable[[int], bool]) -> int:
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
        return lo

    half = max_tokens // 2
    head = longest(lambda k: count_tokens(text[:k]) <= half)
    tail = longest(lambda k: count_tokens(text[len(text) - k:]) <= half)
    return f"{text[:head].rstrip()} … {text[len(text) - tail:].lstrip()}"


def bounded(embed: Callable[[list[str]], Any], count_tokens: Callable[[str], int],
            max_tokens: int) -> Callable[[list[str]], Any]:
    """``embed`` that reads each text as ``head_and_tail(text, count_tokens, max_tokens)``."""
    return lambda texts: embed([head_and_tail(t, count_tokens, max_tokens) for t in texts])


def remembering(embed: Callable[[list[str]], Any], size: int = 256) -> Callable[[list[str]], Any]:
    """``embed`` that remembers the last ``size`` single texts it embedded: the rails of one stage
    (injection, scope) embed the same question, and it should cost one embedding."""
    import numpy as np

    memory: dict[str, Any] = {}

    def embed_once(texts: list[str]) -> Any:
        if len(texts) != 1:
            return embed(texts)
        if texts[0] not in memory:
            if len(memory) >= size:
                memory.pop(next(iter(memory)))
            memory[texts[0]] = embed(texts)[0]
        return np.asarray([memory[texts[0]]])

    return embed_once


@dataclass(frozen=True)
class RailType:
    name: str
    stages: frozenset[Stage]
    params: type[Params]
    build: Callable[[Any, Tools], Guardrail]
    doc: str = field(default="")
    partial: bool = True
    """It can judge part of an output (an answer as it streams): rails that add to the text, or that ask a
    model, judge only the whole answer."""


REGISTRY: dict[str, RailType] = {}

G = TypeVar("G")


def guardrail(name: str, stages: Sequence[Stage], params: type[Params] = Params,
              partial: bool = True) -> Callable[[G], G]:
    """Register a rail class under ``name``; it is built as ``cls(params, tools)`` from a policy.
    ``partial=False``: at the output stage it judges only whole answers, never one as it streams."""

    def register(cls: G) -> G:
        if name in REGISTRY:
            raise ValueError(f"guardrail {name!r} is registered twice")
        cls.name = name  # type: ignore[attr-defined]
        cls.stages = frozenset(stages)  # type: ignore[attr-defined]
        REGISTRY[name] = RailType(name, frozenset(stages), params, cls,  # type: ignore[arg-type]
                                  ((getattr(cls, "__doc__", "") or "").strip().splitlines() or [""])[0],
                                  partial)
        return cls

    return register


def registry() -> dict[str, RailType]:
    """Every known rail (importing the rail modules registers them)."""
    import guardrails.rails  # noqa: F401

    return REGISTRY
