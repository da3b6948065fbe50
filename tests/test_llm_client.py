"""ChatClient's retry policy with the scripted model (the HTTP path is in test_llm_http.py)."""

from __future__ import annotations

import httpx
import openai

from assistant.fake_llm import Scripted, ScriptedChatModel
from assistant.llm import ChatClient, RetryPolicy, classify

REQ = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")


def status_error(code: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    response = httpx.Response(code, request=REQ, headers=headers or {})
    cls = {429: openai.RateLimitError, 500: openai.InternalServerError, 401: openai.AuthenticationError}[code]
    return cls("boom", response=response, body=None)


def client(*replies: object, retries: int = 2) -> tuple[ChatClient, ScriptedChatModel, list[float]]:
    model = ScriptedChatModel().enqueue(*replies)  # type: ignore[arg-type]
    slept: list[float] = []
    return ChatClient(model, "scripted", RetryPolicy(retries=retries), sleep=slept.append), model, slept


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(retries=5, base_delay_s=1.0, max_delay_s=5.0)
    assert [policy.delay(i) for i in range(1, 5)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, retry_after=3.0) == 3.0 and policy.delay(1, retry_after=60.0) == 5.0


def test_retryable_errors_are_retried_with_backoff_then_reported() -> None:
    c, model, slept = client(status_error(500), status_error(429, {"retry-after": "2"}), status_error(500))
    gen = c.stream([])
    assert gen.error == "server_error" and gen.attempts == 3 and len(model.received) == 3
    assert slept == [1.0, 2.0]


def test_rejection_is_not_retried() -> None:
    c, model, slept = client(status_error(401))
    gen = c.stream([])
    assert gen.error == "rejected" and len(model.received) == 1 and slept == []


def test_no_retry_once_text_arrived() -> None:
    c, model, _ = client(Scripted("one two three four", fail_after=2), "never used")
    pieces: list[str] = []
    gen = c.stream([], on_text=pieces.append)
    assert gen.text == "one two " == "".join(pieces) and gen.truncated and gen.error == "unreachable"
    assert len(model.received) == 1


def test_empty_stream_is_a_bad_response() -> None:
    c, _, _ = client(Scripted("", finish=False), retries=0)
    gen = c.stream([])
    assert gen.error == "bad_response" and not gen.truncated


def test_classify_kinds() -> None:
    assert classify(openai.APITimeoutError(request=REQ))[0] == "timeout"
    assert classify(openai.APIConnectionError(request=REQ))[0] == "unreachable"
    assert classify(status_error(429, {"retry-after": "7"}))[::2] == ("rate_limited", 7.0)
    assert classify(httpx.RemoteProtocolError("peer closed"))[0] == "unreachable"
    assert classify(KeyError("x"))[0] == "internal"
