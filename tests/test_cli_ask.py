"""``waymark ask`` and ``waymark chat`` as users run them, against a real OpenAI-compatible HTTP stub."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import sample_texts, waymark_cmd
from tests.openai_stub import OpenAIStub, Status, Stream

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as server:
        yield server


def run(data_dir: Path, stub: OpenAIStub | None, *args: str, stdin: str | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    base = {"WAYMARK_LLM": "openai", "WAYMARK_LLM_API_KEY": "test-key", "WAYMARK_LLM_MODEL": "stub-model",
            "WAYMARK_LLM_RETRIES": "1"}
    if stub:
        base["WAYMARK_LLM_BASE_URL"] = stub.base_url
    return subprocess.run([*waymark_cmd(), "--data-dir", str(data_dir), *args], input=stdin, capture_output=True,
                          text=True, timeout=170, env={**os.environ, **base, **env})


QUESTION = "How long are MeetingMinder recordings kept?"


def test_ask_json_is_one_answer_document_with_verbatim_citations(sample_kb: Any, sample_data_dir: Path,
                                                                  stub: OpenAIStub) -> None:
    hits = sample_kb.retriever.search(QUESTION, k=5)
    n = next(i for i, h in enumerate(hits[:3], 1) if "30 days" in h.text)
    stub.enqueue(Stream(f"Recordings are deleted automatically after 30 days [{n}]. Also [9]."))
    proc = run(sample_data_dir, stub, "ask", "--json", QUESTION)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["status"] == "answered" and answer["question"] == QUESTION
    assert answer["answer"] == f"Recordings are deleted automatically after 30 days [{n}]. Also."
    assert answer["model"] == "openai:stub-model" and answer["policy_version"].startswith("default@1#")
    assert {g["stage"] for g in answer["guardrails"]} == {"input", "retrieval", "output"}
    assert all(g["verdict"] == "pass" or g["action"] == "log" for g in answer["guardrails"])  # scope only logs
    cit = answer["citations"]
    assert [c["n"] for c in cit] == [n] and cit[0]["source"] == "approved-tools-and-procurement.en.html"
    assert sample_texts()[cit[0]["source"]][cit[0]["start"]:cit[0]["end"]] == cit[0]["quote"]
    assert "30 days" in cit[0]["quote"]
    assert set(answer["timings_ms"]) == {"retrieve", "first_token", "first_release", "total"}
    request = stub.chat_requests[0]
    assert request.body["stream"] is True and request.body["model"] == "stub-model"
    assert request.headers["authorization"] == "Bearer test-key"
    assert "Traceback" not in proc.stderr


def test_ask_prints_answer_then_sources(sample_data_dir: Path, sample_kb: Any, stub: OpenAIStub) -> None:
    stub.enqueue(Stream("They are deleted after 30 days [1]."))
    proc = run(sample_data_dir, stub, "ask", QUESTION)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "They are deleted after 30 days [1]."
    assert "Sources:" in lines and any(line.startswith("[1] ") for line in lines)


def test_personal_data_is_removed_before_the_model_and_the_user_is_told(sample_data_dir: Path, sample_kb: Any,
                                                                       stub: OpenAIStub) -> None:
    stub.enqueue(Stream("They are deleted after 30 days [1]."))
    proc = run(sample_data_dir, stub, "ask", QUESTION + " Reply to jo.bloggs@example.gov.uk")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == ("(Personal details were removed from your question before it was "
                                           "searched or sent to the model.)")
    sent = json.dumps(stub.chat_requests[0].body)
    assert "jo.bloggs" not in sent and "[EMAIL]" in sent


def test_off_topic_question_abstains_without_calling_the_model(sample_data_dir: Path, sample_kb: Any,
                                                               stub: OpenAIStub) -> None:
    proc = run(sample_data_dir, stub, "ask", "What is the capital of Peru?")
    assert proc.returncode == 0, proc.stderr
    assert "The guidance I have does not cover this question." in proc.stdout
    assert "Closest passages, not an answer:" in proc.stdout
    as_json = run(sample_data_dir, stub, "ask", "--json", "What is the capital of Peru?")
    closest = json.loads(as_json.stdout)["closest"]
    texts = sample_texts()
    assert closest and all(texts[r["source"]][r["start"]:r["end"]] == r["quote"] for r in closest)
    assert " ".join(closest[0]["quote"].split())[:60] in proc.stdout  # each shown with its line
    assert stub.chat_requests == []


def test_endpoint_failing_gives_a_plain_error_and_exit_1(sample_data_dir: Path, sample_kb: Any,
                                                         stub: OpenAIStub) -> None:
    stub.enqueue(Status(500), Status(503))
    proc = run(sample_data_dir, stub, "ask", "--json", QUESTION)
    assert proc.returncode == 1
    answer = json.loads(proc.stdout)
    assert answer["status"] == "error" and answer["reason"] == "llm_server_error"
    assert answer["answer"].startswith("Sorry, I could not produce an answer")
    assert len(stub.chat_requests) == 2  # one retry
    assert "Traceback" not in proc.stdout + proc.stderr


def test_endpoint_down(sample_data_dir: Path, sample_kb: Any) -> None:
    proc = run(sample_data_dir, None, "ask", QUESTION, WAYMARK_LLM_BASE_URL="http://127.0.0.1:9/v1",
               WAYMARK_LLM_RETRIES="0")
    assert proc.returncode == 1
    assert "Sorry, I could not produce an answer" in proc.stdout and "Traceback" not in proc.stderr


def test_chat_remembers_and_rewrites_follow_ups(sample_data_dir: Path, sample_kb: Any, stub: OpenAIStub) -> None:
    stub.enqueue(Stream("Recordings are deleted after 30 days [1]."),
                 Stream("What data is MeetingMinder approved for?"),
                 Stream("It is approved up to OFFICIAL-SENSITIVE [1]."),
                 Stream("How long is an AI champion's term?"))
    proc = run(sample_data_dir, stub, "chat", stdin=f"{QUESTION}\nAnd what data is it approved for?\n/new\n"
               "How long is an AI champion's term?\n\n")
    assert proc.returncode == 0, proc.stderr
    bodies = [r.body for r in stub.chat_requests]
    assert len(bodies) == 4
    rewrite = bodies[1]["messages"]
    assert rewrite[0]["content"].startswith("Rewrite the user's last question")
    assert rewrite[1]["content"] == QUESTION and "[1]" not in rewrite[2]["content"]
    assert "Question: What data is MeetingMinder approved for?" in bodies[2]["messages"][1]["content"]
    # after /new there is no history, so no rewrite: the 4th request is an answer prompt
    assert "Question: How long is an AI champion's term?" in bodies[3]["messages"][1]["content"]
    assert "(new conversation)" in proc.stdout


@pytest.mark.parametrize(("env", "message"), [
    ({"WAYMARK_LLM_API_KEY": "", "WAYMARK_LLM_BASE_URL": ""}, "error: WAYMARK_LLM=openai needs OPENAI_API_KEY"),
    ({"WAYMARK_LLM": "bogus"}, "error: invalid setting llm"),
    ({"WAYMARK_LLM": "azure"}, "error: WAYMARK_LLM=azure needs AZURE_OPENAI_ENDPOINT"),
])
def test_misconfigured_backend_is_one_line(sample_data_dir: Path, sample_kb: Any, env: dict[str, str],
                                           message: str) -> None:
    proc = run(sample_data_dir, None, "ask", QUESTION, **env)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr


def test_empty_question_is_refused(sample_data_dir: Path) -> None:
    proc = run(sample_data_dir, None, "ask", "  ")
    assert proc.returncode == 1 and "error: the question is empty" in proc.stderr
