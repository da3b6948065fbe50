"""``waymark``: the command line. Thin: it reads settings, calls the packages, prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.text import Text

from assistant.cli_eval import eval_app
from assistant.cli_guard import guard_app, policy_app
from assistant.cli_users import users_app
from assistant.console import CliError, err, out
from assistant.events import STAGES, Events
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.llm import ChatClient
    from assistant.pipeline import Pipeline
    from knowledge.base import KnowledgeBase

app = typer.Typer(help="Waymark: answers for civil servants from guidance documents.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
docs_app = typer.Typer(help="List or remove ingested documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")

app.add_typer(policy_app, name="policy")
app.add_typer(guard_app, name="guard")
app.add_typer(eval_app, name="eval")
app.add_typer(users_app, name="users")


@app.callback()
def _root(ctx: typer.Context,
          data_dir: Annotated[Path | None, typer.Option(
              "--data-dir", help="Where Waymark keeps its index (env WAYMARK_DATA_DIR).")] = None) -> None:
    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    try:
        ctx.obj = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CliError(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    _log_to_file(ctx.obj.data_dir / "logs" / "waymark.log")


def _log_to_file(path: Path) -> None:
    """Details (and any traceback) go to a log file, never to the user's terminal."""
    import logging

    root = logging.getLogger()
    if any(isinstance(h, logging.FileHandler) for h in root.handlers):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "openai", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _kb(ctx: typer.Context) -> KnowledgeBase:
    from assistant.service import open_knowledge_base

    s: Settings = ctx.obj
    try:
        return open_knowledge_base(s)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError for servers
        where = s.chroma_url or str(s.data_dir / "chroma")
        raise CliError(f"cannot open the index at {where}: {exc}") from None


@app.command()
def ingest(ctx: typer.Context,
           paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")]) -> None:
    """Add or update documents (.txt .md .html .pdf .docx); unchanged files are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    kb = _kb(ctx)
    # On a terminal the bar and the per-file lines share stdout, so rich keeps them apart;
    # when piped, stdout has only the lines and failures go to stderr.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=out if out.is_terminal else err, transient=True) as bar:
        files = bar.add_task("files", total=None)
        chunks = bar.add_task("embedding", total=None, visible=False)

        def progress(event: str, done: int, total: int) -> None:
            if event == "files":
                bar.update(files, completed=done, total=total)
                bar.update(chunks, visible=False)
            else:
                bar.update(chunks, completed=done, total=total, visible=True)

        def on_file(outcome: Any) -> None:
            failed = outcome.status == "failed" and not out.is_terminal
            (err if failed else out).print(outcome.line(), markup=False, highlight=False,
                                           style="red" if outcome.status == "failed" else None)

        report = kb.ingestor.ingest(paths, progress, on_file)
    for source in report.recovered:
        err.print(f"recovered: removed a half-written copy of {source} left by an interrupted run",
                  markup=False)
    out.print(report.summary(), markup=False)
    _report_flagged(ctx, kb, {o.source for o in report.outcomes if o.status in ("added", "updated")})
    if not report.ok:
        raise typer.Exit(1)


def _report_flagged(ctx: typer.Context, kb: KnowledgeBase, sources: set[str]) -> None:
    """Passages of the new documents that carry instructions for an AI, as the policy in force sees them."""
    from assistant.service import build_rails, flagged_passages
    from guardrails.policy import PolicyError

    if not sources:
        return
    try:
        rails = build_rails(ctx.obj, kb.embedder)
    except PolicyError as exc:
        err.print(f"warning: documents not scanned for planted instructions: {exc}", markup=False)
        return
    for source, n in sorted(flagged_passages(rails, kb, sources).items()):
        err.print(f"flagged: {source}: {n} passage(s) carry instructions for an AI; the policy "
                  f"({rails.policy_version}) keeps them from the model when retrieved", markup=False)


@app.command()
def search(ctx: typer.Context, query: str,
           k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many results.")] = 5,
           as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
           source: Annotated[list[str] | None, typer.Option(help="Only this document (repeatable).")] = None,
           language: Annotated[list[str] | None, typer.Option(help="Only this language (repeatable).")] = None,
           ) -> None:
    """Search the guidance: hybrid dense + lexical retrieval."""
    hits = _kb(ctx).retriever.search(query, k, source, language)
    if as_json:
        print(json.dumps({"query": query, "results": [h.public() for h in hits]}, ensure_ascii=False))
        return
    if not hits:
        out.print("No results. Is anything ingested? Try `waymark docs list`.")
    for h in hits:
        where = f" › {h.section}" if h.section else ""
        out.print(f"[bold]{h.rank}. {h.source}[/bold]{where}  [dim](score {h.score:.4f}, "
                  f"cosine {h.similarity:.3f}, chars {h.start}-{h.end})[/dim]", highlight=False)
        snippet = " ".join(h.text.split())
        out.print("   " + (snippet[:300] + ("…" if len(snippet) > 300 else "")), markup=False)


@docs_app.command("list")
def docs_list(ctx: typer.Context,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List ingested documents."""
    records = _kb(ctx).store.documents()
    if as_json:
        print(json.dumps([json.loads(r.model_dump_json()) for r in records], ensure_ascii=False))
        return
    if not records:
        out.print("No documents yet. Add some with `waymark ingest PATH`.")
    for r in records:
        out.print(f"{r.source}  [dim]{r.language}  {r.format}  {r.chunks} chunks  "
                  f"{r.ingested_at:%Y-%m-%d %H:%M}  {r.title[:60]}[/dim]", highlight=False)


@docs_app.command("remove")
def docs_remove(ctx: typer.Context,
                sources: Annotated[list[str], typer.Argument(help="File names as listed by `docs list`.")]) -> None:
    """Remove documents (and all their chunks) from the index."""
    store = _kb(ctx).store
    missing = [s for s in sources if not store.remove(s)]
    for s in sources:
        if s not in missing:
            out.print(f"removed {s}", markup=False)
    for s in missing:
        err.print(f"not found: {s} (see `waymark docs list`)", markup=False)
    if missing:
        raise typer.Exit(1)


def _pipeline(ctx: typer.Context) -> Pipeline:
    """The answer pipeline for these settings; prepares the embedded model on first use."""
    from assistant.service import build_pipeline, build_rails
    from guardrails.policy import PolicyError

    kb = _kb(ctx)
    try:
        rails = build_rails(ctx.obj, kb.embedder)
    except PolicyError as exc:
        raise CliError(f"the guardrail policy cannot be used, so Waymark will not answer: {exc}") from None
    return build_pipeline(ctx.obj, kb, _llm(ctx), rails)


def _llm(ctx: typer.Context) -> ChatClient:
    """The configured chat model; joins the embedded model's weights (with progress) on first use."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from assistant.backends import BackendError, chat_client

    s: Settings = ctx.obj
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task("Preparing the embedded model (first run only)", total=None, visible=False)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=True)

        if s.llm == "local":
            err.print("Starting the embedded model...", style="dim")
        try:
            return chat_client(s, progress)
        except BackendError as exc:
            raise CliError(str(exc)) from None


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
            quote = " ".join(c.quote.split())
            out.print(Text(f"[{c.n}] {c.title}{where} ({c.source}, chars {c.start}-{c.end})"))
            out.print(Text(f"    “{quote[:240]}{'…' if len(quote) > 240 else ''}”", style="dim"))
    elif answer.status == "abstained" and answer.closest:
        out.print("\nClosest documents:", style="bold")
        for ref in answer.closest:
            where = f" › {ref.section}" if ref.section else ""
            out.print(Text(f"- {ref.title}{where} ({ref.source})"))


def _ask_once(pipeline: Pipeline, question: str, history: list[tuple[str, str]]) -> Answer:
    from rich.live import Live

    if not out.is_terminal:
        return pipeline.answer(question, history)
    with Live(Text(""), console=out, transient=True, refresh_per_second=12) as live:
        answer = pipeline.answer(question, history, _TerminalEvents(live))
    return answer


@app.command()
def ask(ctx: typer.Context, question: Annotated[str, typer.Argument(help="Your question, in any language.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as one JSON document.")] = False,
        ) -> None:
    """Answer a question from the guidance, citing the passages it rests on."""
    if not question.strip():
        raise CliError("the question is empty")
    pipeline = _pipeline(ctx)
    if as_json:
        answer = pipeline.answer(question)
        print(answer.model_dump_json())
    else:
        answer = _ask_once(pipeline, question, [])
        _render(answer)
    if answer.status == "error":
        raise typer.Exit(1)


@app.command()
def translate(ctx: typer.Context,
              source: Annotated[list[str] | None, typer.Option(help="Only this document (repeatable).")] = None,
              ) -> None:
    """Translate non-English passages into English once, for the model to read (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from assistant.service import translations_path
    from assistant.translation import TranslationStore, Translator, index_translations, pivot_units

    s: Settings = ctx.obj
    kb = _kb(ctx)
    chunks = [(m["source"], text, m["language"]) for _id, text, m, _e in kb.store.iter_chunks()
              if not source or m["source"] in source]
    units = pivot_units(chunks)
    store = TranslationStore(translations_path(s))
    missing = len(units) - len(store.get_many([t for t, _ in units]))
    failed = 0
    if missing:
        translator = Translator(_llm(ctx), store)
        with Progress(TextColumn("translating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task("translate", total=missing)
            report = translator.translate(units, lambda done, total: bar.update(task, completed=done, total=total))
        out.print(report.summary(), markup=False)
        failed = report.failed
    else:
        out.print(f"Nothing to translate: all {len(units)} non-English passages are already translated.")
    indexed = index_translations(kb.store, kb.embedder, store)
    out.print(f"{indexed} translated chunks indexed for search", markup=False)
    if failed:
        raise typer.Exit(1)


def _lines(prompt: str) -> Iterator[str]:
    """Lines typed at ``prompt``, stripped, until an empty line, Ctrl-D or Ctrl-C."""
    while True:
        try:
            line = input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            return
        if not line:
            return
        yield line


@app.command()
def chat(ctx: typer.Context) -> None:
    """A conversation in the terminal: follow-up questions use the history (/new starts over)."""
    pipeline = _pipeline(ctx)
    history: list[tuple[str, str]] = []
    out.print("Waymark chat. Ask about the guidance; /new starts a new conversation; an empty line quits.")
    for question in _lines("you> "):
        if question == "/new":
            history.clear()
            out.print("(new conversation)", style="dim")
            continue
        answer = _ask_once(pipeline, question, history)
        _render(answer)
        out.print()
        if answer.status in ("answered", "abstained"):
            history.append((answer.standalone_question or question, answer.answer))


@app.command()
def shell(ctx: typer.Context,
          k: Annotated[int, typer.Option("-k", min=1, max=20)] = 3) -> None:
    """An interactive search loop in the terminal (empty line or Ctrl-D to quit)."""
    kb = _kb(ctx)
    n = len(kb.store.documents())
    out.print(f"Waymark: {n} documents indexed. Type a question; an empty line quits.")
    for query in _lines("waymark> "):
        ctx.invoke(search, ctx=ctx, query=query, k=k, as_json=False, source=None, language=None)


def main() -> None:
    try:
        app()
    except CliError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
