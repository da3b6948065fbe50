"""Output rails: what an answer must not do before anyone sees it.

- ``grounding``: numbers, dates and amounts (and, optionally, names) in the answer must stand in
  the passages it cites; unsupported sentences are removed (redact) or the answer is refused;
- ``system_prompt_leak``: the canary planted in the system prompts, or a long run of their
  words, must never appear;
- ``markdown``: no images from elsewhere, no links outside the allowed domains, no raw HTML;
- ``disclaimer``: the policy's disclaimer, in the asker's language, closes every answer.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field

from guardrails import markdown
from guardrails.facts import unsupported_facts
from guardrails.rail import Context, Decision, MessageKey, Params, Tools, guardrail

_SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+(?:[.!?]+(?:\s*\[\d+\])*|\n|$)")
_MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")


class GroundingParams(Params):
    names: bool = False
    """Also require capitalised names to stand in the cited passages (same-language answers only)."""


@guardrail("grounding", stages=["output"], params=GroundingParams)
class Grounding:
    """Numbers, dates and amounts in the answer must stand in the passages it cites (normalised
    across number formats: 2,000 = 2.000 = 2 000)."""

    message: ClassVar[MessageKey] = "unsafe_output"

    def __init__(self, params: GroundingParams, tools: Tools) -> None:
        self.params = params

    def check(self, text: str, context: Context) -> Decision:
        evidence = "\n".join(context.passages)
        kept: list[tuple[str, set[str]]] = []
        dropped: list[tuple[str, set[str]]] = []
        for m in _SENTENCE.finditer(text):
            sentence = m.group()
            claim = _MARKER.sub("", sentence)
            missing = unsupported_facts(claim, evidence, self.params.names) if claim.strip() else set()
            (dropped if missing else kept).append((sentence, missing))
        if not dropped:
            return Decision.ok(0.0)
        facts = sorted({f for _, missing in dropped for f in missing})
        cleaned = "".join(s for s, _ in kept).strip()
        return Decision("fail", float(len(dropped)),
                        f"{len(dropped)} sentence(s) state what the cited passages do not: {', '.join(facts[:6])}",
                        cleaned or None)


class LeakParams(Params):
    run_words: int = Field(10, ge=4)
    """A run of this many consecutive words of a system prompt counts as a leak."""


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


@guardrail("system_prompt_leak", stages=["output"], params=LeakParams)
class SystemPromptLeak:
    """The canary token of the system prompts, or a long run of their words, in the answer."""

    message: ClassVar[MessageKey] = "unsafe_output"

    def __init__(self, params: LeakParams, tools: Tools) -> None:
        if not tools.system_prompts or not tools.canary:
            raise ValueError("the system_prompt_leak rail needs the system prompts and their canary "
                             "(Tools.system_prompts, Tools.canary)")
        self.params = params
        self.canary = tools.canary.casefold()
        n = params.run_words
        self.runs = {tuple(w[i:i + n]) for p in tools.system_prompts for w in [_words(p)]
                     for i in range(len(w) - n + 1)}

    def check(self, text: str, context: Context) -> Decision:
        if self.canary in text.casefold():
            return Decision("fail", 1.0, "the canary token of the system prompt")
        w = _words(text)
        n = self.params.run_words
        if any(tuple(w[i:i + n]) in self.runs for i in range(len(w) - n + 1)):
            return Decision("fail", 1.0, f"{n} consecutive words of a system prompt")
        return Decision.ok(0.0)


class MarkdownParams(Params):
    allowed_domains: list[str] = Field(default_factory=list)
    """Link targets allowed (a domain also allows its subdomains, e.g. gov.uk allows www.gov.uk)."""


@guardrail("markdown", stages=["output"], params=MarkdownParams)
class Markdown:
    """Removes images, links outside the allowed domains (keeping their text) and raw HTML, as a
    CommonMark parser reads them (``guardrails.markdown``)."""

    message: ClassVar[MessageKey] = "unsafe_output"

    def __init__(self, params: MarkdownParams, tools: Tools) -> None:
        self.params = params

    def check(self, text: str, context: Context) -> Decision:
        removed, cleaned = markdown.review(text, self.params.allowed_domains)
        if not removed:
            return Decision.ok(0.0)
        kinds = ", ".join(f"{k}×{removed.count(k)}" for k in dict.fromkeys(removed))
        return Decision("fail", float(len(removed)), f"removed {kinds}", cleaned)


@guardrail("disclaimer", stages=["output"], partial=False)  # it adds to the answer: whole answers only
class Disclaimer:
    """Closes every answer with the policy's disclaimer message, in the asker's language."""

    message: ClassVar[MessageKey] = "unsafe_output"

    def __init__(self, params: Params, tools: Tools) -> None:
        self.params = params

    def check(self, text: str, context: Context) -> Decision:
        note = context.disclaimer.strip()
        if not note:
            raise ValueError("the disclaimer rail needs a disclaimer message in the policy")
        if text.rstrip().endswith(note):
            return Decision.ok()
        return Decision("pass", None, "disclaimer added", f"{text.rstrip()}\n\n{note}")
