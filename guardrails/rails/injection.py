"""Prompt injection and jailbreaks, across languages.

Two signals, either enough to fail:
- cheap patterns for the common families (override the instructions, "you are now...",
  reveal the system prompt, developer/DAN modes) in English, French, Danish, Hebrew, German and
  Spanish, also looked for inside payloads encoded as base64, hex, binary or rot13;
- optionally (``classifier: true``), the nearest examples of a curated multilingual set of
  attacks and ordinary questions (``guardrails/data/injection_examples.yaml``) under the
  multilingual embedder: fails when the closest attack is nearer than the closest ordinary
  question by more than ``margin``.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from guardrails import injection_model
from guardrails.rail import Context, Decision, MessageKey, Params, Tools, guardrail
from guardrails.rails.pii import unlabelled

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "injection_examples.yaml"

_I = re.IGNORECASE
PATTERNS: dict[str, re.Pattern[str]] = {
    # verb, then only determiners and qualifiers, then the thing overridden: "ignore the typo in my
    # question about the instructions" is not an override, "ignore all previous instructions" is
    "instruction override": re.compile(
        r"\b(ignore|disregard|forget|override|bypass|skip)\s+((all|any|the|your|my|of|every|these|those)\s+)*"
        r"((previous|prior|above|earlier|preceding|initial|original|system|old|current|existing|safety)\s+)?"
        r"(instructions?|rules|prompts?|guidelines|directions|directives|constraints|restrictions|programming)\b"
        r"|\b(ignor(e|ez|er)|oublie[zr]?)\s+((toutes|tous|les|vos|tes|ces)\s+)*(instructions|consignes|règles)\b"
        r"|\b(ignorer|ignorér|glem)\s+((alle|dine|de|tidligere|forrige)\s+)*(instruktioner|instruktionerne|regler)\b"
        r"|\b(ignorier\w*|vergiss)\s+((alle|deine|die|vorherigen|bisherigen)\s+)*(anweisungen|regeln)\b"
        r"|\b(ignora|olvida)\s+((todas|las|tus|anteriores)\s+)*(instrucciones|reglas)\b"
        r"|(התעלם|תתעלם|התעלמי|שכח|תשכח)\s.{0,30}(הוראות|ההוראות|הכללים|ההנחיות|הנחיות)", _I),
    "role change": re.compile(
        r"\byou are now\b|\bfrom now on,? you\b|\bpretend (to be|you are|that you)\b|\bact as (an? )?"
        r"(unrestricted|unfiltered|jailbroken|evil|dan)\b|\b(tu es|vous êtes) (maintenant|désormais)\b"
        r"|\bà partir de maintenant,? (tu|vous)\b|\bdu er nu\b|\bfra nu af\b|\bdu bist (jetzt|nun)\b"
        r"|\b(ahora eres|a partir de ahora)\b|(אתה|את) (עכשיו|מעכשיו)|מעכשיו (אתה|את)", _I),
    "prompt extraction": re.compile(
        r"\b(reveal|show|print|repeat|output|display|tell me|give me|what (is|are))\b.{0,30}\b(your|the)\b.{0,20}"
        r"\b(system prompt|initial prompt|instructions|hidden prompt|secret|password)\b|\bsystem prompt\b"
        r"|\bprompt (système|systeme)\b|\bsystemprompt\b|\bsystem-?prompt\b|הנחיות המערכת|פרומפט המערכת", _I),
    "jailbreak mode": re.compile(
        r"\b(developer|debug|god|admin|sudo|maintenance|unrestricted) mode\b|\bDAN\b|\bjailbr(eak|oken)\b"
        r"|\bno (restrictions|filters|rules|limits)\b|\bmode (développeur|administrateur)\b|\budviklertilstand\b", _I),
}

_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){12,}\b")
_BINARY = re.compile(r"\b(?:[01]{8}\s*){6,}")


_DECODERS: tuple[tuple[str, re.Pattern[str], Callable[[str], bytes]], ...] = (
    ("base64", _BASE64, lambda s: base64.b64decode(s + "=" * (-len(s) % 4), validate=True)),
    ("hex", _HEX, lambda s: bytes.fromhex(re.sub(r"[ :]", "", s))),
    ("binary", _BINARY, lambda s: bytes(int(b, 2) for b in re.findall(r"[01]{8}", s))),
)


def decodings(text: str) -> list[tuple[str, str]]:
    """(encoding, decoded text) for each payload in ``text`` that decodes to readable text."""
    out: list[tuple[str, str]] = []
    for kind, pattern, decode in _DECODERS:
        for m in pattern.finditer(text):
            with contextlib.suppress(ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
                out.append((kind, decode(m.group()).decode("utf-8")))
    out.append(("rot13", codecs.decode(text, "rot13")))
    return [(kind, s) for kind, s in out
            if s.strip() and s != text and sum(c.isprintable() for c in s) >= 0.9 * len(s)]


def pattern_hits(text: str) -> list[str]:
    hits = [name for name, p in PATTERNS.items() if p.search(text)]
    for kind, decoded in decodings(text):
        hits += [f"{name} ({kind})" for name, p in PATTERNS.items() if p.search(decoded)]
    return hits


class ExampleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attacks: list[str] = Field(min_length=1)
    benign: list[str] = Field(min_length=1)


class InjectionParams(Params):
    patterns: bool = True
    trained: bool = False
    """The trained classifier (``guardrails/injection_model.py``): fails a text whose probability of being an
    attack reaches ``threshold``."""
    threshold: float | None = Field(None, gt=0.0, lt=1.0)
    """The trained classifier's threshold; None: the one chosen when it was trained (docs/decisions/0011)."""
    classifier: bool = True
    margin: float = Field(0.02, ge=-1.0, le=1.0)
    """The classifier fails a text whose nearest attack example is this much closer (cosine) than its
    nearest ordinary example."""
    examples: str | None = None
    """Another example file (YAML with ``attacks:`` and ``benign:`` lists); default: the shipped set."""


@guardrail("injection", stages=["input", "retrieval"], params=InjectionParams)
class Injection:
    """Detects attempts to override the assistant's instructions (patterns, encoded payloads and a
    multilingual nearest-example classifier)."""

    message: ClassVar[MessageKey] = "injection"

    def __init__(self, params: InjectionParams, tools: Tools) -> None:
        self.params = params
        self.embed = tools.embed
        if (params.classifier or params.trained) and self.embed is None:
            raise ValueError("the injection classifier needs the embedder (Tools.embed)")
        # checked here, so that a policy needing a missing or swapped artefact never starts (fail closed)
        self.model = injection_model.load() if params.trained else None
        self.threshold = params.threshold or (self.model.threshold if self.model else 1.0)

    @cached_property
    def _examples(self) -> tuple[Any, Any]:
        assert self.embed is not None
        path = Path(self.params.examples) if self.params.examples else EXAMPLES
        examples = ExampleSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        return self.embed(examples.attacks), self.embed(examples.benign)

    def margin(self, text: str) -> float:
        """Cosine to the nearest attack example minus cosine to the nearest ordinary one (the tools'
        embedder reads a long text as its head and its tail)."""
        attacks, benign = self._examples
        assert self.embed is not None
        v = self.embed([text])[0]
        return float((attacks @ v).max() - (benign @ v).max())

    def check(self, text: str, context: Context) -> Decision:
        if self.params.patterns and (hits := pattern_hits(text)):
            return Decision("fail", 1.0, "pattern: " + ", ".join(hits[:3]))
        if self.model is not None:
            assert self.embed is not None
            plain = unlabelled(text)
            p = round(self.model.probability(self.embed([plain])[0], plain), 4)
            if p >= self.threshold:
                return Decision("fail", p, f"classifier: attack probability {p:.3f} (threshold {self.threshold:.2f})")
            if not self.params.classifier:
                return Decision.ok(p)
        if not self.params.classifier:
            return Decision.ok()
        score = round(self.margin(text), 4)
        if score > self.params.margin:
            return Decision("fail", score, f"nearest example is an attack (margin {score:.3f})")
        return Decision.ok(score)

