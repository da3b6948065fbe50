"""Personal data never comes to rest: after questions, ratings, comments, an export, the log and an eval
run, no file in the data directory holds any of it, under either shipped policy.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.answer_config import AnswerConfig
from assistant.audit import AuditStore
from assistant.fake_llm import ScriptedChatModel
from assistant.llm import ChatClient, RetryPolicy
from assistant.pipeline import Pipeline
from guardrails.engine import PolicyRails
from guardrails.policy import Policy
from guardrails.rail import Tools
from knowledge.models import SearchHit

PERSONAL = {
    "e-mail": "ada.lovelace@example.org",
    "phone": "+44 20 7946 0958",
    "NI number": "JG 10 37 24 A",
    "NHS number": "943 476 5919",
    "card": "4111 1111 1111 1111",
    "NI number named but never issued": "QQ 12 34 56 C",  # fails the NI check; its cue names it (issue 18)
    "a name without a cue": "Sarah Jenkins",  # found by the NER model (issue 18)
}
QUESTION = ("I am Ada, ada.lovelace@example.org, +44 20 7946 0958, NI JG 10 37 24 A, NHS 943 476 5919, "
            "card 4111 1111 1111 1111, and my partner's National Insurance number is QQ 12 34 56 C. My colleague "
            "Sarah Jenkins asks: how long is an AI champion's term?")
FEWER = ("I'm Sarah Jenkins (ada.lovelace@example.org, +44 20 7946 0958), my National Insurance number is "
         "QQ 12 34 56 C: how long is an AI champion's term?")  # the default answers it (QUESTION it refuses, issue 18)
LONG = QUESTION + " Please answer at length. " * 80  # past strict's max_length, which blocks first
HIDDEN = "ada.lovelace@exa\u200bmple.org: how long is a champion's term?"  # an invisible character inside


def forms(value: str) -> set[str]:
    """The value as written and with its spaces taken out (a store may normalise it)."""
    return {value, value.replace(" ", ""), value.replace("\u200b", "")}


def leaks(folder: Path) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for name, value in PERSONAL.items():
            if any(f.encode() in data for f in forms(value)):
                found.append(f"{path.relative_to(folder)}: {name}")
    return found


class Searcher:
    def search(self, query: str, k: int | None = None, *, also: Sequence[str] = ()) -> list[SearchHit]:
        text = "An AI champion serves a two-year term. Contact the desk at desk@example.gov.uk."
        return [SearchHit(source="role.en.txt", title="Role", section=None, language="en", text=text, start=0,
                          end=len(text), page=None, rank=1, chunk_id="c1", score=0.03, similarity=0.9,
                          dense_rank=1, lexical_rank=None)]


@pytest.fixture(scope="module")
def tools() -> Tools:
    from assistant.service import rail_tools
    from knowledge.embeddings import E5Embedder

    return rail_tools(E5Embedder())


@pytest.mark.parametrize("policy", ["default", "strict"])
def test_no_file_in_the_data_directory_holds_personal_data(tmp_path: Path, policy: str, tools: Tools,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rails = PolicyRails(Policy.from_path(Path("guardrails/policies") / f"{policy}.yaml"), tools)
    echo = "You wrote ada.lovelace@example.org and +44 20 7946 0958; a champion serves two years [1]."
    model = ScriptedChatModel().enqueue(*[echo] * 8)
    client = ChatClient(model, "scripted", RetryPolicy(retries=0), sleep=lambda s: None)
    pipeline = Pipeline(Searcher(), client, rails=rails, config=AnswerConfig(strategy="cite"))
    audit = AuditStore(tmp_path / "audit.sqlite")
    statuses = []
    for i, question in enumerate([FEWER, QUESTION, LONG, HIDDEN]):
        answer = pipeline.answer(question, history=[(QUESTION, "An earlier answer.")] if i else ())
        statuses.append(answer.status)
        assert not [n for n, v in PERSONAL.items() if any(f in answer.model_dump_json() for f in forms(v))]
        entry = audit.record(answer, "ada", "c1")
        audit.rate(entry, "ada", "down", comment=f"Call me on {PERSONAL['phone']} or {PERSONAL['e-mail']}",
                   expected=f"Two years; my NI is {PERSONAL['NI number']}, card {PERSONAL['card']}")
    assert "answered" in statuses or policy == "strict"  # not vacuous: the default answers
    (tmp_path / "export.csv").write_text(audit.csv(audit.entries()), encoding="utf-8")
    (tmp_path / "waymark.log").write_text("\n".join(r.getMessage() for r in caplog.records), encoding="utf-8")
    assert leaks(tmp_path) == []


def test_an_eval_run_keeps_no_personal_data(tmp_path: Path) -> None:
    """The smoke suite's personal-data cases, run for real: the run store holds none of what they say."""
    from tests.fakes import waymark_cmd

    proc = subprocess.run([*waymark_cmd(), "--data-dir", str(tmp_path), "eval", "run", "smoke", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert "jo.bloggs@example.org" in Path("evals/suites/smoke.yaml").read_text()  # not vacuous
    stored = [p for p in tmp_path.rglob("*") if p.is_file() and b"jo.bloggs@example.org" in p.read_bytes()]
    assert stored == []
