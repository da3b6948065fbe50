"""Policy files: strict validation with lines, shipped policies, messages, the exported schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardrails.policy import Policy, PolicyError, shipped

REPO = Path(__file__).resolve().parents[1]

MINIMAL = """\
name: draft
version: "2"
owner: AI champions, Cabinet Office
input:
  - rail: pii
    action: redact
"""


def test_shipped_policies_load_and_are_labelled_by_content() -> None:
    for name in ("default", "strict"):
        policy = Policy.from_path(shipped(name))
        assert policy.name == name
        assert policy.label.startswith(f"{name}@1#") and len(policy.label.split("#")[1]) == 8
    a = Policy.from_yaml(MINIMAL)
    assert a.digest == Policy.from_yaml("# a comment changes nothing\n" + MINIMAL).digest
    assert a.digest != Policy.from_yaml(MINIMAL.replace("redact", "block")).digest


@pytest.mark.parametrize(("change", "line", "words"), [
    (("rail: pii", "rail: pi"), 5, ["input.0.rail", "unknown rail 'pi'", "known rails:", "injection"]),
    (("owner:", "ownr:"), 3, ["ownr", "Extra inputs are not permitted"]),
    (("action: redact", "action: redcat"), 6, ["input.0.action", "block", "redact"]),
    (("action: redact", "params: {entities: [email, shoe_size]}"), 6, ["input.0.params: entities.1", "shoe_size"]),
    (("input:", "output:\n  - rail: max_length\ninput:"), 5, ["output.0.rail", "cannot run at the output stage"]),
])
def test_each_mistake_is_named_with_its_line(change: tuple[str, str], line: int, words: list[str]) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_yaml(MINIMAL.replace(*change), "draft.yaml")
    text = str(info.value)
    assert f"draft.yaml: line {line}: " in text, text
    for word in words:
        assert word in text


def test_every_error_is_reported_not_only_the_first() -> None:
    bad = MINIMAL.replace("owner:", "ownr:") + "  - rail: max_length\n    params: {max_chars: 0, colour: red}\n"
    with pytest.raises(PolicyError) as info:
        Policy.from_yaml(bad)
    lines = str(info.value).splitlines()
    assert any("ownr" in x for x in lines) and any("max_chars" in x and "colour" in x for x in lines)


def test_the_scope_rail_needs_a_scope() -> None:
    with pytest.raises(PolicyError, match=r"the scope rail needs scope\.description"):
        Policy.from_yaml(MINIMAL + "  - rail: scope\n")
    assert Policy.from_yaml(MINIMAL + "  - rail: scope\nscope: {description: AI at work}\n").input[1].rail == "scope"


def test_broken_yaml_and_unreadable_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"line 2: not valid YAML"):
        Policy.from_yaml("name: x\n  version: [1", "p.yaml")
    with pytest.raises(PolicyError, match="a policy is a YAML mapping"):
        Policy.from_yaml("- just a list")
    with pytest.raises(PolicyError, match="cannot read the policy"):
        Policy.from_path(tmp_path / "missing.yaml")


def test_messages_fall_back_to_english_then_to_the_built_in() -> None:
    policy = Policy.from_yaml(MINIMAL + "messages:\n  en: {injection: EN text}\n  fr: {blocked: FR text}\n")
    assert policy.message("blocked", "fr") == "FR text"
    assert policy.message("injection", "fr") == "EN text"
    assert policy.message("too_long", "fr") == "Your question is too long. Please shorten it and ask again."
    with pytest.raises(PolicyError, match="messages"):
        Policy.from_yaml(MINIMAL + "messages:\n  French: {blocked: x}\n")
    with pytest.raises(PolicyError, match=r"messages\.fr\.blokked"):
        Policy.from_yaml(MINIMAL + "messages:\n  fr: {blokked: x}\n")


def test_the_committed_json_schema_is_current() -> None:
    committed = json.loads((REPO / "guardrails" / "policy.schema.json").read_text(encoding="utf-8"))
    assert committed == Policy.model_json_schema(), "run: waymark policy schema > guardrails/policy.schema.json"
