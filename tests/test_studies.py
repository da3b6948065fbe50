"""The figure scripts (``evals/studies``) read the one case format and score with the registered metrics."""

from __future__ import annotations


def test_the_answer_quality_study_scores_with_the_registered_metrics() -> None:
    """``evals/studies/answer_quality.py`` runs ``Case``s and scores them with ``evals.metrics``: a wrong
    citation offset is not valid, and an error is counted apart, never as a right or wrong answer."""
    from evals.studies.answer_quality import HEADER, records, run_system
    from evals.suite import Case, Suite
    from guardrails.contracts import Answer, Citation

    doc = "A champion serves for two years, renewable once."
    cases = [Case(id="a", kind="answerable", question="How long?", language="en",
                  facts=[["two years"], ["re:renew(able|ed)? once"]], sources=["doc.en.md"]),
             Case(id="b", kind="answerable", question="Renewed?", language="en", facts=[["two terms"]],
                  sources=["doc.en.md"]),
             Case(id="c", kind="answerable", question="Broken?", language="en", facts=[["x"]]),
             Case(id="u", kind="unanswerable", question="Salary?", language="en")]
    cited = Citation(n=1, source="doc.en.md", title="Doc", section=None, quote=doc[:33], start=0, end=33,
                     score=0.9)
    answers = {
        "How long?": Answer(question="How long?", answer="Two years, renewable once [1].", status="answered",
                            language="en", citations=[cited], model="scripted", policy_version="none",
                            trace_id="t1"),
        "Renewed?": Answer(question="Renewed?", answer="It is renewable once [1].", status="answered",
                           language="en", citations=[cited.model_copy(update={"start": 1})], model="scripted",
                           policy_version="none", trace_id="t2"),
        "Salary?": Answer(question="Salary?", answer="Not covered.", status="abstained", language="en",
                          model="scripted", policy_version="none", trace_id="t3"),
    }

    def ask(question: str) -> Answer:
        if question not in answers:
            raise TimeoutError("the model did not answer")
        return answers[question]

    suite = Suite(suite="t", corpus="evals/suites/smoke_corpus", cases=cases)
    report = run_system("waymark", ask, suite, {"doc.en.md": doc}, lambda line: None)
    v = report.values
    assert (v["facts_accuracy"].successes, v["facts_accuracy"].n, v["facts_accuracy"].errors) == (1, 2, 1)
    assert (v["fact_recall"].successes, v["fact_recall"].n) == (2, 3)
    assert (v["citation_validity"].successes, v["citation_validity"].n) == (1, 2)
    assert (v["right_source_cited"].successes, v["right_source_cited"].n) == (2, 2)
    assert (v["abstention_accuracy"].successes, v["abstention_accuracy"].n) == (1, 1)
    row = dict(zip(HEADER, report.row(), strict=True))
    assert row["answer precision"].startswith("0.500") and row["wrong answers shown"].startswith("0.500")
    assert row["facts accuracy"].startswith("0.500") and row["facts accuracy"].endswith("+1 errors")
    assert row["errors"] == "1"
    lines = {r["case_id"]: r for r in records(report)}
    assert lines["a"]["failed"] == []
    assert lines["b"]["failed"] == ["answer_precision", "wrong_answer_rate", "facts_accuracy"]
    assert lines["c"]["status"] == "error" and "TimeoutError" in str(lines["c"]["error"])


def test_the_guardrail_figures_cases_are_a_suite_of_the_one_format() -> None:
    from evals.suite import load, shipped_names

    suite, _ = load("guardrails")
    assert "guardrails" in shipped_names() and len(suite.cases) == 90
    assert {c.kind for c in suite.cases} == {"benign", "injection"}
    assert {c.language for c in suite.cases} == {"en", "fr", "da", "he"}


def test_the_decision_study_counts_a_withheld_answer_as_neither_right_nor_wrong() -> None:
    """``evals.studies.answer_decision.figures``: a decision applied to recorded answers shows only those it keeps;
    facts accuracy still counts every answerable case, so withholding a right answer costs it."""
    from assistant.confidence import AnswerDecision
    from evals.studies.answer_decision import Row, figures
    from evals.suite import Case
    from guardrails.contracts import Answer

    decision = AnswerDecision(version="t", fitted_at="t", features=["quote_similarity"], means=[0.8], scales=[0.05],
                              weights=[2.0], bias=0.0, threshold=0.5, rule="test", l2=1.0, fitted_on={},
                              development={})

    def row(name: str, right: bool | None, similarity: float | None, kind: str = "answerable") -> Row:
        case = Case(id=name, kind=kind, question=f"{name}?", language="en",  # type: ignore[arg-type]
                    facts=[["x"]] if kind == "answerable" else [])
        answer = Answer(question=case.question, answer="a", status="answered" if right is not None else "abstained",
                        language="en", model="m", policy_version="p", trace_id=name,
                        signals={} if similarity is None else {"quote_similarity": similarity})
        return Row(case, "golden", answer, right)

    rs = [row("kept-right", True, 0.9), row("withheld-right", True, 0.7), row("withheld-wrong", False, 0.6),
          row("kept-wrong", False, 0.95, "unanswerable"), row("abstained", None, None)]
    before, after = figures(rs, None), figures(rs, decision)
    assert (before["answer precision"].successes, before["answer precision"].n) == (2, 4)
    assert (after["answer precision"].successes, after["answer precision"].n) == (1, 2)
    assert (after["wrong answers shown"].successes, after["wrong answers shown"].n) == (1, 2)
    assert (before["facts accuracy"].successes, before["facts accuracy"].n) == (2, 4)
    assert (after["facts accuracy"].successes, after["facts accuracy"].n) == (1, 4)
