"""``waymark ask`` and ``waymark chat``: answers in the terminal, shown only once the rails passed them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from assistant.events import STAGES, Events
from ui.cli.common import answer_pipeline, lines
from ui.cli.console import CliError, out

if TYPE_CHECKING:
    from assistant.pipeline import Pipeline
    from guardrails.contracts import Answer


class _TerminalEvents(Events):
    """Stage names on stderr; the answer streams into a live view that ends as the checked answer."""

    def __init__(self, live: Any) -> None:
        self.live = live
        self.streamed = ""

    def stage(self, name: str) -> None:
        if not self.streamed:
            self.live.update(Text(STAGES.get(name, name) + "...", style="dim"))

    def text(self, piece: str) -> None:
        self.streamed += piece
        self.live.update(Text(self.streamed))

    def retract(self, message: str | None) -> None:
        self.streamed = ""
        self.live.update(Text(message or "", style="yellow"))


def _render(answer: Answer) -> None:
    """The checked answer, then its sources (or the closest documents when it abstained)."""
    from assistant.messages import notices

    style = {"answered": None, "abstained": "yellow", "blocked": "red", "error": "red"}[answer.status]
    for notice in notices(answer):
        out.print(Text(notice, style="dim"))
    out.print(Text(answer.answer, style=style or ""))
    if answer.citations:
        out.print("\nSources:", style="bold")
        for c in answer.citations:
            where = f" › {c.section}" if c.section else ""
            out.print(Text(f"[{c.n}] {c.title}{where} ({c.source}, chars {c.start}-{c.end})"))
            _print_quote(c.quote)
    elif answer.status == "abstained" and answer.closest:
        out.print("\nClosest passages, not an answer:", style="bold")
        for ref in answer.closest:
            where = f" › {ref.section}" if ref.section else ""
            chars = f", chars {ref.start}-{ref.end}" if ref.quote is not None else ""
            out.print(Text(f"- {ref.title}{where} ({ref.source}{chars})"))
            if ref.quote is not None:
                _print_quote(ref.quote)


def _print_quote(quote: str) -> None:
    """A document's words, on one indented line, cut at 240 characters."""
    flat = " ".join(quote.split())
    out.print(Text(f"    “{flat[:240]}{'…' if len(flat) > 240 else ''}”", style="dim"))


def _ask_once(pipeline: Pipeline, question: str, history: list[tuple[str, str]]) -> Answer:
    from rich.live import Live

    if not out.is_terminal:
        return pipeline.answer(question, history)
    with Live(Text(""), console=out, transient=True, refresh_per_second=12) as live:
        answer = pipeline.answer(question, history, _TerminalEvents(live))
    return answer


def ask(ctx: typer.Context, question: Annotated[str, typer.Argument(help="Your question, in any language.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as one JSON document.")] = False,
        ) -> None:
    """Answer a question from the guidance, citing the passages it rests on."""
    if not question.strip():
        raise CliError("the question is empty")
    pipeline = answer_pipeline(ctx)
    if as_json:
        answer = pipeline.answer(question)
        print(answer.model_dump_json())
    else:
        answer = _ask_once(pipeline, question, [])
        _render(answer)
    if answer.status == "error":
        raise typer.Exit(1)


def chat(ctx: typer.Context) -> None:
    """A conversation in the terminal: follow-up questions use the history (/new starts over)."""
    pipeline = answer_pipeline(ctx)
    history: list[tuple[str, str]] = []
    out.print("Waymark chat. Ask about the guidance; /new starts a new conversation; an empty line quits.")
    for question in lines("you> "):
        if question == "/new":
            history.clear()
            out.print("(new conversation)", style="dim")
            continue
        answer = _ask_once(pipeline, question, history)
        _render(answer)
        out.print()
        if answer.status in ("answered", "abstained"):
            history.append((answer.standalone_question or question, answer.answer))
