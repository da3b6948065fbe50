"""``AnswerConfig``: how the answer path answers (``Settings.answer``; ``WAYMARK_ANSWER__*``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import NoDecode

Strategy = Literal["auto", "extract", "per-passage", "cite"]


class AnswerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Strategy = "auto"
    """``cite``: one call, the model writes [n] after each claim. ``extract``: the model reads the lines
    closest to the question and copies the words that answer; the line they stand in is the quote.
    ``per-passage``: as extract, one passage at a time, best passage first, until one answers. ``auto``:
    ``extract`` for the embedded model, ``cite`` for hosted ones (docs/decisions/0005-answer-strategy.md)."""
    extract_passages: int = Field(5, ge=1, le=20)
    """Passages whose lines compete to be quoted (extract strategy)."""
    shortlist: int = Field(8, ge=1, le=40)
    """Lines the model reads (extract strategy): the closest to the question by embeddings."""
    passages: int = Field(3, ge=1, le=20)
    """Passages in the prompt (each costs ~250 prompt tokens)."""
    search_k: int = Field(5, ge=1, le=100)
    """Hits retrieved (at least ``passages``; the extra ones are offered as "closest documents" when
    abstaining). The wiring sets it to the retrieval's ``k``."""
    abstain_below: float = Field(0.78, ge=0.0, le=1.0)
    """Abstain without asking the model when the best passage's cosine similarity is below this."""
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)
    """Extract strategy: abstain when the calibrated probability that the quoted answer is right is below this
    (``assistant.confidence``, decision 0013). None: the shipped decision's threshold; 0: no decision."""
    translate_question: bool = False
    """A question not in English is also searched, and its lines ranked, through the model's English translation
    of it (one short call). Off by default: the embedded 1.5B model's translations found no more evidence and
    invent in Hebrew (decision 0014); for a model that translates faithfully."""
    history_turns: int = Field(4, ge=0, le=50)
    """Earlier question/answer pairs kept for follow-ups."""
    write_languages: Annotated[tuple[str, ...], NoDecode] = ()
    """Extract strategy: languages (ISO 639-1, comma-separated) in which the model writes the answer from
    its quote (checked for numbers and names the quote lacks). In any other the answer is the quote
    itself, led by the copied words when they are in the asker's language: a 1.5B model invents when it
    writes (measured in docs/decisions/0005-answer-strategy.md)."""

    @field_validator("write_languages", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        return tuple(x.strip().lower() for x in v.split(",") if x.strip()) if isinstance(v, str) else v
