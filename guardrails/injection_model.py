"""The trained injection classifier: a logistic regression over the multilingual query embedding the rails
already compute, plus two cheap features. Trained by ``python -m evals.train_injection`` (never at install or
test time) into ``guardrails/data/injection_model.json``, whose sha256 is pinned here: a missing, damaged or
swapped artefact refuses to load (``ModelError``), and the rail that needs it does not start (fail closed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardrails.pinned import read_pinned

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

ARTEFACT = Path(__file__).resolve().parent / "data" / "injection_model.json"
PINNED_SHA256 = "0ac01eb0c4ce33ce48f9dee5eebf00f5a6d7ba572f1cc7ae669b983995a69aea"
"""The sha256 of the shipped artefact; ``python -m evals.train_injection --write`` updates this line."""

FEATURES = "e5-small-query-head-tail-48+log-chars+encoded"
DIMENSIONS = 384


class ModelError(Exception):
    """The artefact is missing, damaged or not the one pinned; ``str(err)`` says which, in one sentence."""


class Validation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    attacks_blocked: float
    in_domain_refused: float
    general_refused: float
    n_attacks: int
    n_in_domain: int
    n_general: int


class InjectionModel(BaseModel):
    """The artefact: weights over ``features()``, the threshold chosen on the validation split, provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    trained_at: str
    seed: int
    features: Literal["e5-small-query-head-tail-48+log-chars+encoded"]
    weights: list[float] = Field(min_length=DIMENSIONS + 2, max_length=DIMENSIONS + 2)
    bias: float
    threshold: float = Field(gt=0.0, lt=1.0)
    rule: str
    """How the threshold was chosen (the decision record's rule)."""
    l2: float
    in_domain_weight: float
    training_digest: str
    """sha256 of the deduplicated training rows (text and label), in order."""
    rows: dict[str, int]
    validation: Validation

    def probability(self, embedding: NDArray[np.float32], text: str) -> float:
        """P(attack) for a text whose rail embedding is ``embedding``."""
        import numpy as np

        z = float(np.dot(np.asarray(self.weights, dtype=np.float64), features(embedding, text))) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def features(embedding: NDArray[np.float32], text: str) -> NDArray[np.float64]:
    """The embedding, then log(1 + characters) / 10 and whether an encoded payload (base64, hex, binary) decodes
    to readable text: attacks hide in long inputs and in encodings that the embedding does not read."""
    import numpy as np

    from guardrails.rails.injection import decodings

    encoded = any(kind != "rot13" for kind, _ in decodings(text))
    extra = np.asarray([math.log1p(len(text)) / 10.0, 1.0 if encoded else 0.0])
    return np.concatenate([np.asarray(embedding, dtype=np.float64).reshape(-1), extra])


def load(path: Path = ARTEFACT, sha256: str = PINNED_SHA256) -> InjectionModel:
    """The artefact at ``path`` if its sha256 is ``sha256`` and it is well formed; else ``ModelError``."""
    raw = read_pinned(path, sha256, "the injection classifier's artefact", ModelError,
                      "reinstall Waymark or retrain it with `python -m evals.train_injection`")
    try:
        return InjectionModel.model_validate_json(raw)
    except ValidationError as exc:
        raise ModelError(f"the injection classifier's artefact is malformed ({exc.error_count()} error(s))") from None
