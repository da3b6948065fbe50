"""Answer quality end to end: ``python -m evals.answer_quality`` (``make eval-local``).

Runs an answer suite (default ``evals/suites/seeds.yaml`` over ``../shared/seeds``) through
each chosen system and prints, per system, with n and 95% Wilson intervals:
facts accuracy, answered share, citation validity (quote == source[start:end]), right-source
citations, abstention correctness, errors, and median / p95 time to first token and total.

Systems: ``waymark`` (the shipped defaults, run as users run it: ``waymark ask --json`` per
question), ``waymark-extract`` / ``waymark-per-passage`` / ``waymark-cite`` (a fixed strategy), and
``langchain`` (a plain retrieve-and-stuff chain on the same embedder, store and model; ``evals.baseline``).
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evals.answers import citations_verbatim, facts_found
from evals.baseline import StuffChain
from evals.stats import Rate, percentile
from evals.suite import Case, Suite, load
from guardrails.contracts import Answer
from knowledge.loaders import load_document

REPO = Path(__file__).resolve().parents[1]
SYSTEMS = ("waymark", "waymark-extract", "waymark-per-passage", "waymark-cite", "langchain")


@dataclass
class CaseRun:
    case_id: str
    kind: str
    system: str
    status: str
    """answered | abstained | blocked | error (the runner's own failures are errors too)."""
    answer: str = ""
    facts: tuple[int, int] = (0, 0)
    citations: tuple[int, int] = (0, 0)
    cited_sources: list[str] = field(default_factory=list)
    quoted: list[tuple[str, int, int]] = field(default_factory=list)
    """(source, start, end) of each citation's quote, for drill-down."""
    first_token_ms: float | None = None
    total_ms: float | None = None
    wall_ms: float = 0.0
    detail: str = ""


@dataclass
class SystemReport:
    system: str
    runs: list[CaseRun]
    cases: dict[str, Case]

    def _of(self, kind: str) -> list[CaseRun]:
        return [r for r in self.runs if r.kind == kind]

    def facts_accuracy(self) -> Rate:
        runs = self._of("answerable")
        return Rate(sum(1 for r in runs if r.facts[1] and r.facts[0] == r.facts[1]), len(runs))

    def fact_recall(self) -> Rate:
        runs = self._of("answerable")
        return Rate(sum(r.facts[0] for r in runs), sum(r.facts[1] for r in runs))

    def answered(self) -> Rate:
        runs = self._of("answerable")
        return Rate(sum(1 for r in runs if r.status == "answered"), len(runs))

    def citation_validity(self) -> Rate:
        return Rate(sum(r.citations[0] for r in self.runs), sum(r.citations[1] for r in self.runs))

    def right_source(self) -> Rate:
        """Answered answerable cases whose citations include a document that holds the answer."""
        runs = [r for r in self._of("answerable") if r.status == "answered" and r.cited_sources]
        return Rate(sum(1 for r in runs if set(r.cited_sources) & set(self.cases[r.case_id].sources)), len(runs))

    def abstention(self) -> Rate:
        runs = self._of("unanswerable")
        return Rate(sum(1 for r in runs if r.status == "abstained"), len(runs))

    def errors(self) -> int:
        return sum(1 for r in self.runs if r.status == "error")

    def latency(self, attr: str, q: float) -> float | None:
        values = [v for r in self.runs if (v := getattr(r, attr)) is not None]
        if not values:
            return None
        return statistics.median(values) if q == 50 else percentile(values, q)

    def row(self) -> list[str]:
        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v / 1000:.1f} s"
        cites = self.citation_validity()
        return [self.system, str(self.facts_accuracy()), str(self.fact_recall()), str(self.answered()),
                str(cites) if cites.n else "no citations", str(self.right_source()), str(self.abstention()),
                str(self.errors()), ms(self.latency("first_token_ms", 50)), ms(self.latency("total_ms", 50)),
                ms(self.latency("total_ms", 95))]


HEADER = ["system", "facts accuracy", "fact recall", "answered (answerable)", "citation validity",
          "right source cited", "abstention correct", "errors", "median first token", "median total", "p95 total"]


# --- running one system ---------------------------------------------------------------------------------
def _score(case: Case, system: str, answer: Answer, documents: dict[str, str], wall_ms: float) -> CaseRun:
    return CaseRun(case.id, case.kind, system, answer.status, answer.answer, facts_found(answer, case.facts),
                   citations_verbatim(answer, documents), sorted({c.source for c in answer.citations}),
                   [(c.source, c.start, c.end) for c in answer.citations], answer.timings_ms.first_token,
                   answer.timings_ms.total, wall_ms, answer.reason or "")


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


def run_system(system: str, suite: Suite, data_dir: Path, documents: dict[str, str],
               log: Callable[[str], None]) -> SystemReport:
    ask: Callable[[str], Answer]
    if system == "langchain":
        ask = _baseline(data_dir)
    else:
        env = {"WAYMARK_ANSWER_STRATEGY": system.split("-", 1)[1]} if "-" in system else {}
        ask = cli_runner(data_dir, env)
    runs = []
    for i, case in enumerate(suite.cases, 1):
        t0 = time.perf_counter()
        try:
            answer = ask(case.question)
            run = _score(case, system, answer, documents, (time.perf_counter() - t0) * 1000)
        except Exception as exc:  # a runner failure is a counted error, never a silent zero
            run = CaseRun(case.id, case.kind, system, "error", wall_ms=(time.perf_counter() - t0) * 1000,
                          detail=f"{type(exc).__name__}: {exc}"[:300])
        runs.append(run)
        facts = f"facts {run.facts[0]}/{run.facts[1]}" if case.kind == "answerable" else ""
        log(f"[{system} {i}/{len(suite.cases)}] {case.id} {run.status} {facts} "
            f"{(run.total_ms or run.wall_ms) / 1000:.1f}s  {run.answer[:100]!r} {run.detail}")
    return SystemReport(system, runs, {c.id: c for c in suite.cases})


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
            f"({seconds / 60:.0f} min). Rates: value [95% Wilson interval] (n). Facts accuracy counts an "
            "answerable case right when every expected fact is stated; errors count as wrong.\n\n"
            + table(HEADER, [r.row() for r in reports]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, default=REPO / "evals" / "suites" / "seeds.yaml")
    parser.add_argument("--systems", default="waymark,langchain", help=f"comma-separated, from {SYSTEMS}")
    parser.add_argument("--data-dir", type=Path, default=None, help="index for the suite's corpus")
    parser.add_argument("--limit", type=int, default=None, help="only the first N cases")
    parser.add_argument("--every", type=int, default=1, help="only every K-th case (a spread-out sample)")
    parser.add_argument("--jsonl", type=Path, default=None, help="write every case's result here")
    parser.add_argument("--record", type=Path, default=None, help="write the table into this Markdown file")
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system(s) {unknown}; choose from {SYSTEMS}")
    suite = load(str(args.suite))[0]
    suite.cases = suite.cases[:: max(1, args.every)][: args.limit]
    data_dir = args.data_dir or REPO / ".cache" / "eval" / suite.suite

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    t0 = time.time()
    documents = prepare(suite, data_dir, log, translate=any(s.startswith("waymark") for s in systems))
    reports = [run_system(s, suite, data_dir, documents, log) for s in systems]
    if args.jsonl:
        args.jsonl.parent.mkdir(parents=True, exist_ok=True)
        args.jsonl.write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n"
                                      for rep in reports for r in rep.runs), encoding="utf-8")
    command = "python -m evals.answer_quality " + " ".join(sys.argv[1:])
    body = markdown(reports, suite, command.strip(), time.time() - t0)
    print(body)
    if args.record:
        from evals.benchmarks.common import replace_section

        sample = ((f", every {args.every}th case" if args.every > 1 else "")
                  + (f", first {args.limit}" if args.limit else ""))
        replace_section(args.record, f"Answer quality: {suite.suite} suite{sample}", body)


if __name__ == "__main__":
    main()
