"""Numbers as values, so a grounding check can compare them across languages and formats.

``2,000`` = ``2.000`` = ``2 000`` = ``2000``; ``5.7 million`` = ``5,7 mio.`` = ``5 700 000``;
``70K`` = ``70,000``; ``15, 2017`` is two numbers, not one. A separator followed by exactly
three digits groups thousands; otherwise ``.`` or ``,`` is a decimal mark. Dates in any
order of day, month and year yield their parts (``2017-07-15`` -> 2017, 7, 15) and, when
complete, the whole date (``date:2017-07-15``), so "July 15, 2019" is not supported by
"2017-07-15 ... 2019-01-14" merely because its day and year appear somewhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[,.\u00a0\u202f ]\d{3}(?!\d))+|\d+)(?:[.,](\d+))?(?![\d])"
    r"(?:\s?(k|K|thousand|tusind|mille|milliers?|אלף|million|millions|mio\.?|mn|m|M|מיליון|"
    r"billion|billions|bn|mia\.?|milliards?|מיליארד)(?![\w]))?"
)

_SCALE = {"k": 10**3, "thousand": 10**3, "tusind": 10**3, "mille": 10**3, "millier": 10**3,
          "milliers": 10**3, "אלף": 10**3, "million": 10**6, "millions": 10**6, "mio": 10**6,
          "mio.": 10**6, "mn": 10**6, "m": 10**6, "מיליון": 10**6, "billion": 10**9,
          "billions": 10**9, "bn": 10**9, "mia": 10**9, "mia.": 10**9, "milliard": 10**9,
          "milliards": 10**9, "מיליארד": 10**9}


_MONTHS = {name: i for names in (
    "january february march april may june july august september october november december",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "januar februar marts april maj juni juli august september oktober november december",
    "jan feb mar apr may jun jul aug sep oct nov dec",
) for i, name in enumerate(names.split(), 1)}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = [  # (pattern, order of the groups: y m d)
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b"), "dmy"),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE), "mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:of\s+)?{_MONTH}\s+(\d{{4}})\b", re.IGNORECASE), "dmy"),
]


def dates(text: str) -> set[str]:
    """Complete dates in ``text`` as ``date:YYYY-MM-DD``."""
    found = set()
    for pattern, order in _DATES:
        for m in pattern.finditer(text):
            parts = dict(zip(order, m.groups(), strict=True))
            month = _MONTHS.get(parts["m"].casefold().rstrip(".")) if not parts["m"].isdigit() else int(parts["m"])
            day, year = int(parts["d"]), int(parts["y"])
            if month and 1 <= month <= 12 and 1 <= day <= 31:
                found.add(f"date:{year:04d}-{month:02d}-{day:02d}")
    return found


def values(text: str) -> set[str]:
    """The numbers ``text`` states, each as a canonical decimal string ("5700000", "1.5", "2017").

    A number with a scale word also counts bare ("5.7 million" gives 5700000 and 5.7), so an
    answer may round-trip the scale either way.
    """
    found = dates(text)
    for m in _NUMBER.finditer(text):
        whole, fraction, scale = m.group(1), m.group(2), m.group(3)
        digits = re.sub(r"\D", "", whole)
        try:
            value = Decimal(f"{digits}.{fraction}" if fraction else digits)
        except InvalidOperation:
            continue
        found.add(_canonical(value))
        if scale:
            found.add(_canonical(value * _SCALE[scale.casefold() if scale != "M" else "m"]))
    return found


def _canonical(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
