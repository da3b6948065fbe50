"""What every ``waymark`` command shares: the two consoles and the one-line error."""

from __future__ import annotations

from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class CliError(Exception):
    """A failure to report in one line (exit code 1), never as a traceback."""
