"""The settings module: defaults, environment, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    s = Settings()
    assert s.data_dir == tmp_path / "waymark"
    assert s.chroma_url is None and s.retrieval.k == 5 and s.retrieval.lexical == "sparse"
    assert s.chunking.target_tokens <= s.chunking.max_tokens
    assert s.answer.strategy == "auto" and s.answer.passages == 3 and s.answer.abstain_below == 0.78


def test_one_default_per_setting() -> None:
    """The tree's branches are the config objects the packages take: one default, one set of bounds."""
    from assistant.answer_config import AnswerConfig
    from knowledge.chunking import ChunkingConfig
    from knowledge.retrieval import RetrievalConfig

    s = Settings()
    assert (s.chunking, s.retrieval, s.answer) == (ChunkingConfig(), RetrievalConfig(), AnswerConfig())
    for bad in ({"chunking": {"target_tokens": 16}}, {"retrieval": {"k": 101}}, {"answer": {"passages": 0}}):
        with pytest.raises(ValidationError):
            Settings(**bad)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAYMARK_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("WAYMARK_CHROMA_URL", "http://127.0.0.1:8123/")
    monkeypatch.setenv("WAYMARK_K", "7")
    s = Settings()
    assert s.data_dir == tmp_path / "d" and s.chroma_url == "http://127.0.0.1:8123" and s.retrieval.k == 7


def test_nested_names_and_the_flat_names_before_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYMARK_ANSWER_PASSAGES", "2")  # the flat name from before the tree
    monkeypatch.setenv("WAYMARK_ANSWER__ABSTAIN_BELOW", "0.5")
    monkeypatch.setenv("WAYMARK_CHUNK_MAX_TOKENS", "400")
    s = Settings()
    assert (s.answer.passages, s.answer.abstain_below, s.chunking.max_tokens) == (2, 0.5, 400)
    monkeypatch.setenv("WAYMARK_ANSWER__PASSAGES", "4")  # the tree's own name wins over the flat one
    assert Settings().answer.passages == 4
    assert Settings(answer_passages=1).answer.passages == 1  # and a keyword (a suite's, --set) over both
    assert Settings(k=3, retrieval={"lexical": "bm25"}).retrieval.model_dump(include={"k", "lexical"}) == {
        "k": 3, "lexical": "bm25"}


def test_write_languages_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYMARK_ANSWER_WRITE_LANGUAGES", "EN, fr,")
    assert Settings().answer.write_languages == ("en", "fr")
    monkeypatch.setenv("WAYMARK_ANSWER_WRITE_LANGUAGES", "")
    assert Settings().answer.write_languages == ()
    monkeypatch.setenv("WAYMARK_ANSWER__WRITE_LANGUAGES", "da,he")
    assert Settings().answer.write_languages == ("da", "he")


@pytest.mark.parametrize(("key", "value"), [
    ("WAYMARK_CHROMA_URL", "localhost:8000"), ("WAYMARK_K", "0"), ("WAYMARK_LEXICAL", "tfidf"),
    ("WAYMARK_CHUNK_OVERLAP_TOKENS", "500"), ("WAYMARK_RETRIEVAL__K", "0"), ("WAYMARK_ANSWER__STRATEGY", "guess"),
])
def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_keyword_is_an_error() -> None:
    with pytest.raises(ValidationError):
        Settings(chunk_size=3)  # type: ignore[call-arg]
