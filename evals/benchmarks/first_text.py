"""Time to the first text a caller is shown, and total answer time, on the embedded model.

The real pipeline (``assistant.service.build_pipeline``: the configured policy's rails, the local model)
answers a fixed list of English questions about ``knowledge/sample_corpus``, ingested into a temporary
data directory; a recording ``Events`` notes when ``text`` is first called. With hold-back streaming
that is the first text the output rails passed; before it, the first raw token shown. Translations are
off (a fresh data directory has none, and making them would take minutes). Prints figures, asserts
nothing about them::

    python -m evals.benchmarks.first_text --strategy extract cite --questions 5 --models-dir /tmp/models
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.events import Events
from evals.benchmarks.common import SAMPLE, table

QUESTIONS = [
    ("dpia-review", "How often must a DPIA be reviewed?"),
    ("champion-term", "How long is an AI champion's term?"),
    ("meetingminder", "How long are MeetingMinder recordings kept?"),
    ("incident-desk", "Within what time must you report an AI incident to the AI Assurance Desk?"),
    ("not-covered", "How many days of annual leave do new staff get?"),  # in no document
]
WARM_UP = "What are the three golden rules for using generative AI tools at DPS?"


@dataclass
class Recorder(Events):
    """When each stage began and when text was first shown, in ms from ``started``."""

    started: float = field(default_factory=time.perf_counter)
    first_text_ms: float | None = None
    pieces: int = 0
    retractions: list[str | None] = field(default_factory=list)
    stages: list[tuple[str, float]] = field(default_factory=list)

    def _ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def stage(self, name: str) -> None:
        self.stages.append((name, self._ms()))

    def text(self, piece: str) -> None:
        if self.first_text_ms is None:
            self.first_text_ms = self._ms()
        self.pieces += 1

    def retract(self, message: str | None) -> None:  # hold-back streaming only
        self.retractions.append(message)


@dataclass(frozen=True)
class Row:
    strategy: str
    qid: str
    status: str
    reason: str | None
    first_text_ms: float | None
    first_token_ms: float | None
    total_ms: float
    pieces: int
    retractions: int


def _ms(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f}"


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
            f"Python {platform.python_version()}, load average {load} (1, 5, 15 min)")


def run(strategies: list[str], n_questions: int, models_dir: Path | None, warm_up: bool = True) -> list[Row]:
    import assistant
    from assistant.backends import chat_client
    from assistant.service import build_pipeline, open_knowledge_base
    from assistant.settings import Settings
    from assistant.weights import ensure_default_model

    print(f"code: {Path(assistant.__file__).parent}", flush=True)
    print(f"machine at start: {machine()}", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="waymark-first-text-") as tmp:
        model = str(ensure_default_model(models_dir)) if models_dir else None
        settings = Settings(data_dir=Path(tmp), translate=False, llm="local", llm_model=model)
        kb = open_knowledge_base(settings)
        t = time.perf_counter()
        report = kb.ingestor.ingest([SAMPLE])
        print(f"ingested: {report.summary()} in {time.perf_counter() - t:.1f} s", flush=True)
        llm = chat_client(settings)
        for strategy in strategies:
            tuned = settings.answer.model_copy(update={"strategy": strategy})
            pipeline = build_pipeline(settings.model_copy(update={"answer": tuned}), kb, llm)
            if warm_up:  # the first call pays for loading the model's pages and the rails' encoder
                t = time.perf_counter()
                pipeline.answer(WARM_UP, events=Recorder())
                print(f"{strategy}: warm-up {(time.perf_counter() - t) * 1000:.0f} ms", flush=True)
            for qid, question in QUESTIONS[:n_questions]:
                events = Recorder()
                answer = pipeline.answer(question, events=events)
                total = (time.perf_counter() - events.started) * 1000
                row = Row(strategy, qid, answer.status, answer.reason, events.first_text_ms,
                          answer.timings_ms.first_token, total, events.pieces, len(events.retractions))
                rows.append(row)
                print(f"{strategy} {qid}: status={row.status} reason={row.reason} "
                      f"first_text_ms={_ms(row.first_text_ms)} first_token_ms={_ms(row.first_token_ms)} "
                      f"total_ms={row.total_ms:.0f} pieces={row.pieces} retractions={row.retractions} "
                      f"answer={' '.join(answer.answer.split())[:120]!r}", flush=True)
    print(f"machine at end: {machine()}", flush=True)
    return rows


def report(rows: list[Row]) -> str:
    lines = table(["strategy", "question", "status", "first text ms", "model first token ms", "total ms",
                   "text calls", "retractions"],
                  [[r.strategy, r.qid, r.status + (f" ({r.reason})" if r.reason else ""), _ms(r.first_text_ms),
                    _ms(r.first_token_ms), f"{r.total_ms:.0f}", str(r.pieces), str(r.retractions)] for r in rows])
    medians = []
    for strategy in dict.fromkeys(r.strategy for r in rows):
        mine = [r for r in rows if r.strategy == strategy]
        shown = [r.first_text_ms for r in mine if r.first_text_ms is not None]
        medians.append([strategy, f"{statistics.median(shown):.0f}" if shown else "none",
                        f"{len(shown)} of {len(mine)}", f"{statistics.median(r.total_ms for r in mine):.0f}"])
    return lines + "\n\n" + table(["strategy", "median first text ms", "questions with text shown",
                                   "median total ms"], medians)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", nargs="+", choices=["extract", "cite"], default=["extract", "cite"])
    parser.add_argument("--questions", type=int, default=len(QUESTIONS), help=f"the first N of {len(QUESTIONS)}")
    parser.add_argument("--models-dir", type=Path, help="join the default model's weights here, once, and reuse "
                        "them (default: in the temporary data directory, every run)")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed first question per strategy")
    args = parser.parse_args()
    rows = run(args.strategy, args.questions, args.models_dir, not args.no_warm_up)
    print(report(rows))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
