"""Offline language identification (py3langid's bundled model; nothing is downloaded)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_HEBREW = re.compile(r"[\u0590-\u05FF]")
_LETTER = re.compile(r"[^\W\d_]")
UNDETERMINED = "und"


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, sample_chars: int = 6000) -> str:
    """ISO 639-1 code of ``text``'s main language, or ``"und"`` when there is too little text.

    Hebrew script is decided by its letters alone (langid sometimes confuses short Hebrew
    with Yiddish); everything else goes to langid's model of 97 languages.
    """
    sample = text[:sample_chars]
    letters = _LETTER.findall(sample)
    if len(letters) < 3:
        return UNDETERMINED
    if sum(1 for ch in letters if _HEBREW.match(ch)) / len(letters) > 0.3:
        return "he"
    lang, _prob = _identifier().classify(sample)
    return str(lang)
