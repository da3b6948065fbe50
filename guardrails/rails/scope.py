"""Scope: questions outside what the champion says the service is for are refused politely.

The policy's ``scope`` gives a description and example questions in and out of scope; Waymark
adds a built-in set of everyday off-topic questions (``guardrails/data/off_topic_examples.yaml``:
recipes, sport, celebrities, homework...). Under the multilingual embedder a question fails when
its nearest out-of-scope example is closer than its nearest in-scope one (the description counts
as in scope) by more than ``margin``: a question in any language is compared by meaning.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from guardrails.rail import Context, Decision, MessageKey, Params, Tools, guardrail
from guardrails.rails.pii import unlabelled

OFF_TOPIC = Path(__file__).resolve().parents[1] / "data" / "off_topic_examples.yaml"


class OffTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] = Field(min_length=1)


@cache
def builtin_off_topic() -> tuple[str, ...]:
    return tuple(OffTopic.model_validate(yaml.safe_load(OFF_TOPIC.read_text(encoding="utf-8"))).questions)


class ScopeParams(Params):
    margin: float = Field(0.0, ge=-1.0, le=1.0)
    builtin_off_topic: bool = True


@guardrail("scope", stages=["input"], params=ScopeParams)
class Scope:
    """Refuses questions nearer to out-of-scope examples than to the policy's scope (by meaning, any
    language)."""

    message: ClassVar[MessageKey] = "out_of_scope"

    def __init__(self, params: ScopeParams, tools: Tools) -> None:
        if tools.embed is None:
            raise ValueError("the scope rail needs the embedder (Tools.embed)")
        self.params = params
        self.embed = tools.embed
        self._cache: dict[tuple[str, ...], Any] = {}

    def _vectors(self, texts: tuple[str, ...]) -> Any:
        if texts not in self._cache:
            self._cache[texts] = self.embed(list(texts))
        return self._cache[texts]

    def margin(self, text: str, context: Context) -> float:
        inside = tuple(t for t in (context.scope, *context.in_scope) if t.strip())
        outside = tuple(context.out_of_scope) + (builtin_off_topic() if self.params.builtin_off_topic else ())
        if not inside or not outside:
            raise ValueError("the scope rail needs the policy's scope description or examples, and "
                             "out-of-scope examples")
        v = self.embed([unlabelled(text)])[0]  # as the injection rail reads it: one embedding for both
        return float((self._vectors(outside) @ v).max() - (self._vectors(inside) @ v).max())

    def check(self, text: str, context: Context) -> Decision:
        score = round(self.margin(text, context), 4)
        if score > self.params.margin:
            return Decision("fail", score, f"nearer to out-of-scope examples (margin {score:.3f})")
        return Decision.ok(score)
