"""Does the question's English translation help a question in one language find a document in another?

For the answerable cases of the chosen suites whose question is not in English, each question is
translated once by the configured model (``WAYMARK_LLM``, default the embedded 1.5B model; kept in
``question-translations.json`` beside the suite's index) and the evidence is looked for, as
``evals.studies.evidence_recall`` does, under each way of using the translation:

- retrieval: the question alone; the translation instead of it; both, fused by reciprocal rank fusion;
- the line shortlist: ranked against the question, against the translation, or by the better of the two.

    python -m evals.studies.question_translation [--suites seeds,golden] [--k 5] [--shortlist 8]

Needs each suite's index with translations (``python -m evals.studies.answer_quality`` builds it).
Prints, per variant, the evidence passage among the top k and the evidence line among the lines the model
reads, with n and 95% Wilson intervals, per suite and together, and the seconds each translation took.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant import quotes
from assistant.service import embedding_similarity, open_knowledge_base, translations_path
from assistant.settings import Settings
from assistant.translation import TranslationStore
from evals.stats import Rate
from evals.studies import cache_dir
from evals.suite import Case, load
from knowledge.models import SearchHit

RETRIEVAL = ("question", "translation", "fused")
RANKING = ("question", "translation", "better")


def _flat(text: str) -> str:
    return " ".join(text.split())


def translate_questions(cases: Sequence[Case], path: Path, settings: Settings,
                        log: Callable[[str], None]) -> dict[str, tuple[str, float]]:
    """``{question: (translation, seconds)}``, translating only the questions not yet in ``path``."""
    done: dict[str, tuple[str, float]] = {}
    if path.is_file():
        done = {q: (t, s) for q, (t, s) in json.loads(path.read_text(encoding="utf-8")).items()}
    todo = [c.question for c in cases if c.question not in done]
    if todo:
        from assistant.backends import chat_client
        from assistant.translation import question_translation

        llm = chat_client(settings)
        for i, question in enumerate(todo, 1):
            t0 = time.perf_counter()
            got = question_translation(llm, question)
            done[question] = (got or "", round(time.perf_counter() - t0, 2))
            log(f"[{i}/{len(todo)}] {question!r} -> {got!r} ({done[question][1]} s)")
            path.write_text(json.dumps(done, ensure_ascii=False, indent=1), encoding="utf-8")
    return done


def best_of(question: str, translation: str, units: Sequence[quotes.Unit],
            similarity: Callable[[str, Sequence[str]], Sequence[float]], how: str, size: int) -> list[quotes.Unit]:
    """The shortlist of ``size`` lines ranked against the question, its translation or the better of both."""
    if how == "question" or not translation:
        return quotes.shortlist(question, units, similarity, size)
    if how == "translation":
        return quotes.shortlist(translation, units, similarity, size)
    return [u for u, _ in quotes.ranked(question, units, similarity, also=translation)[:size]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suites", default="seeds,golden")
    parser.add_argument("--k", type=int, default=5, help="passages whose lines compete (extract_passages)")
    parser.add_argument("--shortlist", type=int, default=8, help="lines the model reads")
    args = parser.parse_args()
    totals: dict[tuple[str, ...], list[int]] = {}
    seconds: list[float] = []
    for name in args.suites.split(","):
        suite = load(name)[0]
        settings = Settings(data_dir=cache_dir(suite.suite))
        cases = [c for c in suite.cases if c.kind == "answerable" and c.evidence and c.language != "en"]
        translated = translate_questions(cases, settings.data_dir / "question-translations.json", settings, print)
        kb = open_knowledge_base(settings)
        similarity = embedding_similarity(kb.embedder)
        store = TranslationStore(translations_path(settings))
        counts: dict[tuple[str, ...], list[int]] = {}
        for case in cases:
            evidence = _flat(case.evidence or "")
            translation = translated[case.question][0]
            seconds.append(translated[case.question][1])
            for retrieval in RETRIEVAL:
                if retrieval == "question" or not translation:
                    hits: list[SearchHit] = kb.retriever.search(case.question, k=args.k)
                elif retrieval == "translation":
                    hits = kb.retriever.search(translation, k=args.k)
                else:
                    hits = kb.retriever.search(case.question, k=args.k, also=[translation])
                found = any(evidence in _flat(h.text) for h in hits)
                known = store.get_many(h.text[s:e] for h in hits for s, e in quotes.text_units(h.text))
                units = quotes.units(hits, known)
                for ranking in RANKING:
                    pool = best_of(case.question, translation, units, similarity, ranking, args.shortlist)
                    read = any(evidence in _flat(u.text) or _flat(u.text) in evidence for u in pool)
                    keys: tuple[tuple[str, ...], ...] = ((retrieval, ranking), (retrieval, ranking, case.language))
                    for key in keys:
                        c = counts.setdefault(key, [0, 0, 0])
                        c[0] += found
                        c[1] += read
                        c[2] += 1
        print(f"\n{name}: {len(cases)} non-English answerable cases with evidence "
              f"({', '.join(sorted({c.language for c in cases}))})")
        _table(counts, args.k)
        for key, c in counts.items():
            t = totals.setdefault(key, [0, 0, 0])
            for i in range(3):
                t[i] += c[i]
        store.close()
    print(f"\nall suites together; translation seconds median {statistics.median(seconds):.1f}, "
          f"max {max(seconds):.1f} (n={len(seconds)})")
    _table(totals, args.k)


def _table(counts: dict[tuple[str, ...], list[int]], k: int) -> None:
    """All languages first, then one row per variant and language."""
    print(f"| retrieval | lines ranked against | language | evidence passage in top {k} | "
          "evidence line in the shortlist |")
    print("|---|---|---|---|---|")
    for key, (found, read, n) in sorted(counts.items(), key=lambda kv: (len(kv[0]), kv[0][2:], kv[0][:2])):
        language = key[2] if len(key) > 2 else "all"
        print(f"| {key[0]} | {key[1]} | {language} | {Rate(found, n)} | {Rate(read, n)} |")


if __name__ == "__main__":
    main()
