"""Personal data: found by pattern and checksum, redacted before anything reaches a model or a log.

Checksums keep ordinary numbers out: an NHS number must pass its mod-11 check, a payment card
the Luhn check, an IBAN the mod-97 check. But a value the writer has just named ("my National
Insurance number is QQ 12 34 56 C", "numéro de passeport : 12AB34567") is redacted whatever its
checksum: a cue in en/fr/da/he/de/es, then an identifier-shaped value. Where two findings overlap
the longer one wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from guardrails.rail import Context, Decision, MessageKey, Params, Tools, guardrail

Entity = Literal["email", "phone", "uk_ni", "nhs", "uk_postcode", "card", "iban", "ip_address", "person",
                 "bank_account", "passport", "driving_licence"]
ALL: tuple[Entity, ...] = ("email", "phone", "uk_ni", "nhs", "uk_postcode", "card", "iban", "ip_address", "person",
                           "bank_account", "passport", "driving_licence")


@dataclass(frozen=True)
class Finding:
    entity: Entity
    start: int
    end: int


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def nhs_valid(digits: str) -> bool:
    """NHS numbers: ten digits, the last a mod-11 check digit of the first nine."""
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return check != 10 and (check % 11) == int(digits[9])


def iban_valid(raw: str) -> bool:
    s = re.sub(r"\s", "", raw).upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?!\w)")
_NI = re.compile(r"(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                 r"\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D](?![A-Za-z0-9])", re.IGNORECASE)
_NHS = re.compile(r"(?<![\d-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\d-])")
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])(?:GIR ?0AA|[A-PR-UWYZ](?:\d[\dA-HJKPS-UW]?|[A-HK-Y]\d[\dABEHMNPRV-Y]?)"
                       r" ?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
# written whole, or in groups of four: a greedy "any spaces" pattern would swallow the next word
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)"
                   r"(?![A-Za-z0-9])", re.IGNORECASE)
# Personal names, offline and without a name list: only where a cue says a name follows (a title,
# an introduction, a salutation), in the languages Waymark is tested in. Only the name is redacted.
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]+"
_PERSON = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Mme|Mlle|Herr|Frau|hr|fru|frk)\.?|\bM\.|"
    r"\b(?:[Mm]y name is|I am called|I'm called|[Jj]e m'appelle|[Mm]on nom est|[Jj]eg hedder|[Mm]it navn er"
    r"|[Ii]ch heiße|[Mm]e llamo|[Dd]ear|[Cc]her|[Cc]hère|[Kk]ære|[Ll]iebe[r]?|[Ee]stimad[oa]))\s+"
    rf"(?P<name>{_CAP}(?:\s+{_CAP}){{0,2}})"
    r"|(?:מר|גב'|גברת|ד\"ר|שמי|קוראים לי)\s+(?P<hname>[\u05d0-\u05ea'\"-]+(?:\s+[\u05d0-\u05ea'\"-]+)?)")
_IP = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,15}(?:[ .-]\d{1,8}){0,5}"
                    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\w)")
_PHONE_WORDS = re.compile(r"phone|\btel\b|mobile|\bcell|\bcall|\bring|\bfax|contact|telefon|mobil"
                          r"|téléphone|portable|appel|טלפון|נייד", re.IGNORECASE)
_THOUSANDS = re.compile(r"\d{1,3}(?:[ .]\d{3})+")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _phone(m: re.Match[str]) -> bool:
    """7-15 digits. Right after a word such as "phone", "call" or "nummer", any such number; else
    only shapes that are rarely anything else: a leading +, ( or 0, or three or more groups, with
    at least 8 digits and not a date or a thousands-separated amount."""
    s = re.sub(r"\s?(x|ext\.?)\s?\d{1,5}$", "", m.group())
    n = len(_digits(s))
    if not 7 <= n <= 15 or _DATE.fullmatch(s) or re.match(r"\d{4}-\d\d-\d\d", s):
        return False
    if _PHONE_WORDS.search(m.string[max(0, m.start() - 40):m.start()]):
        return True
    if n < 8 or (_THOUSANDS.fullmatch(s) and not s.startswith("0")):
        return False
    return s.startswith(("+", "(", "0")) or len(re.findall(r"[ .-]", s)) >= 2


def _card(digits: str) -> bool:
    """13-19 digits passing the Luhn check, or 12 for Maestro (starting 5 or 6)."""
    return (13 <= len(digits) <= 19 or (len(digits) == 12 and digits[0] in "56")) and luhn(digits)


# An identifier named by its cue: the cue, at most 25 characters that are neither a digit nor a line or sentence
# end ("is", ":", "est", "er", "הוא"), then a value of 4-26 characters that starts with up to 5 capitals or a
# digit and holds only digits, capitals, spaces and dashes ("QQ 12 34 56 C", "12-34-56", "MORGA753116SM9IJ").
_VALUE = r"[^\n\d.?!]{0,25}?(?P<value>(?:[A-Z]{1,5}[ -]?)?\d[\dA-Z -]{2,22}[\dA-Z])(?![\dA-Za-z])"
_CUES: dict[Entity, str] = {
    "uk_ni": r"national insurance (?:number|no\.?)|\bNI(?: number|-?nummer| no\.?)|\bNINO\b"
             r"|numéro (?:d'assurance nationale|national d'assurance|NI)\b|Sozialversicherungsnummer"
             r"|número (?:de la )?seguridad social|מספר ביטוח לאומי|ביטוח לאומי",
    "nhs": r"\bNHS(?: number| no\.?|-?nummer|-?Nummer)|numéro (?:du )?NHS|número (?:del )?NHS|מספר NHS",
    "bank_account": r"sort code|account (?:number|no\.?)|numéro de compte|code guichet|kontonummer|reg\.? ?nr\.?"
                    r"|registreringsnummer|Kontonummer|número de cuenta|מספר חשבון|מספר סניף",
    "passport": r"passport(?: number| no\.?)?|(?:numéro de )?passeport|pas(?:nummer|set)\b|Reisepass(?:nummer)?"
                r"|(?:número de )?pasaporte|(?:מספר )?דרכון",
    "driving_licence": r"driv(?:ing|er'?s) licen[cs]e(?: number| no\.?)?|permis de conduire|kørekort(?:nummer)?"
                       r"|Führerschein(?:nummer)?|(?:número de )?(?:licencia|permiso) de conducir|רישיון נהיגה",
}
CUED: dict[Entity, re.Pattern[str]] = {
    entity: re.compile(rf"(?i:{cue}){_VALUE}") for entity, cue in _CUES.items()}


def _enough_digits(m: re.Match[str]) -> bool:
    """At least four digits, and not a year alone ("passport expires 2027")."""
    value = m.group("value")
    return len(_digits(value)) >= 4 and not re.fullmatch(r"(?:19|20)\d\d", value)


DETECTORS: dict[Entity, tuple[re.Pattern[str], Callable[[re.Match[str]], bool]]] = {
    "email": (_EMAIL, lambda m: True),
    "iban": (_IBAN, lambda m: iban_valid(m.group())),
    "card": (_CARD, lambda m: _card(_digits(m.group()))),
    "nhs": (_NHS, lambda m: nhs_valid(_digits(m.group()))),
    "uk_ni": (_NI, lambda m: True),
    "uk_postcode": (_POSTCODE, lambda m: True),
    "ip_address": (_IP, lambda m: True),
    "person": (_PERSON, lambda m: True),
    "phone": (_PHONE, _phone),
}


PRIORITY: list[Entity] = [*DETECTORS, *(e for e in CUED if e not in DETECTORS)]
"""Between two findings of one length, the more specific detector's wins."""


def find(text: str, entities: tuple[Entity, ...] | list[Entity] = ALL, names_model: bool = True) -> list[Finding]:
    """Non-overlapping findings in text order (the longer of two overlapping findings wins). In text not in one of
    ``CUED_NAME_LANGUAGES``, names also come from the NER model (``guardrails.names``) unless ``names_model`` is
    off."""
    raw: list[Finding] = []
    if "person" in entities and names_model and _names_model_reads(text):
        from guardrails.names import person_spans

        raw += [Finding("person", s, e) for s, e in person_spans(text)]
    for entity in entities:
        if entity in DETECTORS:
            pattern, valid = DETECTORS[entity]
            raw += [Finding(entity, *_span(m)) for m in pattern.finditer(text) if valid(m)]
        if entity in CUED:
            raw += [Finding(entity, *m.span("value")) for m in CUED[entity].finditer(text) if _enough_digits(m)]
    kept: list[Finding] = []
    for f in sorted(raw, key=lambda f: (-(f.end - f.start), PRIORITY.index(f.entity), f.start)):
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


CUED_NAME_LANGUAGES = frozenset({"fr", "da", "he", "de", "es"})
"""Languages whose names are found only after a cue; the English NER model reads every other text (the language
detector calls short English sentences with foreign names Pidgin, Italian or Dutch)."""


def _names_model_reads(text: str) -> bool:
    from knowledge.language import detect_language

    return detect_language(text) not in CUED_NAME_LANGUAGES


def _span(m: re.Match[str]) -> tuple[int, int]:
    """The finding's own span: for a name, the name without the cue before it."""
    for group in ("name", "hname"):
        if group in m.re.groupindex and m.group(group):
            return m.span(group)
    return m.span()


def redact(text: str, findings: list[Finding]) -> str:
    parts, last = [], 0
    for f in findings:
        parts += [text[last:f.start], f"[{f.entity.upper()}]"]
        last = f.end
    return "".join([*parts, text[last:]])


LABEL = re.compile(r"\[(" + "|".join(e.upper() for e in ALL) + r")\]")
"""The label a redacted finding leaves, e.g. ``[EMAIL]``."""


def unlabelled(text: str) -> str:
    """``text`` with the redaction's labels read as the plain words they stand for ("[EMAIL]" -> "email"), for the
    rails that embed the question (injection, scope: one embedding between them). The trained classifier learnt
    from questions as people write them, and a question full of bracketed labels looks to it like template syntax
    (one with six was refused at 0.70). Unchanged when it has none."""
    return LABEL.sub(lambda m: m.group(1).lower().replace("_", " "), text)


def _counts(entities: list[Entity]) -> Iterator[str]:
    for entity in dict.fromkeys(entities):
        yield f"{entity}×{entities.count(entity)}"


class PiiParams(Params):
    entities: list[Entity] = Field(default_factory=lambda: list(ALL))
    names_model: bool = True
    """Names in English text from the packaged NER model too (decision 0012), not only after a cue."""


@guardrail("pii", stages=["input", "output"], params=PiiParams)
class Pii:
    """Finds personal data (email, phone, NI and NHS numbers, postcodes, cards, IBANs, IP addresses, names after
    a title, introduction or salutation and, in English, any the NER model finds, and any identifier introduced
    by its name: NI, NHS, sort code or account number, passport, driving licence); action redact replaces each
    with a label such as [EMAIL]. A question reaches the rails already redacted (``guardrails.redaction``): there, the
    labels count as the personal data they replaced, so action block still refuses it."""

    message: ClassVar[MessageKey] = "personal_data"

    def __init__(self, params: PiiParams, tools: Tools) -> None:
        self.params = params

    def check(self, text: str, context: Context) -> Decision:
        findings = find(text, self.params.entities, self.params.names_model and not context.names_read)
        entities = [f.entity for f in findings]
        if context.stage == "input":
            labelled = [m.group(1).lower() for m in LABEL.finditer(text)]
            entities += [e for e in self.params.entities if e in labelled for _ in range(labelled.count(e))]
        if not entities:
            return Decision.ok(0.0)
        return Decision("fail", float(len(entities)), ", ".join(_counts(entities)), redact(text, findings))
