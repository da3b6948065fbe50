"""Calibrating ``abstain_below``: best-passage cosine for answerable vs off-topic questions.

Answerable questions: the seeds suite (``evals/suites/seeds.yaml``) and the sample corpus's
example questions (``docs/sample-corpus.md``). Off-topic: the suite's off-topic cases plus a
fixed list in several languages. On-topic unanswerable questions are reported but cannot be
separated by retrieval (they look like the guidance); the model's quote step handles them.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from evals.benchmarks.common import REPO, SAMPLE, SHARED, table
from evals.suite import load
from knowledge.base import KnowledgeBase

OFF_TOPIC = [
    "What is the capital of Peru?", "How do I bake sourdough bread?", "What is the speed of light?",
    "Recommend a good laptop for gaming", "Quelle est la meilleure recette de crêpes ?",
    "Hvem vandt Tour de France i 2022?", "מי כתב את המלט?", "Wie wird das Wetter morgen in Berlin?",
]


def sample_questions() -> list[str]:
    qs = []
    for line in (REPO / "docs" / "sample-corpus.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 6 and cells[1].startswith("`") and "?" in cells[5]:
            qs.append(re.sub(r"^\*\(EN→\w+\)\*\s*", "", cells[5]))
    return qs


def _best(kb: KnowledgeBase, questions: list[str]) -> list[float]:
    return sorted(max((h.similarity for h in kb.retriever.search(q, k=5)), default=0.0) for q in questions)


def run(thresholds: tuple[float, ...] = (0.76, 0.78, 0.80, 0.82)) -> str:
    groups: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.open(Path(tmp) / "sample")
        kb.ingestor.ingest([SAMPLE])
        groups["sample corpus: answerable"] = _best(kb, sample_questions())
        groups["sample corpus: off-topic"] = _best(kb, OFF_TOPIC)
        if (SHARED / "seeds").is_dir():
            suite = load("seeds")[0]
            kb = KnowledgeBase.open(Path(tmp) / "seeds")
            kb.ingestor.ingest([SHARED / "seeds"])
            groups["seeds: answerable"] = _best(kb, [c.question for c in suite.cases if c.kind == "answerable"])
            groups["seeds: on-topic unanswerable"] = _best(
                kb, [c.question for c in suite.cases if c.kind == "unanswerable" and not c.id.startswith("off")])
            groups["seeds: off-topic"] = _best(kb, [c.question for c in suite.cases if c.id.startswith("off")]
                                               + OFF_TOPIC)
    rows = []
    for name, sims in groups.items():
        below = [str(sum(1 for s in sims if s < t)) for t in thresholds]
        rows.append([name, str(len(sims)), f"{sims[0]:.3f}", f"{sims[len(sims) // 2]:.3f}", f"{sims[-1]:.3f}",
                     *below])
    return ("Best cosine among the top 5 hits per question; the last columns count questions that would "
            "abstain at each threshold (answerable: false abstentions; off-topic: correct ones).\n\n"
            + table(["group", "n", "min", "median", "max", *[f"< {t}" for t in thresholds]], rows))


if __name__ == "__main__":
    print(run())
