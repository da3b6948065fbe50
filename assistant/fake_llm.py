"""``ScriptedChatModel``: a LangChain chat model that replies from a script, for tests and demos.

Queue replies with ``enqueue()``; each call to the model takes the next one. A reply is a
string (streamed word by word, then a normal finish), an exception (raised before any text),
or a ``Scripted`` reply that can fail or stop without finishing part-way. Every prompt the
model receives is kept in ``received`` so tests can check what the pipeline sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from assistant.translation import SYSTEM as TRANSLATE_SYSTEM


@dataclass(frozen=True)
class Scripted:
    text: str
    fail_after: int | None = None
    """Raise ``error`` after this many streamed pieces (a stream that breaks)."""
    error: BaseException | None = None
    finish: bool = True
    """False: the stream just ends, with no finish reason (a cut stream)."""


class ScriptExhausted(AssertionError):
    """The model was called more times than replies were queued."""


class ScriptedChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)
    options: list[dict[str, Any]] = Field(default_factory=list)
    """The call options (e.g. ``response_format``) of each call, in order."""
    name_: str = "scripted"

    def enqueue(self, *replies: str | BaseException | Scripted) -> ScriptedChatModel:
        self.script.extend(replies)
        return self

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage], options: dict[str, Any]) -> Scripted:
        self.received.append(list(messages))
        self.options.append(dict(options))
        return self._reply(messages)

    def _reply(self, messages: list[BaseMessage]) -> Scripted:
        """The reply to this call (the next of the script); subclasses answer otherwise."""
        if not self.script:
            raise ScriptExhausted(f"ScriptedChatModel called {len(self.received)} times; script is empty")
        reply = self.script.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply if isinstance(reply, Scripted) else Scripted(str(reply))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        reply = self._next(messages, kwargs)
        if reply.fail_after is not None and reply.error is not None:
            raise reply.error
        meta = {"finish_reason": "stop"} if reply.finish else {}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply.text, response_metadata=meta))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages, kwargs)
        pieces = re.findall(r"\S+\s*|\s+", reply.text)
        for i, piece in enumerate(pieces):
            if reply.fail_after is not None and i >= reply.fail_after:
                raise reply.error or ConnectionError("stream broke")
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        if reply.fail_after is not None and reply.fail_after >= len(pieces):
            raise reply.error or ConnectionError("stream broke")
        if reply.finish:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"finish_reason": "stop"}))


class KeyedChatModel(ScriptedChatModel):
    """A fake model that replies by what it is asked, not by call order, so runs in parallel stay
    deterministic: the reply is the first of ``replies`` whose key the question contains (the last user
    message after its last ``Question:``, where Waymark's prompts put it after the passages;
    case-insensitive), else ``default``. A reply ``"!error"`` makes the call fail."""

    replies: dict[str, str] = Field(default_factory=dict)
    default: str = ""

    def _reply(self, messages: list[BaseMessage]) -> Scripted:
        asked = str(messages[-1].content).rpartition("Question:")[2].casefold() if messages else ""
        reply = next((r for k, r in self.replies.items() if k.casefold() in asked), self.default)
        if reply == "!error":
            raise RuntimeError("the fake model was told to fail on this question")
        return Scripted(reply)


class QuotingChatModel(ScriptedChatModel):
    """``WAYMARK_LLM=fake``: a model-free stand-in for demos and browser tests. It answers with the
    sentence of the first passage it is shown that shares the most words with the question, cited
    as [1]; with no passage, it says the guidance does not cover the question. Asked to translate, it
    replies with the text unchanged."""

    def _reply(self, messages: list[BaseMessage]) -> Scripted:
        prompt = str(messages[-1].content) if messages else ""
        if messages and str(messages[0].content) == TRANSLATE_SYSTEM:  # a stand-in translation: the text as it is
            return Scripted(prompt)
        passage = re.search(r'<passage n="1"[^>]*>\n(.*?)\n</passage>', prompt, re.DOTALL)
        if passage is None:
            return Scripted("NOT_COVERED")
        asked = set(re.findall(r"\w{3,}", prompt.rpartition("Question:")[2].casefold()))
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", passage.group(1)) if len(s.strip()) > 20]
        if not sentences:
            return Scripted("NOT_COVERED")
        best = max(sentences, key=lambda s: len(asked & set(re.findall(r"\w{3,}", s.casefold()))))
        return Scripted(f"{best} [1]")
