"""``waymark ingest``, ``search``, ``shell``, ``translate`` and ``docs ...``: the knowledge base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from assistant.settings import Settings
from knowledge.writer_lock import IndexBusy, NoSpace
from ui.cli.common import chat_model, knowledge_base, lines
from ui.cli.console import CliError, err, out

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

docs_app = typer.Typer(help="List or remove ingested documents.", no_args_is_help=True)


def ingest(ctx: typer.Context,
           paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")]) -> None:
    """Add or update documents (.txt .md .html .pdf .docx); unchanged files are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    kb = knowledge_base(ctx)
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

        try:
            report = kb.ingestor.ingest(paths, progress, on_file)
        except (IndexBusy, NoSpace) as exc:
            raise CliError(str(exc)) from None
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


def search(ctx: typer.Context, query: str,
           k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many results.")] = 5,
           as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
           source: Annotated[list[str] | None, typer.Option(help="Only this document (repeatable).")] = None,
           language: Annotated[list[str] | None, typer.Option(help="Only this language (repeatable).")] = None,
           ) -> None:
    """Search the guidance: hybrid dense + lexical retrieval."""
    hits = knowledge_base(ctx).retriever.search(query, k, source, language)
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
    records = knowledge_base(ctx).store.documents()
    if as_json:
        print(json.dumps([json.loads(r.model_dump_json()) for r in records], ensure_ascii=False))
        return
    if not records:
        out.print("No documents yet. Add some with `waymark ingest PATH`.")
    for r in records:
        out.print(Text(r.source).append(f"  {r.language}  {r.format}  {r.chunks} chunks  "
                                        f"{r.ingested_at:%Y-%m-%d %H:%M}  {r.title[:60]}", style="dim")
                  .append(f"  (last update failed: {r.update_failed})" if r.update_failed else "", style="yellow"),
                  highlight=False)  # Text, not markup: a title is the document's, never styling


@docs_app.command("check")
def docs_check(ctx: typer.Context, repair: Annotated[bool, typer.Option(
        "--repair", help="Remove each broken record, so the next ingest of its file adds it again.")] = False,
               ) -> None:
    """Find records whose chunk count disagrees with the index (ingest also checks, and repairs)."""
    try:
        broken = knowledge_base(ctx).ingestor.check(repair)
    except IndexBusy as exc:
        raise CliError(str(exc)) from None
    for source, recorded, found in broken:
        out.print(Text(f"{'repaired' if repair else 'broken'}: {source} (recorded {recorded} chunks, the index "
                       f"holds {found})"))
    out.print(Text(f"{len(broken)} broken record(s)" + ("; ingest the files again to restore them" if repair and broken
                                                          else "" if repair or not broken else
                                                          "; `waymark docs check --repair` fixes them")))
    if broken and not repair:
        raise typer.Exit(1)


@docs_app.command("remove")
def docs_remove(ctx: typer.Context,
                sources: Annotated[list[str], typer.Argument(help="File names as listed by `docs list`.")]) -> None:
    """Remove documents (and all their chunks) from the index."""
    try:
        removed = knowledge_base(ctx).ingestor.remove(sources)
    except IndexBusy as exc:
        raise CliError(str(exc)) from None
    missing = [s for s in sources if s not in removed]
    for s in sources:
        if s not in missing:
            out.print(f"removed {s}", markup=False)
    for s in missing:
        err.print(f"not found: {s} (see `waymark docs list`)", markup=False)
    if missing:
        raise typer.Exit(1)


def translate(ctx: typer.Context,
              source: Annotated[list[str] | None, typer.Option(help="Only this document (repeatable).")] = None,
              ) -> None:
    """Translate non-English passages into English once, for the model to read (resumable)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from assistant.service import translations_path
    from assistant.translation import (
        FailedUnit,
        TranslationStore,
        Translator,
        index_translations,
        pivot_units,
        unit_documents,
    )

    s: Settings = ctx.obj
    kb = knowledge_base(ctx)
    chunks = [(c.source, c.text, c.language) for c in kb.store.chunk_records(source or None)]
    units = pivot_units(chunks)
    store = TranslationStore(translations_path(s))
    missing = len(units) - len(store.get_many([t for t, _ in units]))
    failed: list[FailedUnit] = []
    if missing:
        translator = Translator(chat_model(ctx), store)
        with Progress(TextColumn("translating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task("translate", total=missing)
            report = translator.translate(units, lambda done, total: bar.update(task, completed=done, total=total))
        out.print(report.summary(), markup=False)
        failed = report.errors
    else:
        out.print(f"Nothing to translate: all {len(units)} non-English passages are already translated.")
    indexed = index_translations(kb.store, kb.embedder, store)
    out.print(f"{indexed} translated chunks indexed for search", markup=False)
    where = unit_documents(chunks) if failed else {}
    for unit in failed:
        err.print(f"not translated: {', '.join(where.get(unit.text, ['?']))}, line \"{short(unit.text)}\": "
                  f"{unit.reason}", markup=False, highlight=False)
    if failed:  # the index is usable without them: a warning, not a failure (make run goes on to the app)
        err.print(f"Warning: {len(failed)} passages were skipped after a retry; those documents are searched in "
                  "their own language only. `waymark translate` tries them again.", markup=False)


def short(text: str, limit: int = 70) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def shell(ctx: typer.Context,
          k: Annotated[int, typer.Option("-k", min=1, max=20)] = 3) -> None:
    """An interactive search loop in the terminal (empty line or Ctrl-D to quit)."""
    kb = knowledge_base(ctx)
    n = len(kb.store.documents())
    out.print(f"Waymark: {n} documents indexed. Type a question; an empty line quits.")
    for query in lines("waymark> "):
        ctx.invoke(search, ctx=ctx, query=query, k=k, as_json=False, source=None, language=None)
