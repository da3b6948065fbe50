"""The policy store: versions with author, reason and hash; activation, rollback, and a runtime that
follows activations but keeps the last good policy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from guardrails.engine import PolicyRails
from guardrails.policy import Policy, PolicyError
from guardrails.store import LiveRails, PolicyStore
from tests.fakes import invoke, rail_tools

BASE = """\
name: team
version: "{version}"
owner: champions
input:
  - rail: max_length
    params: {{max_chars: {chars}}}
"""


def v(version: int, chars: int = 100) -> str:
    return BASE.format(version=version, chars=chars)


def test_versions_keep_author_reason_and_hash_and_the_same_content_is_not_stored_twice(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "p.sqlite")
    first = store.activate(v(1), "ada", "initial")
    assert (first.id, first.author, first.reason, first.active) == (1, "ada", "initial", True)
    assert first.digest == Policy.from_yaml(v(1)).digest and first.label.startswith("team@1#")
    assert store.activate(v(1), "bob", "again").id == 1 and len(store.history()) == 1
    second = store.activate(v(2, 10), "bob", "tighter")
    assert [x.id for x in store.history()] == [2, 1] and store.active_id() == 2
    assert "-    params: {max_chars: 100}\n+    params: {max_chars: 10}" in store.diff(1, 2)
    assert second.created <= store.get(2).created


def test_an_invalid_policy_is_refused_and_the_active_one_stays(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "p.sqlite")
    store.activate(v(1), "ada", "initial")
    with pytest.raises(PolicyError, match="unknown rail"):
        store.activate(v(2).replace("max_length", "max_lenght"), "bob", "typo")
    with pytest.raises(PolicyError, match="cannot start"):  # valid YAML whose rail cannot start here
        store.activate(v(3) + "  - rail: injection\n", "bob", "classifier",
                       check=lambda p: PolicyRails(p, rail_tools()))
    with pytest.raises(PolicyError, match="reason"):
        store.activate(v(4), "bob", "  ")
    assert store.active_id() == 1 and len(store.history()) == 1


def test_rollback_restores_earlier_behaviour_and_the_runtime_follows(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "p.sqlite")
    store.activate(v(1, 100), "ada", "initial")
    live = LiveRails(store, lambda p: PolicyRails(p, rail_tools()))
    question = "x" * 50
    assert not live.check_input(question, "en").blocked and live.policy_version.startswith("team@1#")
    store.activate(v(2, 10), "bob", "tighter")
    assert live.check_input(question, "en").blocked and live.policy_version.startswith("team@2#")
    store.rollback(1, "ada", "too tight")
    assert not live.check_input(question, "en").blocked and live.policy_version.startswith("team@1#")
    assert [a[:3] for a in store.activations()] == [(1, "ada", "too tight"), (2, "bob", "tighter"),
                                                    (1, "ada", "initial")]
    with pytest.raises(PolicyError, match="no policy version 9"):
        store.rollback(9, "ada", "oops")


def test_the_runtime_keeps_the_last_good_policy_when_a_new_one_cannot_start(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "p.sqlite")
    store.activate(v(1, 10), "ada", "initial")
    live = LiveRails(store, lambda p: PolicyRails(p, rail_tools()))
    store.activate(v(2) + "  - rail: injection\n", "bob", "stored without the start check")
    result = live.check_input("x" * 50, "en")
    assert result.blocked and live.policy_version.startswith("team@1#")  # v1 still in force
    with pytest.raises(PolicyError, match="no usable active policy"):
        LiveRails(store, lambda p: PolicyRails(p, rail_tools()))  # a fresh runtime has no last good one


@pytest.mark.slow  # ~120 s: four gate runs (rules and smoke, under both policies); the gate's logic is
# tested in process by test_gate_safety.py and through the studio by test_ui_app.py
def test_policy_commands_for_champions(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(v(2, 10), encoding="utf-8")  # keeps none of the required rails, and blocks every question
    assert invoke(tmp_path, "policy", "show").stdout.startswith("v1: default@1#")  # the shipped default, stored
    unsaid = invoke(tmp_path, "policy", "activate", str(draft), "--reason", "pilot")
    assert unsaid.returncode == 1 and "--based-on 1" in unsaid.stderr and "nothing was changed" in unsaid.stderr
    stale = invoke(tmp_path, "policy", "activate", str(draft), "--reason", "pilot", "--based-on", "none")
    assert stale.returncode == 1 and "the policy in force is now v1" in stale.stderr
    dropped = invoke(tmp_path, "policy", "activate", str(draft), "--reason", "pilot", "--based-on", "v1")
    assert dropped.returncode == 1 and "required rails (pii, injection, invisible_unicode)" in dropped.stderr
    regressed = invoke(tmp_path, "policy", "activate", str(draft), "--reason", "pilot", "--based-on", "1",
                    "--override-required-rails", "a closed pilot")
    # the admin's minimum gate ran (the draft names none): refusing every in-scope example regresses the rules
    assert regressed.returncode == 1 and "the gate regressed on rules" in regressed.stderr
    assert "false_refusal_rate 0.000->1.000" in regressed.stderr and "smoke runs" in regressed.stderr
    act = invoke(tmp_path, "policy", "activate", str(draft), "--reason", "pilot", "--author", "Ada", "--based-on", "1",
              "--override-required-rails", "a closed pilot", "--override")
    assert act.returncode == 0 and "v2  team@2#" in act.stdout and "Ada: pilot" in act.stdout, act.stderr
    question = "How long is an AI champion's term?"
    assert json_blocked(tmp_path, question)
    bad = tmp_path / "bad.yaml"
    bad.write_text(v(3).replace("max_length", "nope"), encoding="utf-8")
    refused = invoke(tmp_path, "policy", "activate", str(bad), "--reason", "x", "--based-on", "2")
    assert refused.returncode == 1 and "the policy in force is unchanged" in refused.stderr
    hist = invoke(tmp_path, "policy", "history").stdout
    assert "* v2  team@2#" in hist and "  v1  default@1#" in hist and "nope" not in hist
    assert "[required rails dropped: pii, injection, invisible_unicode; admin override: a closed pilot]" in hist
    assert "+    params: {max_chars: 10}" in invoke(tmp_path, "policy", "diff", "1", "2").stdout
    back = invoke(tmp_path, "policy", "rollback", "1", "--reason", "end of pilot", "--based-on", "2")
    assert back.returncode == 0, back.stderr
    assert not json_blocked(tmp_path, question)
    assert invoke(tmp_path, "policy", "show", "2", "--full").stdout == v(2, 10)
    fixed = invoke(tmp_path, "policy", "rollback", "2", "--reason", "x", "--based-on", "1", "--override",
                "--override-required-rails", "pilot again", env={"WAYMARK_POLICY": "strict"})
    assert fixed.returncode == 0 and "WAYMARK_POLICY=strict fixes the policy in use" in fixed.stderr


def json_blocked(data: Path, text: str) -> bool:
    import json

    return bool(json.loads(invoke(data, "guard", "check", "--json", text).stdout)["blocked"])


def test_one_answer_is_judged_by_one_policy_even_if_another_is_activated_meanwhile(tmp_path: Path) -> None:
    from tests.fakes import Searcher, make

    store = PolicyStore(tmp_path / "p.sqlite")
    store.activate(v(1, 100), "ada", "initial")
    live = LiveRails(store, lambda p: PolicyRails(p, rail_tools()))

    class ActivatingSearcher(Searcher):
        def search(self, query: str, k: int | None = None, *, also: Sequence[str] = ()) -> list:  # type: ignore[type-arg]
            if store.active_id() == 1:
                store.activate(v(2, 101), "bob", "while answering")
            return super().search(query, k, also=also)

    pipeline, _, _ = make("Set up in 2016 [1].", "Set up in 2016 [1].", rails=live, strategy="cite")
    pipeline.searcher = ActivatingSearcher()
    first = pipeline.answer("When was the team set up?")
    assert first.status == "answered" and first.policy_version.startswith("team@1#")
    assert {g.policy_version for g in first.guardrails} == {first.policy_version}
    second = pipeline.answer("When was the team set up?")
    assert second.policy_version.startswith("team@2#")
