"""Answer quality end to end: ``python -m evals.studies.answer_quality`` (``make eval-local``).

Runs an answer suite (default ``the shipped `seeds` suite`` over ``../shared/seeds``) through
each chosen system and prints, per system, with n and 95% Wilson intervals:
facts accuracy, answered share, citation validity (quote == source[start:end]), right-source
citations, abstention correctness, errors, and median / p95 time to first token and total.

Systems: ``waymark`` (the shipped defaults, run as users run it: ``waymark ask --json`` per
question), ``waymark-extract`` / ``waymark-per-passage`` / ``waymark-cite`` (a fixed strategy), and
``langchain`` (a plain retrieve-and-stuff chain on the same embedder, store and model; ``evals.studies.baseline``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evals.metrics import CaseResult, MetricValue, compute, fact_recall, failures
from evals.stats import Rate, percentile
from evals.studies import cache_dir
from evals.studies.baseline import StuffChain
from evals.suite import Suite, load
from guardrails.contracts import Answer
from knowledge.loaders import load_document

SYSTEMS = ("waymark", "waymark-extract", "waymark-per-passage", "waymark-cite", "langchain")


SHOWN = ("answer_precision", "wrong_answer_rate", "facts_accuracy", "fact_recall", "answer_rate", "citation_validity",
         "right_source_cited", "abstention_accuracy", "abstention_evidence_shown")
"""The registered metrics (``evals.metrics``) this table shows, in its column order: trust first."""
HEADER = ["system", "answer precision", "wrong answers shown", "facts accuracy", "fact recall",
          "answered (answerable)", "citation validity", "right source cited", "abstention correct",
          "abstentions showing the evidence", "errors", "median first token", "median total", "p95 total"]


@dataclass
class SystemReport:
    system: str
    results: list[CaseResult]

    @property
    def values(self) -> dict[str, MetricValue]:
        return compute(self.results)

    def errors(self) -> int:
        return sum(r.status == "error" for r in self.results)

    def latency(self, attr: str, q: float) -> float | None:
        timings = [r.answer.timings_ms for r in self.results if r.answer is not None]
        values = [v for t in timings if (v := getattr(t, attr)) is not None]
        if not values:
            return None
        return statistics.median(values) if q == 50 else percentile(values, q)

    def row(self) -> list[str]:
        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v / 1000:.1f} s"

        def rate(m: MetricValue | None) -> str:
            if m is None or not m.n or m.successes is None:
                return "n/a"
            return str(Rate(m.successes, m.n)) + (f" +{m.errors} errors" if m.errors else "")

        values = self.values
        return [self.system, *(rate(values.get(name)) for name in SHOWN), str(self.errors()),
                ms(self.latency("first_token", 50)), ms(self.latency("total", 50)), ms(self.latency("total", 95))]


def records(report: SystemReport) -> list[dict[str, object]]:
    """Each case's line in ``--jsonl``: what was asked, what came back, and which metrics it failed."""
    failed = failures(report.values)
    return [{"system": report.system, "case_id": r.case.id, "kind": r.case.kind, "status": r.status,
             "error": r.error, "wall_ms": round(r.wall_ms, 1), "failed": failed.get(r.case.id, []),
             "answer": r.answer.model_dump(mode="json") if r.answer else None} for r in report.results]


# --- running one system ---------------------------------------------------------------------------------
def cli_runner(data_dir: Path, env: dict[str, str]) -> Callable[[str], Answer]:
    """Each question through ``waymark ask --json``, exactly as a user or script runs it."""
    def run(question: str) -> Answer:
        proc = subprocess.run([*_waymark(), "--data-dir", str(data_dir), "ask", "--json", question],
                              capture_output=True, text=True, env={**os.environ, **env}, timeout=1800)
        if not proc.stdout.strip():
            raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return Answer.model_validate_json(proc.stdout)
    return run


def _waymark() -> list[str]:
    exe = Path(sys.executable).with_name("waymark")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ui.cli.main"]


def asker(system: str, data_dir: Path) -> Callable[[str], Answer]:
    """How ``system`` answers a question over the index in ``data_dir``."""
    if system == "langchain":
        return _baseline(data_dir)
    return cli_runner(data_dir, {"WAYMARK_ANSWER_STRATEGY": system.split("-", 1)[1]} if "-" in system else {})


def run_system(system: str, ask: Callable[[str], Answer], suite: Suite, documents: dict[str, str],
               log: Callable[[str], None]) -> SystemReport:
    """Every case of ``suite`` through ``ask``, scored by the registered metrics."""
    results = []
    for i, case in enumerate(suite.cases, 1):
        t0 = time.perf_counter()
        try:
            result = CaseResult(case, ask(case.question), documents=documents)
        except Exception as exc:  # a runner failure is a counted error, never a silent zero
            result = CaseResult(case, None, error=f"{type(exc).__name__}: {exc}"[:300], documents=documents)
        result.wall_ms = (time.perf_counter() - t0) * 1000
        results.append(result)
        answer = result.answer
        got = fact_recall(result) if result.status != "error" else None
        facts = f"facts {got[0]}/{got[1]}" if isinstance(got, tuple) and case.kind == "answerable" else ""
        log(f"[{system} {i}/{len(suite.cases)}] {case.id} {result.status} {facts} {result.wall_ms / 1000:.1f}s  "
            f"{(answer.answer if answer else '')[:100]!r} {result.error or (answer.reason if answer else '') or ''}")
    return SystemReport(system, results)


def _baseline(data_dir: Path) -> Callable[[str], Answer]:
    from assistant.backends import chat_client
    from assistant.citations import says_not_covered
    from assistant.service import open_knowledge_base
    from assistant.settings import Settings

    settings = Settings(data_dir=data_dir)
    chain = StuffChain(open_knowledge_base(settings), chat_client(settings).model, k=settings.answer.passages)

    def run(question: str) -> Answer:
        res = chain.answer(question)
        if res.error:
            raise RuntimeError(res.error)
        abstained = says_not_covered(res.text, False) or "don't know" in res.text.casefold()
        return Answer(question=question, answer=res.text, status="abstained" if abstained else "answered",
                      language="und", model="langchain-stuff", policy_version="none", trace_id="baseline",
                      timings_ms={"first_token": res.first_token_ms, "total": res.total_ms})
    return run


# --- the corpus -----------------------------------------------------------------------------------------
def prepare(suite: Suite, data_dir: Path, log: Callable[[str], None], translate: bool = True) -> dict[str, str]:
    """Ingest the suite's corpus (unchanged files are skipped), translate its non-English passages
    (``waymark translate``), and return each document's text."""
    from assistant.service import open_knowledge_base
    from assistant.settings import Settings

    corpus = suite.corpus_path(data_dir)
    if not corpus.is_dir():
        raise SystemExit(f"skipped: the suite's corpus {corpus} is absent")
    kb = open_knowledge_base(Settings(data_dir=data_dir))
    report = kb.ingestor.ingest([corpus])
    log(report.summary())
    if not report.ok:
        raise SystemExit("ingestion failed: " + "; ".join(o.line() for o in report.outcomes))
    if translate:  # once per corpus and model: cached by content, so later runs skip it
        proc = subprocess.run([*_waymark(), "--data-dir", str(data_dir), "translate"], capture_output=True,
                              text=True, timeout=6 * 3600)
        log(proc.stdout.strip() or proc.stderr.strip()[-300:])
    return {p.name: load_document(p, 50_000_000).text for p in sorted(corpus.iterdir()) if p.is_file()}


def markdown(reports: list[SystemReport], suite: Suite, command: str, seconds: float) -> str:
    from evals.benchmarks.common import table

    kinds = {k: sum(1 for c in suite.cases if c.kind == k) for k in ("answerable", "unanswerable")}
    return (f"Suite `{suite.suite}`: {len(suite.cases)} cases ({kinds['answerable']} answerable, "
            f"{kinds['unanswerable']} unanswerable), corpus `{suite.corpus}`. Command: `{command}` "
            f"({seconds / 60:.0f} min). Rates: value [95% Wilson interval] (n). Answer precision: answers shown "
            "that were right (an answered unanswerable case is wrong). Facts accuracy counts an "
            "answerable case right when every expected fact is stated. Every rate is a registered metric "
            "(`evals/metrics.py`); a case that errored is in none of them and is counted in its own column "
            "(and after the rate it would have been in).\n\n"
            + table(HEADER, [r.row() for r in reports]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="seeds", help="a shipped suite's name or a suite file")
    parser.add_argument("--systems", default="waymark,langchain", help=f"comma-separated, from {SYSTEMS}")
    parser.add_argument("--data-dir", type=Path, default=None, help="index for the suite's corpus")
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases")
    parser.add_argument("--every", type=int, default=1, help="only every K-th case (a spread-out sample)")
    parser.add_argument("--kinds", default=None, help="only cases of these kinds (comma-separated)")
    parser.add_argument("--jsonl", type=Path, default=None, help="write every case's result here")
    parser.add_argument("--record", type=Path, default=None, help="write the table into this Markdown file")
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system(s) {unknown}; choose from {SYSTEMS}")
    suite = load(args.suite)[0]
    if args.kinds:
        kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
        suite.cases = [c for c in suite.cases if c.kind in kinds]
    suite.cases = suite.cases[:: max(1, args.every)][: args.limit]
    data_dir = args.data_dir or cache_dir(suite.suite)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    t0 = time.time()
    documents = prepare(suite, data_dir, log, translate=any(s.startswith("waymark") for s in systems))
    reports = [run_system(s, asker(s, data_dir), suite, documents, log) for s in systems]
    if args.jsonl:
        args.jsonl.parent.mkdir(parents=True, exist_ok=True)
        args.jsonl.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n"
                                      for rep in reports for line in records(rep)), encoding="utf-8")
    command = "python -m evals.studies.answer_quality " + " ".join(sys.argv[1:])
    body = markdown(reports, suite, command.strip(), time.time() - t0)
    print(body)
    if args.record:
        from evals.benchmarks.common import replace_section

        sample = ((f", every {args.every}th case" if args.every > 1 else "")
                  + (f", first {args.limit}" if args.limit else "") + (f", kinds {args.kinds}" if args.kinds else ""))
        replace_section(args.record, f"Answer quality: {suite.suite} suite{sample}", body)


if __name__ == "__main__":
    main()
