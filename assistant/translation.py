"""Machine translation to a pivot language (English), done once per text unit and kept.

The embedded 1.5B model reads Hebrew, Danish and French passages poorly but translates a
single paragraph faithfully, so non-English passages are translated unit by unit (the same
units the extract strategy quotes from) and the translations are stored beside the index,
keyed by a hash of the unit's text, the target language and the prompt version. Work is
committed unit by unit: an interrupted run resumes where it stopped, and re-ingesting an
unchanged document costs nothing. Citations always point at the original text; the
translation is only what the model reads (and what a UI may show, marked as machine
translation).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage, SystemMessage

from assistant.quotes import text_units

if TYPE_CHECKING:
    from assistant.llm import ChatClient
    from knowledge.embeddings import E5Embedder
    from knowledge.store import KnowledgeStore

PIVOT = "en"
PROMPT_VERSION = "t1"
SYSTEM = (
    "Translate the user's text into English. Keep every name, number, date, amount and title exactly; "
    "give a name's original spelling in brackets when you transliterate it. Reply with the translation only."
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    source_language TEXT NOT NULL,
    target_language TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    translation TEXT NOT NULL,
    seconds REAL NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    source_language TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    at REAL NOT NULL
)
"""


def unit_key(text: str, target: str = PIVOT) -> str:
    return hashlib.sha256(f"{PROMPT_VERSION}\x00{target}\x00{' '.join(text.split())}".encode()).hexdigest()


class TranslationStore:
    """A small SQLite table of translations; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def get_many(self, texts: Iterable[str], target: str = PIVOT) -> dict[str, str]:
        """``{text: translation}`` for the texts already translated."""
        by_key = {unit_key(t, target): t for t in texts}
        found: dict[str, str] = {}
        keys = list(by_key)
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, translation FROM translations WHERE key IN ({','.join('?' * len(part))})", part)
                found.update({by_key[k]: tr for k, tr in rows})
        return found

    def put(self, text: str, translation: str, source_language: str, model: str, seconds: float,
            target: str = PIVOT) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (unit_key(text, target), source_language, target, model, text, translation,
                              seconds, time.time()))

        self.clear_failure(text, target)

    def put_failure(self, text: str, source_language: str, reason: str, target: str = PIVOT) -> None:
        """A unit that could not be translated (kept until a later run translates it)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO failures VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(key) DO UPDATE SET "
                "reason = excluded.reason, attempts = failures.attempts + 1, at = excluded.at",
                (unit_key(text, target), source_language, text, reason, time.time()))

    def clear_failure(self, text: str, target: str = PIVOT) -> None:
        with self._lock:
            self._db.execute("DELETE FROM failures WHERE key = ?", (unit_key(text, target),))

    def failures(self) -> list[FailedUnit]:
        """Units the last runs could not translate, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT text, source_language, reason, attempts FROM failures ORDER BY at").fetchall()
        return [FailedUnit(text, language, reason, attempts) for text, language, reason, attempts in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass(frozen=True)
class FailedUnit:
    text: str
    language: str
    reason: str
    attempts: int = 1


@dataclass
class TranslationReport:
    units: int = 0
    cached: int = 0
    translated: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: list[FailedUnit] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.units} passages to read in English: {self.cached} already translated, "
                f"{self.translated} translated now, {self.failed} failed ({self.seconds:.0f} s)")


def pivot_units(chunks: Iterable[tuple[str, str, str]], target: str = PIVOT) -> list[tuple[str, str]]:
    """``(unit text, language)`` for every quotable unit of the chunks not in ``target``.

    ``chunks`` are ``(source, text, language)``; units are the extract strategy's units, so a
    translation maps one to one onto what the model may quote.
    """
    out: dict[str, str] = {}
    for _source, text, language in chunks:
        if language in (target, "und"):
            continue
        for s, e in text_units(text):
            out.setdefault(text[s:e], language)
    return list(out.items())


def unit_documents(chunks: Iterable[tuple[str, str, str]]) -> dict[str, list[str]]:
    """For each unit of ``chunks`` (``(source, text, language)``), the documents it appears in."""
    out: dict[str, list[str]] = {}
    for source, text, _language in chunks:
        for s, e in text_units(text):
            names = out.setdefault(text[s:e], [])
            if source not in names:
                names.append(source)
    return out


def failed_units(translations: TranslationStore, chunks: Iterable[tuple[str, str, str]],
                 ) -> list[tuple[FailedUnit, list[str]]]:
    """The failed units still in the index, with the documents they are in (none is lost: each stays
    failed until a run translates it)."""
    failures = translations.failures()
    if not failures:
        return []
    where = unit_documents(chunks)
    return [(f, where[f.text]) for f in failures if f.text in where]


class Translator:
    def __init__(self, llm: ChatClient, store: TranslationStore, target: str = PIVOT) -> None:
        self.llm = llm
        self.store = store
        self.target = target

    def attempt(self, text: str, attempts: int = 2) -> tuple[str | None, str]:
        """(translation, "") or (None, why the last of ``attempts`` tries failed)."""
        reason = ""
        for _ in range(attempts):
            gen = self.llm.complete([SystemMessage(SYSTEM), HumanMessage(text)])
            out = gen.text.strip()
            if gen.error:
                reason = f"the model failed: {gen.error}" + (f" ({gen.error_detail})" if gen.error_detail else "")
            elif gen.finish_reason == "length":
                reason = "the translation was cut at the length limit"
            elif not gen.finished:
                reason = "the model's reply stopped before its end"
            elif not out:
                reason = "the model replied with nothing"
            else:
                return out, ""
        return None, reason

    def translate(self, units: Sequence[tuple[str, str]],
                  progress: Callable[[int, int], None] | None = None) -> TranslationReport:
        """Translate ``(text, language)`` units not yet in the store; each is saved as soon as done."""
        report = TranslationReport()
        todo_all = list(dict.fromkeys((t, lang) for t, lang in units if lang != self.target))
        report.units = len(todo_all)
        done = self.store.get_many([t for t, _ in todo_all], self.target)
        todo = [(t, lang) for t, lang in todo_all if t not in done]
        report.cached = report.units - len(todo)
        t_start = time.perf_counter()
        for i, (text, lang) in enumerate(todo, 1):
            t0 = time.perf_counter()
            out, reason = self.attempt(text)  # a failed unit is tried once more, then kept as failed
            if out is None:
                report.failed += 1
                report.errors.append(FailedUnit(text, lang, reason))
                self.store.put_failure(text, lang, reason, self.target)
            else:
                self.store.put(text, out, lang, self.llm.name, time.perf_counter() - t0, self.target)
                report.translated += 1
            if progress:
                progress(i, len(todo))
        report.seconds = time.perf_counter() - t_start
        return report


QUESTION_MAX_TOKENS = 96
"""A question's translation is cut here: a longer reply is not a translation of a question."""


def question_translation(llm: ChatClient, question: str) -> str | None:
    """The question in English, for retrieval and line ranking only (never shown, never read by the model as an
    instruction); None when the model fails, stops early or replies with something much longer than a
    translation."""
    gen = llm.complete([SystemMessage(SYSTEM), HumanMessage(question)], max_tokens=QUESTION_MAX_TOKENS)
    out = " ".join(gen.text.split())
    if gen.error or not gen.finished or gen.finish_reason == "length" or not out or len(out) > 3 * len(question) + 40:
        return None
    return out


def pivot_text(text: str, translations: dict[str, str]) -> str | None:
    """The chunk with each translated unit replaced by its translation; None if none is translated."""
    spans = text_units(text)
    if not any(text[s:e] in translations for s, e in spans):
        return None
    return "\n".join(translations.get(text[s:e], text[s:e]) for s, e in spans)


def index_translations(store: KnowledgeStore, embedder: E5Embedder, translations: TranslationStore,
                       batch: int = 16) -> int:
    """Embed every translated non-English chunk into the store's pivot collection; returns how many
    chunks are indexed through a translation. A chunk whose translated text is already embedded is
    not embedded again.

    Retrieval then finds a Hebrew, Danish or French passage through its English translation
    as well as through its own text.
    """
    from knowledge.ingest import embedding_text
    chunks = [c for c in store.chunk_records() if c.language not in (PIVOT, "und")]
    known = translations.get_many([c.text[s:e] for c in chunks for s, e in text_units(c.text)])
    texts = [(c, embedding_text(c.model_copy(update={"text": t})))
             for c in chunks if (t := pivot_text(c.text, known)) is not None]
    done = store.pivot_digests([c.id for c, _ in texts])
    todo = [(c, text, digest) for c, text in texts
            if done.get(c.id) != (digest := hashlib.sha256(text.encode()).hexdigest()[:16])]
    for i in range(0, len(todo), batch):
        part = todo[i:i + batch]
        store.put_pivot([c.id for c, _, _ in part], embedder.passages([text for _, text, _ in part]),
                        [c.source for c, _, _ in part], [c.language for c, _, _ in part], [d for _, _, d in part])
    return len(texts)
