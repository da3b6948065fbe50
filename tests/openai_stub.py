"""A small, real OpenAI-compatible HTTP server for tests (stdlib only).

    with OpenAIStub() as stub:
        stub.enqueue(Status(429, headers={"Retry-After": "0"}), Stream("Hello there"))
        ... point a client at stub.base_url ...
        assert len(stub.chat_requests) == 2

Each ``POST /v1/chat/completions`` consumes one scripted reply; with none left it answers 500
with a message saying so. ``GET /v1/models`` lists one model. Every request is recorded.
Streams use chunked transfer encoding, so a cut stream is a protocol error the client can see.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

MODEL = "stub-model"
MAX_DELAY_S = 10.0
"""A ``Delay`` never sleeps longer than this, and stops early when the stub shuts down."""


@dataclass(frozen=True)
class Stream:
    """A proper SSE stream of ``text`` (or a plain chat.completion when the request has ``stream: false``)."""

    text: str
    finish: bool = True
    """Send a final chunk with ``finish_reason: "stop"`` (``[DONE]`` is sent either way)."""
    chunk_words: int = 1


@dataclass(frozen=True)
class Status:
    """An HTTP error status with an OpenAI-style JSON error body (or ``body`` as given)."""

    code: int
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (capped at ``MAX_DELAY_S``) before answering with ``then``."""

    seconds: float
    then: Reply


@dataclass(frozen=True)
class Cut:
    """Stream the first ``after_words`` words of ``text``, then stop: no finish_reason, no ``[DONE]``.

    By default the connection is closed mid-body (the chunked body is never terminated), which the
    client sees as a broken stream. With ``clean=True`` the body ends properly, just too early.
    """

    text: str
    after_words: int
    clean: bool = False


@dataclass(frozen=True)
class Malformed:
    """Stream ``text_before`` (possibly empty), then an event whose data is not valid JSON."""

    text_before: str = ""
    raw: str = "{not json"


Reply = Stream | Status | Delay | Cut | Malformed


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any
    """The parsed JSON body, or ``None`` when there was none (or it was not JSON)."""


def words(text: str, per_chunk: int = 1) -> list[str]:
    """``text`` split into pieces of ``per_chunk`` words (whitespace kept), joining back to ``text``."""
    tokens = re.findall(r"\S+\s*", text)
    lead = text[: len(text) - len(text.lstrip())]
    if not tokens:
        return [text] if text else []
    tokens[0] = lead + tokens[0]
    step = max(1, per_chunk)
    return ["".join(tokens[i : i + step]) for i in range(0, len(tokens), step)]


def error_body(code: int, message: str) -> dict[str, Any]:
    kind = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
            404: "not_found_error", 429: "rate_limit_error"}.get(code, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": str(code)}}


@dataclass
class _State:
    script: deque[Reply] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    counter: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the handler threads
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, cut streams) are expected here; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5.0  # a connection that sends nothing does not hold a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- routing ---

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0,
                                                         "owned_by": "openai-stub"}]})
        else:
            self._json(404, error_body(404, f"no route for GET {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._record(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, error_body(404, f"no route for POST {self.path}"))
            return
        state = self.server.state
        with state.lock:
            reply = state.script.popleft() if state.script else None
            state.counter += 1
            ident = f"chatcmpl-stub{state.counter}"
        if reply is None:
            self._json(500, error_body(500, "OpenAIStub: no scripted reply left for this request"))
            return
        streaming = bool(isinstance(body, dict) and body.get("stream"))
        model = str(body.get("model") or MODEL) if isinstance(body, dict) else MODEL
        try:
            self._answer(reply, streaming, model, ident)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (e.g. timed out); nothing to answer

    # --- replies ---

    def _answer(self, reply: Reply, streaming: bool, model: str, ident: str) -> None:
        if isinstance(reply, Delay):
            if self.server.state.stopping.wait(min(max(reply.seconds, 0.0), MAX_DELAY_S)):
                self.close_connection = True
                return
            self._answer(reply.then, streaming, model, ident)
        elif isinstance(reply, Status):
            body = reply.body if reply.body is not None else error_body(reply.code, f"stub status {reply.code}")
            self._json(reply.code, body, reply.headers)
        elif isinstance(reply, Stream) and not streaming:
            self._json(200, {
                "id": ident, "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                             "logprobs": None, "finish_reason": "stop" if reply.finish else None}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })
        elif isinstance(reply, Stream):
            self._start_stream()
            self._event(self._chunk(ident, model, {"role": "assistant", "content": ""}))
            for piece in words(reply.text, reply.chunk_words):
                self._event(self._chunk(ident, model, {"content": piece}))
            if reply.finish:
                self._event(self._chunk(ident, model, {}, "stop"))
            self._event("[DONE]")
            self._end_stream()
        elif isinstance(reply, Cut):
            self._start_stream()
            self._event(self._chunk(ident, model, {"role": "assistant", "content": ""}))
            for piece in words(reply.text)[: max(0, reply.after_words)]:
                self._event(self._chunk(ident, model, {"content": piece}))
            if reply.clean:
                self._end_stream()
            else:
                self.close_connection = True  # leave the chunked body unterminated and hang up
        else:
            self._start_stream()
            self._event(self._chunk(ident, model, {"role": "assistant", "content": ""}))
            for piece in words(reply.text_before):
                self._event(self._chunk(ident, model, {"content": piece}))
            self._event(reply.raw)
            self._event("[DONE]")
            self._end_stream()

    # --- plumbing ---

    def _record(self, body: Any) -> None:
        request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.state.lock:
            self.server.state.requests.append(request)

    def _json(self, code: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    @staticmethod
    def _chunk(ident: str, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

    def _event(self, data: dict[str, Any] | str) -> None:
        payload = f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class OpenAIStub:
    """An OpenAI-compatible server on 127.0.0.1 and a free port, answering from a script."""

    def __init__(self) -> None:
        self._state = _State()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self._state
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)
        self._started = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._state.lock:
            self._state.script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed."""
        with self._state.lock:
            return len(self._state.script)

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def chat_requests(self) -> list[Request]:
        """The ``POST /v1/chat/completions`` requests received so far."""
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/") == "/v1/chat/completions"]

    def start(self) -> OpenAIStub:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        self._state.stopping.set()  # wakes any handler sleeping in a Delay
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()  # joins the handler threads

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
