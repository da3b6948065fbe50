"""Personal data out of a text before anything can block, store or log it: ``redact_personal_data``.

Every question goes through this first, whatever the policy (``Rails.check_input``), and so do the
comments and expected answers users give with their ratings. Characters a reader cannot see are ignored
while looking (an e-mail address with a zero-width space inside is still found) and removed with the
finding they sit in; elsewhere they stay, for the ``invisible_unicode`` rail to judge.
"""

from __future__ import annotations

from dataclasses import dataclass

from guardrails.rails.hygiene import INVISIBLE
from guardrails.rails.pii import ALL, Entity, Finding, find, redact


@dataclass(frozen=True)
class Redacted:
    text: str
    found: tuple[Entity, ...]
    """The entity of each finding removed, in text order."""


def redact_personal_data(text: str) -> Redacted:
    kept = [i for i, ch in enumerate(text) if not INVISIBLE.match(ch)]
    visible = "".join(text[i] for i in kept)
    found = find(visible, ALL)
    if not found:
        return Redacted(text, ())
    spans = [Finding(f.entity, kept[f.start], kept[f.end - 1] + 1) for f in found]
    return Redacted(redact(text, spans), tuple(f.entity for f in spans))
