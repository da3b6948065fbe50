"""Hold-back streaming: no text reaches a user before the output rails have passed it.

The model's reply arrives in pieces. ``HoldBack`` keeps them and releases text only in whole units
(a sentence, or a line), cut only where no markdown bracket, parenthesis, code span or angle bracket
is open, and only once ``lookahead`` more characters have arrived after the cut, so that what comes
next is seen too. Before each release the whole answer so far goes through ``check`` (the policy's
output rails that can judge part of an answer); the release is what the check passed, as the rails
left it. A check that objects releases nothing; once a rail has changed text already shown, nothing
more is released until the final check over the whole answer.

After the final check, ``finish`` releases the rest of the checked answer (or, if a rail changed text
already shown, withdraws it and shows the checked answer instead); ``retract`` withdraws what was
shown when the answer ends blocked, abstained or in error. Callers hear both through ``Events``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from assistant.events import Events

Check = Callable[[str], "str | None"]
"""The answer so far -> the text that may be shown (as the rails cleaned it), or None: not now (asked
again when more has arrived)."""

_CUT = re.compile(r"[.!?:;](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*(?=\s)|\n")
_OPEN = {"[": "]", "(": ")", "<": ">"}


class HoldBack:
    def __init__(self, events: Events, lookahead: int = 24, clock: Callable[[], float] = time.perf_counter) -> None:
        self.events = events
        self.lookahead = lookahead
        self.clock = clock
        self.started = clock()
        self.buffer = ""
        self.released = ""
        self.first_release_ms: float | None = None
        self.retracted = False
        self._check: Check | None = None
        self._held = False
        self._checked = 0  # the last cut judged

    # --- while the model streams --------------------------------------------------------------
    def streaming(self, check: Check) -> Callable[[str], None]:
        """The ``on_text`` for one streamed reply, judged by ``check`` before any release."""
        self._check = check
        return self.feed

    def feed(self, piece: str) -> None:
        self.buffer += piece
        if self._held or self._check is None:
            return
        cut = self._last_cut()
        if cut <= self._checked:
            return
        self._checked = cut
        passed = self._check(self.buffer[:cut])
        if passed is None:  # a rail objects, or not yet: asked again at the next cut
            return
        if not passed.startswith(self.released):
            self._held = True  # a rail changed what was shown: the final check decides
            return
        self._emit(passed[len(self.released):])

    def _last_cut(self) -> int:
        """The end of the last whole unit that ``lookahead`` characters follow and no open markup spans."""
        limit = len(self.buffer) - self.lookahead
        ends = {m.end() for m in _CUT.finditer(self.buffer, self._checked) if m.end() <= limit}
        if not ends:
            return 0
        best = 0
        for i, balanced in enumerate(_balance(self.buffer[: max(ends)]), 1):
            if balanced and i in ends:
                best = i
        return best

    # --- after the final check ----------------------------------------------------------------
    def finish(self, final: str) -> None:
        """Release the rest of the checked answer ``final``."""
        if final.startswith(self.released):
            self._emit(final[len(self.released):])
        else:
            self.retract(None)
            self._emit(final)

    def retract(self, message: str | None) -> bool:
        """Withdraw whatever was released (``message``: what to show instead). True if anything was."""
        if not self.released:
            return False
        self.events.retract(message)
        self.released = ""
        self.retracted = True
        return True

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self.first_release_ms is None:
            self.first_release_ms = round((self.clock() - self.started) * 1000, 1)
        self.released += text
        self.events.text(text)


def _balance(text: str) -> list[bool]:
    """For each prefix ``text[:i + 1]``: whether no bracket, parenthesis, angle bracket or code span is
    left open in it (backslash-escaped characters aside)."""
    out: list[bool] = []
    stack: list[str] = []
    ticks = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "`":
            ticks = not ticks
        elif not ticks and ch in _OPEN:
            stack.append(_OPEN[ch])
        elif not ticks and stack and ch == stack[-1]:
            stack.pop()
        out.append(not stack and not ticks and not escaped)
    return out
