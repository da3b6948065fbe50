"""The decision to answer (extract strategy): the numbers it rests on, and the calibrated model that weighs them.

``signals`` measures how well the quote fits the question: how close the best passages are, where the quoted
line stood among the lines the model read and how close it is, how much of it the model copied, whether it was
read in translation, and how many of the question's words it holds. They are recorded in the ``Answer``
(``signals``) so that the calibration (``evals/studies/answer_decision.py``) can fit on what the pipeline saw,
and an evaluator can see why an answer was shown. ``AnswerDecision`` is that fit: a logistic regression over the
signals giving the probability that a quoted answer is right, and the threshold below which Waymark abstains
(decision 0013). Its artefact is shipped with its sha256 pinned; ``load_decision`` refuses any other.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.quotes import Span, Unit
from guardrails.pinned import read_pinned
from knowledge.models import SearchHit

_WORD = re.compile(r"\w{4,}")


def _words(text: str) -> set[str]:
    text = unicodedata.normalize("NFKD", text)
    return set(_WORD.findall("".join(ch for ch in text if not unicodedata.combining(ch)).casefold()))


def signals(question: str, language: str, hits: Sequence[SearchHit], passages: Sequence[SearchHit],
            scored: Sequence[tuple[Unit, float]], spans: Sequence[Span], yes_no: bool) -> dict[str, float]:
    """What the pipeline knew when it chose ``spans[0]`` as the quote: ``scored`` is the shortlist the model
    read, closest first, with each line's similarity to the question."""
    span = spans[0]
    u = span.unit
    sims = sorted((h.similarity for h in hits), reverse=True) or [0.0]
    rank = next((i for i, (v, _) in enumerate(scored) if v == u), len(scored))
    asked = _words(question)
    held = _words(f"{u.title} {u.text} {u.shown}")
    return {
        "best_similarity": round(sims[0], 4),
        "second_similarity": round(sims[1] if len(sims) > 1 else 0.0, 4),
        "quote_rank": float(rank),
        "quote_similarity": round(scored[rank][1] if rank < len(scored) else 0.0, 4),
        "top_line_similarity": round(scored[0][1] if scored else 0.0, 4),
        "copied_share": round(min(1.0, len(span.text) / max(1, len(" ".join(u.shown.split())))), 4),
        "translated": float(u.translated),
        "cross_language": float(passages[u.n - 1].language != language),
        "passage_rank": float(u.n),
        "question_words_held": round(len(asked & held) / len(asked), 4) if asked else 0.0,
        "lines": float(len(spans)),
        "yes_no": float(yes_no),
    }


ARTEFACT = Path(__file__).resolve().parent / "data" / "answer_decision.json"
PINNED_SHA256 = "df4be6b44a5f97f2d064c1d0fc322f97f092fb84dab603967f1e531e55a68139"
"""The sha256 of the shipped artefact; ``python -m evals.studies.answer_decision --write`` updates this line."""


class DecisionUnavailable(Exception):
    """The decision's artefact is missing, changed or malformed; ``str(err)`` says which, in one sentence."""


class AnswerDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    fitted_at: str
    features: list[str]
    means: list[float]
    scales: list[float]
    weights: list[float]
    bias: float
    threshold: float
    """Abstain when the probability is below this."""
    rule: str
    """How the threshold was chosen."""
    l2: float
    fitted_on: dict[str, int]
    """Rows of the development split, by suite and outcome."""
    development: dict[str, float]
    """Precision and coverage on the development split at the threshold."""

    def probability(self, signals: Mapping[str, float]) -> float:
        """P(the quoted answer is right | its signals); a signal it lacks counts as its mean."""
        z = self.bias + sum(w * ((signals.get(f, m) - m) / s)
                            for f, m, s, w in zip(self.features, self.means, self.scales, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def load_decision(path: Path | None = None, sha256: str | None = None) -> AnswerDecision:
    """The artefact at ``path`` (the shipped one) if its sha256 is ``sha256`` (the pinned one) and it is well
    formed; else ``DecisionUnavailable``."""
    raw = read_pinned(path or ARTEFACT, sha256 or PINNED_SHA256, "the decision to answer", DecisionUnavailable,
                      "reinstall Waymark")
    try:
        return AnswerDecision.model_validate_json(raw)
    except ValidationError as exc:
        raise DecisionUnavailable(f"the decision to answer is malformed ({exc.error_count()} error(s))") from None
