"""Tests for knowledge.language.detect_language (offline py3langid model)."""

from __future__ import annotations

import pytest

from knowledge.language import UNDETERMINED, detect_language


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("en", "Please check every answer before you send it to a citizen."),
        ("fr", "Veuillez vérifier chaque réponse avant de l'envoyer à un usager."),
        ("da", "Det er vigtigt, at man altid tjekker svarene fra kunstig intelligens, "
               "før de bruges i sagsbehandlingen."),
        ("he", "יש לבדוק כל תשובה לפני שליחתה לאזרח."),
        ("de", "Bitte prüfen Sie jede Antwort, bevor Sie sie an einen Bürger senden."),
        ("es", "Por favor, revise cada respuesta antes de enviarla a un ciudadano."),
    ],
)
def test_short_sentences(code: str, text: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["", "   \n\t ", "12345 678 90", "3.14 -- 42! 2024-01-01", "ab"])
def test_too_little_text_is_undetermined(text: str) -> None:
    assert detect_language(text) == UNDETERMINED == "und"


def test_hebrew_with_some_english_words() -> None:
    text = "השתמשו ב-ChatGPT רק עם מידע ציבורי, ולעולם אל תדביקו מידע אישי או Confidential."
    assert detect_language(text) == "he"


def test_english_with_a_hebrew_word_stays_english() -> None:
    text = ("Staff in the department must check every answer from the assistant before "
            "they share it; the Hebrew word for safety is בטיחות.")
    assert detect_language(text) == "en"


def test_only_the_sample_prefix_is_used() -> None:
    english = "Please check every answer before you send it to a citizen. " * 5
    french = "Veuillez vérifier chaque réponse avant de l'envoyer à un usager. " * 50
    assert detect_language(english + french, sample_chars=len(english)) == "en"
    assert detect_language(english + french) == "fr"
