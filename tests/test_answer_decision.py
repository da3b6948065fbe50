"""The calibrated decision to answer: its artefact is checked like the model weights, and a quote judged
unlikely to answer makes Waymark abstain, with the closest passages, rather than show it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from assistant import confidence
from assistant.confidence import AnswerDecision, DecisionUnavailable, load_decision
from assistant.pipeline import Pipeline
from tests.fakes import DOC, make


def decision(threshold: float = 0.5) -> AnswerDecision:
    """P(right) rises with the quoted line's similarity: 0.5 at 0.8."""
    return AnswerDecision(version="t", fitted_at="t", features=["quote_similarity"], means=[0.8], scales=[0.05],
                          weights=[2.0], bias=0.0, threshold=threshold, rule="test", l2=1.0, fitted_on={},
                          development={})


def copy(words: str) -> str:
    return json.dumps({"answer": words})


def with_similarity(score: float, threshold: float = 0.5, **cfg: object) -> Pipeline:
    pipeline = make(copy("three to six months"), strategy="extract", **cfg)[0]
    pipeline.similarity = lambda q, texts: [score] * len(texts)
    pipeline.decision = decision(threshold)
    return pipeline


def test_a_quote_judged_unlikely_to_answer_abstains_and_says_how_likely() -> None:
    a = with_similarity(0.7).answer("How long do projects last?")
    assert a.status == "abstained" and a.reason == "low_confidence" and a.citations == []
    assert a.confidence is not None and a.confidence < 0.5 and a.signals["quote_similarity"] == 0.7
    assert a.closest and a.closest[0].quote  # the passages it came closest in are still shown
    # with the line the model found, withheld, rather than the one closest by embeddings
    assert "three to six months" in a.closest[0].quote
    doc = DOC[a.closest[0].start:a.closest[0].end]
    assert doc == a.closest[0].quote
    b = with_similarity(0.9).answer("How long do projects last?")
    assert b.status == "answered" and b.confidence is not None and b.confidence > 0.5


def test_the_threshold_can_be_set_and_the_decision_turned_off() -> None:
    assert with_similarity(0.7, min_confidence=0.01).answer("How long do projects last?").status == "answered"
    off = with_similarity(0.7, min_confidence=0.0).answer("How long do projects last?")
    assert off.status == "answered" and off.confidence is None


def test_a_signal_the_decision_lacks_counts_as_its_mean() -> None:
    assert decision().probability({}) == 0.5


def test_the_shipped_decision_loads_and_its_digest_is_pinned() -> None:
    d = load_decision()
    assert hashlib.sha256(confidence.ARTEFACT.read_bytes()).hexdigest() == confidence.PINNED_SHA256
    assert 0 < d.threshold < 1 and len(d.features) == len(d.weights) == len(d.means) == len(d.scales)
    assert d.development["answer_precision"] >= 0.9


@pytest.mark.parametrize(("damage", "said"), [
    (lambda p: p.unlink(), "cannot be read"),
    (lambda p: p.write_text(p.read_text().replace('"threshold": ', '"threshold": 0.0', 1)), "not the one shipped"),
    (lambda p: p.write_bytes(p.read_bytes()[:40]), "not the one shipped"),
])
def test_a_missing_or_changed_decision_is_refused_with_a_sentence(tmp_path: Path, damage: object,
                                                                  said: str) -> None:
    path = tmp_path / "answer_decision.json"
    path.write_bytes(confidence.ARTEFACT.read_bytes())
    damage(path)  # type: ignore[operator]
    with pytest.raises(DecisionUnavailable, match=said):
        load_decision(path)


def test_a_malformed_decision_with_a_matching_digest_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answer_decision.json"
    path.write_text('{"threshold": "high"}')
    with pytest.raises(DecisionUnavailable, match="malformed"):
        load_decision(path, hashlib.sha256(path.read_bytes()).hexdigest())


def test_the_cli_will_not_answer_without_its_decision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from ui.cli.main import app

    monkeypatch.setattr(confidence, "ARTEFACT", tmp_path / "absent.json")
    done = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "ask", "How long do projects last?"],
                              env={"WAYMARK_LLM": "fake"})
    assert done.exit_code == 1 and type(done.exception).__name__ == "CliError"  # printed as one line by main()
    assert str(done.exception).startswith("Waymark will not answer: the decision to answer cannot be read")
