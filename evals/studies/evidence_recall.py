"""Where the evidence is lost before the model reads it (embeddings only, no LLM).

For each answerable case of an answer suite that names its ``evidence``, through the same
retriever, translations and line shortlist as the extract strategy: is the evidence in one of
the top-k passages, and is its line among the lines the model would read? The product of
these two and the model's copy accuracy bounds facts accuracy (decision record 0005).

    python -m evals.studies.evidence_recall [--k 5] [--shortlist 8] [--per-source N]

Needs the suite's index with translations (``python -m evals.studies.answer_quality`` builds it).
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Sequence
from pathlib import Path

from assistant import quotes
from assistant.service import embedding_similarity, open_knowledge_base, translations_path
from assistant.settings import Settings
from assistant.translation import TranslationStore
from evals.stats import Rate
from evals.studies import cache_dir
from evals.suite import load
from knowledge.models import SearchHit


def _flat(text: str) -> str:
    return " ".join(text.split())


def per_source(hits: Sequence[SearchHit], k: int, limit: int | None) -> list[SearchHit]:
    """The first ``k`` hits, at most ``limit`` from any one document (None: no limit)."""
    out: list[SearchHit] = []
    count: collections.Counter[str] = collections.Counter()
    for h in hits:
        if limit is None or count[h.source] < limit:
            out.append(h)
            count[h.source] += 1
    return out[:k]


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="seeds", help="a shipped suite's name or a suite file")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--k", type=int, default=5, help="passages whose lines compete (extract_passages)")
    parser.add_argument("--shortlist", type=int, default=8, help="lines the model reads")
    parser.add_argument("--per-source", type=int, default=None, help="at most N passages per document")
    args = parser.parse_args()
    suite = load(args.suite)[0]
    settings = Settings(data_dir=args.data_dir or cache_dir(suite.suite))
    kb = open_knowledge_base(settings)
    similarity = embedding_similarity(kb.embedder)
    translations = TranslationStore(translations_path(settings))
    cases = [c for c in suite.cases if c.kind == "answerable" and c.evidence]
    in_passages, in_shortlist, misses = 0, 0, []
    for case in cases:
        evidence = _flat(case.evidence or "")
        hits = per_source(kb.retriever.search(case.question, k=3 * args.k), args.k, args.per_source)
        found = any(evidence in _flat(h.text) for h in hits)
        known = translations.get_many(h.text[s:e] for h in hits for s, e in quotes.text_units(h.text))
        pool = quotes.shortlist(case.question, quotes.units(hits, known), similarity, args.shortlist)
        read = any(evidence in _flat(u.text) or _flat(u.text) in evidence for u in pool)
        in_passages += found
        in_shortlist += read
        if not read:
            misses.append(case.id + ("" if found else " (not retrieved)"))
    print(f"cases with evidence: {len(cases)}; k={args.k}, shortlist={args.shortlist}, "
          f"per source={args.per_source or 'any'}")
    print(f"evidence passage in the top {args.k}: {Rate(in_passages, len(cases))}")
    print(f"evidence line in the shortlist:  {Rate(in_shortlist, len(cases))}")
    print("lost: " + ", ".join(misses))


if __name__ == "__main__":
    main()
