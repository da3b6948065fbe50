"""The password rule for local accounts: at least 12 characters, and not a common password.

"Common" is a list of 19,646 passwords that ships with the project (``data/common-passwords.txt.gz``,
from Django, BSD licence: ``data/COMMON-PASSWORDS-LICENSE.md``). A password is refused when it, or
what is left of it once digits and punctuation at its ends are taken off (``Password2024!`` ->
``password``), is on the list; when it holds the user name; or when it uses fewer than 5 different
characters (``aaaaaaaaaaaa``, ``abababababab``).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
_LIST = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
_ENDS = "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "


@cache
def common() -> frozenset[str]:
    with gzip.open(_LIST, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def weakness(password: str, name: str = "") -> str | None:
    """Why ``password`` is refused for the user ``name``, in one sentence; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    folded = password.casefold()
    core = folded.strip(_ENDS)
    if folded in common() or (len(core) >= 4 and core in common()):
        return "that password is on the list of common passwords; choose another"
    if name and len(name) >= 3 and name.casefold() in folded:
        return "a password must not contain the user name"
    if len(set(folded)) < 5:
        return "a password needs at least 5 different characters"
    return None
