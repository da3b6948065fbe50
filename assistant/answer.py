"""The ``Answer``: what every question produces, and the ``waymark ask --json`` contract.

Field names here are a public contract (the CLI's JSON output, the eval suite, the UI):
add fields if needed, never rename them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["answered", "abstained", "blocked", "error"]
Verdict = Literal["pass", "fail", "error"]
Stage = Literal["input", "retrieval", "output"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    """A document the answer considered (shown with abstentions as "closest documents")."""

    source: str
    title: str
    section: str | None
    score: float


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
