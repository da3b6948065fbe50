"""The contracts every package shares: the ``Answer`` a question produces, its citations and guardrail
records, and the ``Rails`` interface the answer path calls.

This module sits at the bottom of the layers (``docs/architecture.md``): it imports nothing of ours but
``knowledge.models``, so the guardrails, the assistant, the evals and the front ends can all use it.
Field names of ``Answer`` and what it holds are a public contract (``waymark ask --json``, the eval
suite, the UI): add fields if needed, never rename them.

The pipeline asks a ``Rails`` object to check the question before anything else happens, the retrieved
passages before the model reads them, the answer as it streams (``check_partial``: only what passes is
shown) and the whole answer before it stands. ``check_input`` returns the question with personal data
redacted whatever the policy, so nothing after it (records, logs, the model) holds it. A text check
returns a ``StageResult``: the (possibly redacted or rewritten) text, one record per rail that ran, and
whether to block; the passage check returns the passages that may be shown.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import Field

from knowledge.models import SearchHit, Strict

Status = Literal["answered", "abstained", "blocked", "error"]
Verdict = Literal["pass", "fail", "error"]
Stage = Literal["input", "retrieval", "output"]


class Citation(Strict):
    """Passage ``n`` of the prompt, as the answer cites it.

    ``quote == source_text[start:end]`` of the cited document, verbatim.
    """

    n: int = Field(ge=1)
    source: str
    title: str
    section: str | None
    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    score: float
    language: str = "und"


class GuardrailRecord(Strict):
    """One rail's decision on one answer."""

    rail: str
    stage: Stage
    verdict: Verdict
    score: float | None = None
    detail: str = ""
    action: str | None = None
    """What the policy did with a fail: block, redact, warn or log (an error always blocks)."""
    policy_version: str | None = None
    """The policy that made the decision (``name@version#hash``)."""
    subject: str | None = None
    """What was checked, when not the stage's own text: ``standalone question`` (a follow-up as rewritten
    to stand alone, checked again before search and the model)."""


class Timings(Strict):
    retrieve: float | None = None
    first_token: float | None = None
    """When the model's first token arrived (nothing is shown yet then)."""
    first_release: float | None = None
    """When the first text the output rails had passed was shown (None: nothing was shown)."""
    total: float | None = None


class SourceRef(Strict):
    """A document the answer considered. With an abstention, the closest passages shown (labelled "closest
    passages, not an answer"): each with its line closest to the question, ``quote == source_text[start:end]``."""

    source: str
    title: str
    section: str | None
    score: float
    quote: str | None = None
    start: int | None = Field(None, ge=0)
    end: int | None = Field(None, ge=0)
    language: str = "und"


class Answer(Strict):
    question: str
    answer: str
    status: Status
    language: str
    citations: list[Citation] = Field(default_factory=list)
    guardrails: list[GuardrailRecord] = Field(default_factory=list)
    model: str
    policy_version: str
    timings_ms: Timings = Field(default_factory=Timings)
    trace_id: str
    standalone_question: str | None = None
    """The follow-up rewritten to stand alone, when it differs from ``question``."""
    closest: list[SourceRef] = Field(default_factory=list)
    """Top retrieved documents; with an abstention, the ones the user might read."""
    reason: str | None = None
    """Why the status is not ``answered`` (machine-readable, e.g. ``low_retrieval_score``)."""
    truncated: bool = False
    """The model's stream was cut; ``answer`` keeps what arrived."""
    retracted: bool = False
    """Text shown while the answer was written was withdrawn afterwards: the final check over the whole
    answer did not let it stand (``answer`` is what stands)."""
    signals: dict[str, float] = Field(default_factory=dict)
    """Extract strategy: the numbers the decision to answer rested on (how close the passages and the quoted
    line are to the question, its rank, translation; ``assistant.confidence``), whatever the outcome."""
    confidence: float | None = None
    """Extract strategy: the calibrated probability that the quoted answer is right (below the decision's
    threshold, Waymark abstained: ``reason`` ``low_confidence``)."""


@dataclass
class StageResult:
    text: str
    records: list[GuardrailRecord] = field(default_factory=list)
    blocked: bool = False
    message: str | None = None
    """What to tell the user when blocked (in their language); None means the default."""


@dataclass
class PassageResult:
    passages: list[SearchHit]
    """The passages that may reach the model (the others are quarantined)."""
    records: list[GuardrailRecord] = field(default_factory=list)


class Rails(Protocol):
    @property
    def policy_version(self) -> str: ...

    def snapshot(self) -> Rails:
        """The rails to judge one whole answer by (a live policy may change between answers)."""
        ...

    def check_input(self, question: str, language: str) -> StageResult:
        """The question's rails; the result's text has personal data redacted before any rail ran."""
        ...

    def check_passages(self, passages: Sequence[SearchHit], language: str) -> PassageResult: ...

    def check_partial(self, answer: str, cited: Collection[int], passages: Sequence[SearchHit],
                      language: str) -> StageResult:
        """The answer so far, while it streams: the output rails that can judge part of an answer
        (not those that add to it); nothing is recorded, the final ``check_output`` is."""
        ...

    def check_output(self, answer: str, citations: Sequence[Citation], passages: Sequence[SearchHit],
                     language: str) -> StageResult: ...
