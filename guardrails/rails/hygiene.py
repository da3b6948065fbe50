"""Text hygiene: invisible characters that hide instructions, and questions too long to be honest."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field

from guardrails.rail import Context, Decision, MessageKey, Params, Tools, guardrail

# Unicode tag characters (invisible ASCII look-alikes), zero-width and word-joiner characters,
# the byte-order mark inside text, and the bidi embeddings, overrides and isolates that reorder
# what a reader sees. Left alone: ZWNJ/ZWJ and the LRM/RLM marks, which Persian, Indic scripts,
# emoji and right-to-left text (Hebrew) use legitimately.
INVISIBLE = re.compile("[\U000e0000-\U000e007f\u200b\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\u180e]")


@guardrail("invisible_unicode", stages=["input", "output"])
class InvisibleUnicode:
    """Strips (action redact) or blocks characters a reader cannot see: tag characters, zero-width
    spaces, bidi overrides."""

    message: ClassVar[MessageKey] = "injection"

    def __init__(self, params: Params, tools: Tools) -> None:
        self.params = params

    def check(self, text: str, context: Context) -> Decision:
        found = INVISIBLE.findall(text)
        if not found:
            return Decision.ok(0.0)
        kinds = sorted({f"U+{ord(c):04X}" for c in found})
        return Decision("fail", float(len(found)), f"{len(found)} invisible character(s): {', '.join(kinds[:8])}",
                        INVISIBLE.sub("", text))


class LengthParams(Params):
    max_chars: int = Field(2000, ge=1)


@guardrail("max_length", stages=["input"], params=LengthParams)
class MaxLength:
    """Refuses questions longer than ``max_chars`` characters."""

    message: ClassVar[MessageKey] = "too_long"

    def __init__(self, params: LengthParams, tools: Tools) -> None:
        self.params = params

    def check(self, text: str, context: Context) -> Decision:
        n = len(text)
        if n <= self.params.max_chars:
            return Decision.ok(float(n))
        return Decision("fail", float(n), f"{n} characters, more than {self.params.max_chars}")
