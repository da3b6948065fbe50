"""The OpenAI-compatible path over real HTTP: settings → langchain-openai → openai → HTTP → a stub server.

``tests/openai_stub.py`` answers from a script (streams, error statuses, delays, cut and malformed
streams), so retries, timeouts and broken streams are exercised through the real client stack.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from langchain_core.messages import HumanMessage

from assistant.backends import chat_client
from assistant.llm import ChatClient, ErrorKind, RetryPolicy
from assistant.settings import Settings
from tests.openai_stub import Cut, Delay, Malformed, OpenAIStub, Status, Stream, words

pytestmark = pytest.mark.timeout(20)

KINDS = set(get_args(ErrorKind))
FAST = RetryPolicy(retries=2, base_delay_s=0.01, max_delay_s=0.05)
QUESTION = [HumanMessage("What is Waymark?")]


class Sleeps:
    """A recording stand-in for ``time.sleep``."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as server:
        yield server


def make_client(tmp_path: Path, base_url: str, **settings: Any) -> tuple[ChatClient, Sleeps]:
    values: dict[str, Any] = {"llm_model": "stub-model", "llm_api_key": "x", **settings}
    client = chat_client(Settings(data_dir=tmp_path, llm="openai", llm_base_url=base_url, **values))
    client.retry = RetryPolicy(retries=client.retry.retries, base_delay_s=FAST.base_delay_s,
                               max_delay_s=FAST.max_delay_s)
    sleeps = Sleeps()
    client.sleep = sleeps
    return client, sleeps


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the happy path ---


def test_stream_arrives_in_pieces(stub: OpenAIStub, tmp_path: Path) -> None:
    text = "Waymark is a retrieval-augmented assistant for civil servants."
    stub.enqueue(Stream(text))
    client, sleeps = make_client(tmp_path, stub.base_url)
    pieces: list[str] = []

    gen = client.stream(QUESTION, on_text=pieces.append)

    assert gen.text == text and "".join(pieces) == text
    assert len(pieces) == len(words(text)) > 1
    assert gen.finished and gen.finish_reason == "stop"
    assert gen.error is None and not gen.truncated
    assert gen.attempts == 1 and sleeps.calls == []
    assert gen.first_token_s is not None and gen.first_token_s > 0
    [request] = stub.chat_requests
    assert request.body["stream"] is True
    assert request.body["model"] == "stub-model"
    assert request.body["messages"] == [{"role": "user", "content": "What is Waymark?"}]
    assert request.headers["authorization"] == "Bearer x"


def test_complete_returns_the_text(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Stream("A short rewrite.", chunk_words=2))
    client, _ = make_client(tmp_path, stub.base_url)

    gen = client.complete(QUESTION)

    assert gen.text == "A short rewrite." and gen.finished and gen.error is None
    assert len(stub.chat_requests) == 1


def test_non_streamed_request_gets_a_chat_completion(stub: OpenAIStub, tmp_path: Path) -> None:
    """The stub's ``stream: false`` path, through the model's own ``invoke``."""
    stub.enqueue(Stream("Plain answer."))
    client, _ = make_client(tmp_path, stub.base_url)

    message = client.model.invoke(QUESTION)

    assert message.content == "Plain answer."
    assert message.response_metadata.get("finish_reason") == "stop"
    assert not stub.chat_requests[0].body.get("stream")


# --- retries before any text ---


def test_rate_limited_then_success_is_retried(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Status(429, headers={"Retry-After": "0"}), Stream("Second time lucky."))
    client, sleeps = make_client(tmp_path, stub.base_url)

    gen = client.stream(QUESTION)

    assert gen.text == "Second time lucky." and gen.finished and gen.error is None
    assert gen.attempts == 2 and len(stub.chat_requests) == 2
    assert len(sleeps.calls) == 1


def test_rate_limit_honours_retry_after(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Status(429, headers={"Retry-After": "0"}), Stream("ok"))
    client, sleeps = make_client(tmp_path, stub.base_url)

    gen = client.stream(QUESTION)

    assert gen.text == "ok" and gen.attempts == 2
    assert sleeps.calls == [0.0]


def test_server_errors_exhaust_the_retries(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Status(500), Status(500), Status(500), Stream("never reached"))
    client, sleeps = make_client(tmp_path, stub.base_url, llm_retries=2)

    gen = client.stream(QUESTION)

    assert gen.error == "server_error" and gen.text == "" and not gen.truncated
    assert gen.attempts == 3 and len(stub.chat_requests) == 3
    assert sleeps.calls == [FAST.delay(1), FAST.delay(2)]
    assert stub.pending == 1


def test_rejected_is_not_retried(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Status(401), Stream("never reached"))
    client, sleeps = make_client(tmp_path, stub.base_url)

    gen = client.stream(QUESTION)

    assert gen.error == "rejected" and "401" in gen.error_detail
    assert gen.attempts == 1 and len(stub.chat_requests) == 1 and sleeps.calls == []


def test_timeouts_exhaust_the_retries(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(*[Delay(2, Stream("too late"))] * 3)
    client, sleeps = make_client(tmp_path, stub.base_url, llm_timeout_s=0.5, llm_retries=2)

    start = time.perf_counter()
    gen = client.stream(QUESTION)

    assert gen.error == "timeout" and gen.text == ""
    assert gen.attempts == 3 and len(stub.chat_requests) == 3 and len(sleeps.calls) == 2
    assert time.perf_counter() - start < 2.5


def test_timeout_then_recovery(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Delay(2, Stream("too late")), Stream("Here it is."))
    client, _ = make_client(tmp_path, stub.base_url, llm_timeout_s=0.5, llm_retries=2)

    gen = client.stream(QUESTION)

    assert gen.error is None and gen.finished and gen.text == "Here it is."
    assert gen.attempts == 2 and len(stub.chat_requests) == 2


def test_endpoint_down_is_unreachable(tmp_path: Path) -> None:
    client, sleeps = make_client(tmp_path, f"http://127.0.0.1:{closed_port()}/v1", llm_retries=2)

    gen = client.stream(QUESTION)

    assert gen.error == "unreachable" and gen.text == ""
    assert gen.attempts == 3 and len(sleeps.calls) == 2


# --- broken streams after text arrived ---


def test_cut_stream_keeps_the_text(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Cut("one two three four five", after_words=3), Stream("never reached"))
    client, sleeps = make_client(tmp_path, stub.base_url)
    pieces: list[str] = []

    gen = client.stream(QUESTION, on_text=pieces.append)

    assert gen.text == "one two three " == "".join(pieces)
    assert gen.truncated and not gen.finished
    assert gen.error in KINDS
    assert gen.attempts == 1 and len(stub.chat_requests) == 1 and sleeps.calls == []


@pytest.mark.parametrize("reply", [Cut("one two three four five", after_words=2, clean=True),
                                   Stream("one two ", finish=False)], ids=["no-done", "done-no-finish"])
def test_stream_ending_without_finish_is_truncated(stub: OpenAIStub, tmp_path: Path, reply: Cut | Stream) -> None:
    stub.enqueue(reply)
    client, _ = make_client(tmp_path, stub.base_url)

    gen = client.stream(QUESTION)

    assert gen.text == "one two "
    assert gen.truncated and not gen.finished and gen.finish_reason is None
    assert gen.error is None
    assert gen.attempts == 1 and len(stub.chat_requests) == 1


@pytest.mark.parametrize("before", ["", "partial answer"])
def test_malformed_chunk_is_an_error_value(stub: OpenAIStub, tmp_path: Path, before: str) -> None:
    stub.enqueue(Malformed(before), Stream("never reached"))
    client, _ = make_client(tmp_path, stub.base_url)

    gen = client.stream(QUESTION)  # must not raise

    assert gen.error in KINDS and gen.error != "internal", gen.error_detail
    assert gen.text == before and not gen.finished
    assert gen.truncated is bool(before)
    assert len(stub.chat_requests) == gen.attempts


# --- the stub itself ---


def test_stub_lists_models_and_reports_an_empty_script(stub: OpenAIStub, tmp_path: Path) -> None:
    with urllib.request.urlopen(f"{stub.base_url}/models", timeout=5) as resp:
        listing = json.load(resp)
    assert listing["object"] == "list" and listing["data"][0]["id"]

    request = urllib.request.Request(f"{stub.base_url}/chat/completions", method="POST",
                                     data=b'{"model": "m", "messages": []}',
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 500
    assert "no scripted reply" in json.load(info.value)["error"]["message"]
    assert [r.method for r in stub.requests] == ["GET", "POST"]


def test_stub_shuts_down_promptly_during_a_delay(tmp_path: Path) -> None:
    start = time.perf_counter()
    with OpenAIStub() as stub:
        stub.enqueue(Delay(60, Stream("never sent")))
        client, _ = make_client(tmp_path, stub.base_url, llm_timeout_s=0.3, llm_retries=0)
        assert client.stream(QUESTION).error == "timeout"
    assert time.perf_counter() - start < 2.0
