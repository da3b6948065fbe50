"""Calling a chat model: streaming, bounded retries with backoff, failures as plain values.

Every backend (the embedded server, OpenAI, Azure, vLLM, Ollama, the scripted test model) is
a LangChain ``BaseChatModel``; this module is the one place that calls it. A retryable
failure (429, 5xx, timeout, connection refused) before any text arrived is retried with
exponential backoff; after text arrived, what came is kept and the result says the stream
was cut. Nothing here raises to the caller: failures come back as a ``Generation`` with
``error`` set to one of the ``ErrorKind`` values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)

ErrorKind = Literal["unreachable", "timeout", "rate_limited", "server_error", "rejected", "bad_response", "internal"]
RETRYABLE: frozenset[str] = frozenset({"unreachable", "timeout", "rate_limited", "server_error"})


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    """Extra attempts after the first."""
    base_delay_s: float = 1.0
    max_delay_s: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based); honours Retry-After, capped."""
        wanted = retry_after if retry_after is not None else self.base_delay_s * 2 ** (attempt - 1)
        return max(0.0, min(wanted, self.max_delay_s))


@dataclass
class Generation:
    text: str = ""
    finished: bool = False
    """The model said it was done (a finish reason arrived)."""
    finish_reason: str | None = None
    error: ErrorKind | None = None
    error_detail: str = ""
    attempts: int = 0
    first_token_s: float | None = None
    """Seconds from the call to the first piece of text."""

    @property
    def truncated(self) -> bool:
        """Text arrived but the stream ended without a finish, or broke."""
        return bool(self.text) and (not self.finished or self.error is not None)


@dataclass
class ChatClient:
    """A chat model plus the policy for calling it."""

    model: BaseChatModel
    name: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def stream(self, messages: Sequence[BaseMessage], on_text: Callable[[str], None] | None = None,
               **options: Any) -> Generation:
        """Stream a reply, retrying retryable failures that happen before any text arrived.

        ``options`` go to the model call (e.g. ``response_format`` for a JSON schema).
        """
        gen = Generation()
        start = time.perf_counter()
        for attempt in range(1, self.retry.retries + 2):
            gen.attempts = attempt
            try:
                for chunk in self.model.stream(list(messages), **options):
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    if piece:
                        if gen.first_token_s is None:
                            gen.first_token_s = time.perf_counter() - start
                        gen.text += piece
                        if on_text:
                            on_text(piece)
                    reason = chunk.response_metadata.get("finish_reason")
                    if reason:
                        gen.finished, gen.finish_reason = True, str(reason)
                gen.error = None if gen.finished or gen.text else "bad_response"
                if gen.error:
                    gen.error_detail = "the model's stream ended without any text"
                return gen
            except Exception as exc:  # every backend failure becomes a value, never a traceback
                kind, detail, retry_after = classify(exc)
                gen.error, gen.error_detail = kind, detail
                log.warning("model %s attempt %d failed: %s (%s)", self.name, attempt, kind, detail)
                if gen.text or kind not in RETRYABLE or attempt > self.retry.retries:
                    return gen
                self.sleep(self.retry.delay(attempt, retry_after))
        return gen

    def complete(self, messages: Sequence[BaseMessage], **options: Any) -> Generation:
        """A call whose text nobody watches arrive (rewrites, extraction); same retry policy."""
        return self.stream(messages, **options)


def classify(exc: BaseException) -> tuple[ErrorKind, str, float | None]:
    """Map a backend exception to an ``ErrorKind``, a one-line detail and a Retry-After in seconds.

    openai wraps transport failures in its own types; the rest is matched by class name so it
    holds for both httpx and httpx2 (which newer openai releases use).
    """
    import openai

    retry_after: float | None = None
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is not None:
        try:
            value = headers.get("retry-after")
            retry_after = float(value) if value is not None else None
        except (TypeError, ValueError):
            retry_after = None
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, openai.APITimeoutError | TimeoutError) or "TimeoutException" in names:
        return "timeout", detail, None
    if isinstance(exc, openai.APIConnectionError | ConnectionError) or "TransportError" in names:
        return "unreachable", detail, None
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited", detail, retry_after
    if isinstance(exc, openai.APIStatusError):
        return ("server_error" if exc.status_code >= 500 else "rejected"), detail, retry_after
    if isinstance(exc, openai.APIError | ValueError):
        return "bad_response", detail, None
    return "internal", detail, None
