"""Citation integrity: ``[n]`` markers in the model's text, checked against what it was shown.

Markers that point at no passage in the prompt are dropped. Each valid one becomes a
``Citation`` whose ``quote`` is a verbatim span of the cited passage (the sentence that best
matches the claims citing it) with offsets into the source document, so
``document.text[start:end] == quote`` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.prompts import NOT_COVERED
from guardrails.contracts import Citation
from guardrails.numbers import values
from knowledge.chunking import sentence_spans
from knowledge.lexical import tokenize
from knowledge.models import SearchHit

MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+")
_NUMBER = re.compile(r"\d")
MIN_QUOTE_CHARS = 60

Similarity = Callable[[str, Sequence[str]], Sequence[float]]
"""``similarity(claim, sentences)``: one score per sentence, higher is closer (e.g. embeddings)."""

# Phrases small models use instead of the NOT_COVERED sentinel, lower-cased.
_NOT_COVERED_PHRASES = (
    "not_covered", "not covered", "do not contain", "does not contain", "don't contain", "doesn't contain",
    "do not provide", "does not provide", "do not mention", "does not mention", "no information",
    "not mentioned", "cannot answer", "can't answer", "unable to answer", "ne contiennent pas",
    "ne mentionnent pas", "aucune information", "indeholder ikke", "nævner ikke", "ingen oplysninger",
    "אין מידע", "לא מכילים", "אינם מכילים",
)


def parse_markers(text: str) -> list[tuple[int, int, list[int]]]:
    """``(start, end, numbers)`` for every ``[n]`` or ``[n, m]`` marker in ``text``."""
    return [(m.start(), m.end(), [int(x) for x in re.split(r"\s*[,;]\s*", m.group(1))])
            for m in MARKER.finditer(text)]


def clean_markers(text: str, valid: Sequence[int]) -> tuple[str, list[int], list[int]]:
    """``text`` with invalid numbers removed from markers, ``[1, 2]`` written ``[1][2]``.

    Returns the cleaned text, the valid numbers used (in first-use order) and the dropped ones.
    """
    allowed = set(valid)
    used: list[int] = []
    dropped: list[int] = []

    def fix(m: re.Match[str]) -> str:
        nums = [int(x) for x in re.split(r"\s*[,;]\s*", m.group(1))]
        keep = []
        for n in nums:
            if n in allowed:
                keep.append(n)
                if n not in used:
                    used.append(n)
            else:
                dropped.append(n)
        lead = m.group(0)[0] if m.group(0)[0].isspace() else ""
        return lead + "".join(f"[{n}]" for n in dict.fromkeys(keep)) if keep else ""

    cleaned = MARKER.sub(fix, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip(), used, dropped


def claims_by_marker(text: str) -> dict[int, list[str]]:
    """For each cited number, the sentences (markers removed) that cite it.

    Markers that open a sentence ("... 2016. [1] The team ...") belong to the sentence before.
    """
    segments: list[tuple[str, list[int]]] = []
    for sentence in _SENTENCE_END.split(text):
        lead = _LEADING_MARKERS.match(sentence)
        if lead and segments:
            segments[-1][1].extend(n for _s, _e, ns in parse_markers(lead.group(0)) for n in ns)
            sentence = sentence[lead.end():]
        plain = MARKER.sub("", sentence).strip()
        nums = [n for _s, _e, ns in parse_markers(sentence) for n in ns]
        if plain or not segments:
            segments.append((plain, nums))
        else:
            segments[-1][1].extend(nums)
    claims: dict[int, list[str]] = {}
    for plain, nums in segments:
        for n in dict.fromkeys(nums):
            claims.setdefault(n, []).append(plain)
    return claims


def says_not_covered(text: str, has_valid_citation: bool) -> bool:
    """The model's way of saying the passages do not answer: the sentinel, or a phrase and no citation."""
    if NOT_COVERED in text:
        return True
    lowered = text.casefold()
    return not has_valid_citation and any(p in lowered for p in _NOT_COVERED_PHRASES)


def _terms(text: str) -> set[str]:
    """Words, plus numbers with their separators removed (so 400,000 matches 400.000 and 400 000)."""
    return set(tokenize(text)) | {f"#{n}" for n in values(text)}


def _score(claim_terms: set[str], sentence: str) -> float:
    shared = claim_terms & _terms(sentence)
    return sum(3.0 if t.startswith("#") else 1.0 for t in shared if not _NUMBER.fullmatch(t))


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, also broken at line ends (list items, headings)."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        spans += [trim_span(text, s, e) for s, e in sentence_spans(text, line.start(), line.end())]
    return [(s, e) for s, e in spans if e > s]


def best_quote(hit: SearchHit, claims: Sequence[str], similarity: Similarity | None = None) -> tuple[int, int]:
    """Offsets (into ``hit.text``) of the passage sentence that best supports ``claims``.

    With ``similarity`` (embeddings, which work across languages) it ranks the sentences and
    shared words break near-ties; without it, shared words decide (numbers count triple), and
    when no word is shared the whole passage is the quote. Short sentences are extended by a
    neighbour so a quote reads on its own.
    """
    text = hit.text
    spans = _sentences(text)
    if not spans:
        return 0, len(text)
    claim_terms = _terms(" ".join(claims))
    scores = [_score(claim_terms, text[s:e]) for s, e in spans]
    if similarity is not None and claims:
        sims = list(similarity(" ".join(claims), [text[s:e] for s, e in spans]))
        scores = [sim + 0.03 * lex for sim, lex in zip(sims, scores, strict=True)]
    elif max(scores) == 0:
        return trim_span(text, 0, len(text))
    best = max(range(len(spans)), key=lambda i: scores[i])
    start, end = spans[best]
    if end - start < MIN_QUOTE_CHARS:  # extend within the same line only
        if best + 1 < len(spans) and "\n" not in text[end:spans[best + 1][0]]:
            end = spans[best + 1][1]
        elif best > 0 and "\n" not in text[spans[best - 1][1]:start]:
            start = spans[best - 1][0]
    return start, end


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` narrowed to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def build_citations(answer: str, hits: Sequence[SearchHit], similarity: Similarity | None = None) -> list[Citation]:
    """One ``Citation`` per passage number the (cleaned) answer cites, in order of first use."""
    claims = claims_by_marker(answer)
    citations = []
    for n in claims:
        if not 1 <= n <= len(hits):
            continue
        s, e = best_quote(hits[n - 1], claims[n], similarity)
        citations.append(citation(n, hits[n - 1], s, e))
    return citations


def citation(n: int, hit: SearchHit, start: int, end: int) -> Citation:
    """Passage ``n``'s text ``[start:end]`` (offsets into the passage) as a citation into its source."""
    return Citation(n=n, source=hit.source, title=hit.title, section=hit.section, quote=hit.text[start:end],
                    start=hit.start + start, end=hit.start + end, score=round(hit.similarity, 4),
                    language=hit.language)
