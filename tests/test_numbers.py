"""Numbers compared as values across languages and formats (the grounding checks rely on it)."""

from __future__ import annotations

import pytest

from guardrails.facts import unsupported_numbers
from guardrails.numbers import values


@pytest.mark.parametrize(("text", "expected"), [
    ("2,000 or 2.000 or 2 000 or 2000", {"2000"}),
    ("5.7 million", {"5.7", "5700000"}),
    ("5,7 mio. kr.", {"5.7", "5700000"}),
    ("70K users", {"70", "70000"}),
    ("125 אלף ליש\"ט", {"125", "125000"}),
    ("July 15, 2017", {"15", "2017", "date:2017-07-15"}),  # a day and a year, not 152017
    ("2017-07-15 to 2019-01-14", {"2017", "7", "15", "2019", "1", "14", "date:2017-07-15", "date:2019-01-14"}),
    ("Senest opdateret 05. marts 2013", {"5", "2013", "date:2013-03-05"}),
    ("le 5 mars 2013, en juin 2025", {"5", "2013", "date:2013-03-05", "2025"}),
    ("the 2023/24 budget year", {"2023", "24"}),
    ("4.8 out of 5", {"4.8", "5"}),
    ("no numbers here", set()),
])
def test_values(text: str, expected: set[str]) -> None:
    assert values(text) == expected


def test_the_same_quantity_in_another_format_is_supported() -> None:
    evidence = "accessed over 113K times; savings of 5.7 מיליון ליש\"ט; Reporting period: 2017-07-15 to 2019-01-14"
    assert unsupported_numbers("It was accessed 113,000 times and saved £5.7 million.", evidence) == set()
    assert unsupported_numbers("The report covers July 15, 2017 to January 14, 2019.", evidence) == set()
    assert unsupported_numbers("It saved £6 million.", evidence) == {"6", "6000000"}
    # a whole date must be stated, not just its day and year somewhere in the evidence
    assert unsupported_numbers("It was adopted on July 15, 2019.", evidence) == {"date:2019-07-15"}
