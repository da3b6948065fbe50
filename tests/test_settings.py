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
    assert s.chroma_url is None and s.k == 5 and s.lexical == "sparse"
    assert s.chunking().target_tokens <= s.chunking().max_tokens


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAYMARK_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("WAYMARK_CHROMA_URL", "http://127.0.0.1:8123/")
    monkeypatch.setenv("WAYMARK_K", "7")
    s = Settings()
    assert s.data_dir == tmp_path / "d" and s.chroma_url == "http://127.0.0.1:8123" and s.k == 7
    assert s.retrieval().k == 7


def test_write_languages_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYMARK_ANSWER_WRITE_LANGUAGES", "EN, fr,")
    assert Settings().answer_write_languages == ("en", "fr")
    monkeypatch.setenv("WAYMARK_ANSWER_WRITE_LANGUAGES", "")
    assert Settings().answer_write_languages == ()


@pytest.mark.parametrize(("key", "value"), [
    ("WAYMARK_CHROMA_URL", "localhost:8000"), ("WAYMARK_K", "0"), ("WAYMARK_LEXICAL", "tfidf"),
    ("WAYMARK_CHUNK_OVERLAP_TOKENS", "500"),
])
def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_keyword_is_an_error() -> None:
    with pytest.raises(ValidationError):
        Settings(chunk_size=3)  # type: ignore[call-arg]
