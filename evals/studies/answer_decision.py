"""Fit the decision to answer (``assistant.confidence.AnswerDecision``) on recorded answers, and report it.

    python -m evals.studies.answer_decision RUN.jsonl [RUN.jsonl ...] [--write]

(a case in a later RUN replaces the same case of an earlier one: a re-run of some cases after a change)

Each RUN is the ``--jsonl`` of ``python -m evals.studies.answer_quality`` over a shipped suite (``golden``,
``seeds``), run with the decision off (``WAYMARK_ANSWER__MIN_CONFIDENCE=0``, which is what the recorded
signals come from either way). Steps:
1. the answered cases that quoted (their ``signals`` recorded), of kinds answerable and unanswerable; right =
   an answerable case stating every expected fact (``evals.metrics.answer_precision``);
2. split by a seeded hash of the case id: ``HELD_OUT`` of the cases are never fitted or tuned on;
3. an L2-regularised logistic regression over the standardised signals (``evals.train_injection.fit``);
4. the threshold: the lowest (so the most answers kept) at which the development split's answers are right at
   least ``TARGET`` of the time (``RULE``);
5. the held-out figures: precision, wrong answers and coverage before and after, each with n and a 95% Wilson
   interval, as applying the threshold to the recorded signals (the decision reads nothing else).
``--write`` writes the artefact, pins its sha256 in ``assistant/confidence.py`` and draws the held-out
precision/coverage curve to ``docs/answer-decision-curve.svg``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from assistant import confidence
from evals.metrics import CaseResult, answer_precision
from evals.plots import curve_svg
from evals.stats import Rate, percentile
from evals.suite import REPO, Case, load
from evals.train_injection import fit, pin, sigmoid
from guardrails.contracts import Answer

FEATURES = ("best_similarity", "second_similarity", "quote_rank", "quote_similarity", "top_line_similarity",
            "copied_share", "translated", "cross_language", "passage_rank", "question_words_held", "lines", "yes_no")
CHECK = "model_check"
"""``--with-check``: also the model's check of the (question, quote) pair, which ``evals.studies.answer_check`` adds
to recorded runs (a study: the pipeline makes no such call)."""
HELD_OUT = 0.4
SEED = "answer-decision-1"
L2 = 3.0
"""A strong penalty: a hundred-odd rows and twelve signals."""
TARGET = 0.92
RULE = (f"the lowest threshold at which at least {TARGET:.0%} of the development split's answers shown are right "
        f"(a little above the 90% bar, for the noise of a small split)")
CURVE = REPO / "docs" / "answer-decision-curve.svg"
MODULE = REPO / "assistant" / "confidence.py"


@dataclass(frozen=True)
class Row:
    case: Case
    suite: str
    answer: Answer
    right: bool | None
    """None: not answered (nothing shown); else whether the shown answer was right."""

    @property
    def held_out(self) -> bool:
        h = int(hashlib.sha256(f"{SEED}\x00{self.suite}\x00{self.case.id}".encode()).hexdigest()[:8], 16)
        return h / 0xFFFFFFFF < HELD_OUT

    @property
    def quoted(self) -> bool:
        return self.right is not None and bool(self.answer.signals)


def rows(paths: list[Path]) -> list[Row]:
    """The cases of every run; a case in a later run replaces the same case of an earlier one (a re-run)."""
    suites = {name: {c.id: c for c in load(name)[0].cases} for name in ("golden", "seeds")}
    out: dict[tuple[str, str], Row] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["kind"] not in ("answerable", "unanswerable") or rec["answer"] is None:
                continue
            suite = next((s for s, cases in suites.items() if rec["case_id"] in cases), None)
            if suite is None:
                raise SystemExit(f"{path}: case {rec['case_id']!r} is in no shipped suite")
            case, answer = suites[suite][rec["case_id"]], Answer.model_validate(rec["answer"])
            got = answer_precision(CaseResult(case, answer))
            out[suite, case.id] = Row(case, suite, answer, got if isinstance(got, bool) else None)
    return list(out.values())


def design(rs: list[Row], features: tuple[str, ...]) -> np.ndarray:
    missing = sorted({f for r in rs for f in features if f not in r.answer.signals})
    if missing:
        raise SystemExit(f"recorded answers lack the signal(s) {missing}: run evals.studies.answer_check first")
    return np.asarray([[r.answer.signals[f] for f in features] for r in rs], dtype=np.float64)


def choose(p: np.ndarray, right: np.ndarray) -> float:
    """The lowest threshold (step 0.01) with development precision >= TARGET; 0.99 if none."""
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        kept = p >= t
        if kept.any() and right[kept].mean() >= TARGET:
            return float(t)
    return 0.99


def figures(rs: list[Row], decision: confidence.AnswerDecision | None) -> dict[str, Rate]:
    """Over ``rs`` (answerable and unanswerable cases): answers shown right, shown wrong, answerable cases
    answered right (facts accuracy), with the decision applied (None: as recorded)."""
    shown = [r for r in rs if r.right is not None and (
        decision is None or not r.answer.signals or decision.probability(r.answer.signals) >= decision.threshold)]
    right = sum(bool(r.right) for r in shown)
    answerable = [r for r in rs if r.case.kind == "answerable"]
    facts = sum(bool(r.right) for r in shown if r.case.kind == "answerable")
    return {"answer precision": Rate(right, len(shown)), "wrong answers shown": Rate(len(shown) - right, len(shown)),
            "facts accuracy": Rate(facts, len(answerable))}


def report_shipped(every: list[Row]) -> None:
    """The shipped decision (``assistant/data/answer_decision.json``), unchanged, over new runs: each split, and
    the suites' groups on both."""
    shipped = confidence.load_decision()
    print(f"the shipped decision ({shipped.version}, threshold {shipped.threshold:.2f}) over {len(every)} cases\n")
    print("| cases | measure | as recorded (no decision) | with the shipped decision |\n|---|---|---|---|")
    groups = [("held out", [r for r in every if r.held_out]), ("development", [r for r in every if not r.held_out]),
              ("all", every)]
    groups += [(f"all, {tag}", [r for r in every if tag in r.case.tags]) for tag in ("yes-no", "list", "same-language")]
    for name, part in groups:
        before, after = figures(part, None), figures(part, shipped)
        for measure in before:
            print(f"| {name} | {measure} | {before[measure]} | {after[measure]} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="answer_quality --jsonl files (golden, seeds)")
    parser.add_argument("--write", action="store_true", help="write the artefact, pin it, draw the curve")
    parser.add_argument("--with-check", action="store_true", help=f"fit with the {CHECK} signal as well")
    parser.add_argument("--shipped", action="store_true", help="only report the shipped decision on these runs")
    args = parser.parse_args(argv)
    features = (*FEATURES, CHECK) if args.with_check else FEATURES
    if args.shipped:
        report_shipped(rows(args.runs))
        return
    every = rows(args.runs)
    dev = [r for r in every if not r.held_out and r.quoted]
    x = design(dev, features)
    y = np.asarray([bool(r.right) for r in dev], dtype=np.float64)
    means, scales = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - means) / scales
    balance = np.where(y == 1, len(y) / (2 * max(1, int(y.sum()))), len(y) / (2 * max(1, int((1 - y).sum()))))
    w, b = fit(z, y, balance, L2)
    threshold = choose(sigmoid(z @ w + b), y.astype(bool))
    fitted_on = {f"{s}/{'right' if k else 'wrong'}": sum(1 for r in dev if r.suite == s and r.right is k)
                 for s in ("golden", "seeds") for k in (True, False)}
    draft = confidence.AnswerDecision(
        version=datetime.now(UTC).strftime("%Y-%m-%d"), fitted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        features=list(features), means=[round(float(v), 6) for v in means],
        scales=[round(float(v), 6) for v in scales], weights=[round(float(v), 6) for v in w], bias=round(b, 6),
        threshold=threshold, rule=RULE, l2=L2, fitted_on=fitted_on, development={})
    dev_all = [r for r in every if not r.held_out]
    dev_after = figures(dev_all, draft)
    decision = draft.model_copy(update={"development": {
        "answer_precision": round(dev_after["answer precision"].value or 0.0, 4),
        "shown": dev_after["answer precision"].n,
        "facts_accuracy": round(dev_after["facts accuracy"].value or 0.0, 4)}})
    held = [r for r in every if r.held_out]
    print(f"rows: {len(every)} answerable/unanswerable cases; development {len(dev_all)} ({len(dev)} quoted answers: "
          f"{fitted_on}), held out {len(held)}")
    print(f"weights: {', '.join(f'{f} {v:+.2f}' for f, v in zip(features, w, strict=True))}; bias {b:+.2f}")
    print(f"threshold {threshold:.2f} ({RULE})\n")
    print("| split | measure | as recorded (no decision) | with the decision |\n|---|---|---|---|")
    for name, part in (("development", dev_all), ("held out", held)):
        before, after = figures(part, None), figures(part, decision)
        for measure in before:
            print(f"| {name} | {measure} | {before[measure]} | {after[measure]} |")
    times = [r.answer.timings_ms.total / 1000 for r in every if r.answer.timings_ms.total is not None]
    if times:
        print(f"\ntotal answer time over the {len(times)} cases: median {percentile(times, 50):.1f} s, "
              f"p95 {percentile(times, 95):.1f} s (as recorded; the decision adds one dot product)")
    abstained = [r for r in every if r.case.kind == "answerable" and r.answer.status == "abstained"]
    shown = sum(1 for r in abstained if any(ref.source in r.case.sources and ref.quote for ref in r.answer.closest))
    print(f"abstained answerable cases whose closest passages shown include a source of the answer: "
          f"{Rate(shown, len(abstained))} (as recorded, both splits)")
    tags = ("yes-no", "list", "same-language")
    print("\n| held out, by group | answer precision (recorded) | with the decision | facts accuracy, with it |"
          "\n|---|---|---|---|")
    for tag in tags:
        part = [r for r in held if tag in r.case.tags]
        before, after = figures(part, None), figures(part, decision)
        print(f"| {tag} | {before['answer precision']} | {after['answer precision']} | {after['facts accuracy']} |")
    if args.write:
        raw = (decision.model_dump_json(indent=1) + "\n").encode()
        confidence.ARTEFACT.write_bytes(raw)
        pin(hashlib.sha256(raw).hexdigest(), MODULE)
        quoted = [r for r in held if r.quoted]
        p = np.asarray([decision.probability(r.answer.signals) for r in quoted])
        ok = np.asarray([bool(r.right) for r in quoted])
        points = [(float((p >= t).mean()), float(ok[p >= t].mean()), float(t))
                  for t in np.round(np.arange(0.0, 1.0, 0.02), 2) if (p >= t).any()]
        CURVE.write_text(curve_svg(points, threshold, "Decision to answer, held-out split",
                                   "coverage (quoted answers kept)", y_floor=0.0), encoding="utf-8")
        print(f"\nwrote {confidence.ARTEFACT.relative_to(REPO)} (sha256 pinned) and {CURVE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
