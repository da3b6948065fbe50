"""What every ``waymark`` command shares: the two consoles and the one-line error."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

from knowledge.models import CONTROL  # the characters canonical document text never holds


class SafeConsole(Console):
    """A console that never writes a control character it was given as text: only its own styling
    reaches the terminal as escape sequences (Rich keeps those in control segments and styles)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(s if s.control else Segment(CONTROL.sub("", s.text), s.style, s.control)
                                      for s in buffer)


out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)


class CliError(Exception):
    """A failure to report in one line (exit code 1), never as a traceback."""
