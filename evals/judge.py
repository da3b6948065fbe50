"""Optional LLM-judge metrics (``waymark eval run ... --judge openai``): faithfulness and relevance.

A judge model grades each answered case on a 1-5 scale, ``repeats`` times; the case's score is the
mean of its parsed grades, mapped to 0..1. A reply with no grade in it is an error of that metric
for that case (counted, never a 0 or a NaN); a case none of whose replies parse is left out of n.
The deterministic metrics stay the reference: a judge is another model, with its own mistakes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage, SystemMessage

from evals.metrics import CaseResult, MetricValue, mean_value

if TYPE_CHECKING:
    from assistant.llm import ChatClient

PROMPTS = {
    "judge_faithfulness": (
        "You grade answers of a government guidance assistant. Read the quoted passages and the answer. "
        "Reply with one digit from 1 to 5: 5 = every claim of the answer is stated in the passages, "
        "3 = some claims are not, 1 = the answer contradicts or ignores the passages."),
    "judge_relevance": (
        "You grade answers of a government guidance assistant. Read the question and the answer. "
        "Reply with one digit from 1 to 5: 5 = it answers exactly what was asked, 3 = partly, "
        "1 = it does not answer the question."),
}
_GRADE = re.compile(r"(?<!\d)([1-5])(?!\d)")


def grade(text: str) -> int | None:
    m = _GRADE.search(text)
    return int(m.group(1)) if m else None


def _messages(metric: str, r: CaseResult) -> list[SystemMessage | HumanMessage]:
    assert r.answer is not None
    quotes = "\n".join(f"[{c.n}] {c.quote}" for c in r.answer.citations) or "(none)"
    body = (f"Passages:\n{quotes}\n\nAnswer: {r.answer.answer}\n" if metric == "judge_faithfulness"
            else f"Answer: {r.answer.answer}\n")
    return [SystemMessage(PROMPTS[metric]), HumanMessage(f"{body}\nQuestion: {r.case.question}\nGrade:")]


def judge_metrics(judge: ChatClient, results: Sequence[CaseResult], repeats: int = 3) -> dict[str, MetricValue]:
    """Faithfulness and relevance over the answered cases, each graded ``repeats`` times."""
    out: dict[str, MetricValue] = {}
    answered = [r for r in results if r.answer is not None and r.answer.status == "answered"]
    for metric in PROMPTS:
        scores: list[float] = []
        errors = 0
        for r in answered:
            grades = []
            for _ in range(repeats):
                try:
                    g = grade(judge.stream(_messages(metric, r)).text)
                except Exception:  # the judge failed: an error of this metric, never a grade
                    g = None
                if g is None:
                    errors += 1
                else:
                    grades.append((g - 1) / 4)
            if grades:
                scores.append(sum(grades) / len(grades))
        out[metric] = mean_value(
            metric, f"{metric[6:].capitalize()} graded 1-5 by the judge model {judge.name}, {repeats} times, "
            "mapped to 0..1 (errors: replies with no grade)", "higher", scores, errors)
    return out
