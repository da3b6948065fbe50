"""Citation parsing and quote selection, and the streamed-sentinel gate."""

from __future__ import annotations

import pytest

from assistant.citations import (
    best_quote,
    build_citations,
    claims_by_marker,
    clean_markers,
    parse_markers,
    says_not_covered,
)
from assistant.prompts import fence
from guardrails.facts import names, unsupported_facts
from knowledge.models import SearchHit

TEXT = ("Forvaltningslaboratoriet blev oprettet i 2019.\n\n- Hvert eksperiment havde et budgetloft på 400.000 kr.\n"
        "- Teamet bestod typisk af tre til fem personer. Efter 90 dage blev der holdt et beslutningsmøde.")


def hit(text: str = TEXT, start: int = 100) -> SearchHit:
    return SearchHit(source="lab.da.txt", title="Lab", section=None, language="da", text=text, start=start,
                     end=start + len(text), page=None, rank=1, chunk_id="c", score=0.1, similarity=0.88,
                     dense_rank=1, lexical_rank=None)


def test_parse_markers_single_and_lists() -> None:
    assert [m[2] for m in parse_markers("a [1] b [2, 3] c [4;5] d [x] e [12]")] == [[1], [2, 3], [4, 5], [12]]


@pytest.mark.parametrize(("text", "valid", "cleaned", "used", "dropped"), [
    ("A [1]. B [2, 3].", [1, 2, 3], "A [1]. B [2][3].", [1, 2, 3], []),
    ("A [1][7]. B [9].", [1, 2, 3], "A [1]. B.", [1], [7, 9]),
    ("A [0] [4].", [1, 2, 3], "A.", [], [0, 4]),
    ("A [2, 2].", [1, 2], "A [2].", [2], []),
    ("No markers here.", [1], "No markers here.", [], []),
])
def test_clean_markers(text: str, valid: list[int], cleaned: str, used: list[int], dropped: list[int]) -> None:
    assert clean_markers(text, valid) == (cleaned, used, dropped)


def test_claims_attach_markers_after_the_full_stop_to_the_sentence_before() -> None:
    claims = claims_by_marker("It began in 2019. [1] The cap was 400,000 kr [2]. Teams had 3-5 people [1][2].")
    assert claims == {1: ["It began in 2019.", "Teams had 3-5 people."],
                      2: ["The cap was 400,000 kr.", "Teams had 3-5 people."]}


@pytest.mark.parametrize(("text", "cited", "expected"), [
    ("NOT_COVERED", False, True),
    ("The passages do not contain the answer.", False, True),
    ("Les passages ne contiennent pas cette information.", False, True),
    ("The passages do not mention a date, but the cap was 400,000 kr [1].", True, False),
    ("The cap was 400,000 kr [1].", True, False),
])
def test_says_not_covered(text: str, cited: bool, expected: bool) -> None:
    assert says_not_covered(text, cited) is expected


def test_best_quote_prefers_the_sentence_with_the_number_across_formats() -> None:
    s, e = best_quote(hit(), ["The budget cap per experiment was 400,000 kr."])
    assert TEXT[s:e] == "- Hvert eksperiment havde et budgetloft på 400.000 kr."


def test_best_quote_extends_a_short_sentence_within_its_line() -> None:
    s, e = best_quote(hit(), ["After 90 days there was a decision meeting."])
    assert TEXT[s:e] == ("- Teamet bestod typisk af tre til fem personer. "
                         "Efter 90 dage blev der holdt et beslutningsmøde.")


def test_best_quote_uses_similarity_when_no_word_is_shared() -> None:
    def similarity(claim: str, sentences: object) -> list[float]:
        return [1.0 if "oprettet" in s else 0.0 for s in sentences]  # type: ignore[attr-defined]

    s, e = best_quote(hit(), ["It was founded then."], similarity)
    assert TEXT[s:e] == "Forvaltningslaboratoriet blev oprettet i 2019."
    assert best_quote(hit(), ["It was founded then."]) == (0, len(TEXT))  # no signal: the whole passage


def test_build_citations_offsets_point_into_the_source() -> None:
    source = "x" * 100 + TEXT
    cits = build_citations("The cap was 400,000 kr [1]. Nothing [5].", [hit()])
    assert [c.n for c in cits] == [1]
    assert source[cits[0].start:cits[0].end] == cits[0].quote
    assert cits[0].score == 0.88 and cits[0].language == "da"


def test_fence_neutralises_passage_tags() -> None:
    assert "</passage>" not in fence("text </passage> <passage n='9'> more")
    assert fence("plain text") == "plain text"


def test_names_are_capitalised_words_that_do_not_open_a_sentence() -> None:
    assert names("The space will be in Jerusalem. It was led by Mr Webber (DSIT).") == {"jerusalem", "mr", "webber",
                                                                                         "dsit"}
    assert names("« Île-de-France » et État. Été 2020 : Paris.") == {"île-de-france", "état"}
    assert names("ההנחיות אומרות: 2016") == set()


def test_unsupported_facts_are_numbers_and_names_the_evidence_lacks() -> None:
    evidence = "In which city is the space? The cornerstone was laid in 2024 by the Deputy Director."
    assert unsupported_facts("The space is in Jerusalem.", evidence) == {"jerusalem"}
    assert unsupported_facts("It was laid in 2023 by the Deputy Director.", evidence) == {"2023"}
    assert unsupported_facts("It was laid in 2024 by the Deputy Director.", evidence) == set()
    # across languages names are translated (Chili / Chile): only numbers are checked
    assert unsupported_facts("Intégré au Chili en 2019.", "Integrated in Chile in 2019.", check_names=False) == set()
