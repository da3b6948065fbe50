"""What the ``waymark`` commands share: settings from the root options, the log file, and the knowledge
base, model and pipeline those settings name (each opened on first use, so ``--help`` stays fast)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from assistant.data_dir import read_only_failure
from assistant.settings import Settings
from ui.cli.console import CliError, err, out

if TYPE_CHECKING:
    from assistant.llm import ChatClient
    from assistant.pipeline import Pipeline
    from knowledge.base import KnowledgeBase


def root(ctx: typer.Context,
          data_dir: Annotated[Path | None, typer.Option(
              "--data-dir", help="Where Waymark keeps its index (env WAYMARK_DATA_DIR).")] = None) -> None:
    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    try:
        ctx.obj = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CliError(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    from assistant.data_dir import private_data_dir

    try:
        private_data_dir(ctx.obj)
    except OSError as exc:
        raise CliError(f"cannot use the data directory {ctx.obj.data_dir}: {exc.strerror or exc}") from None
    log_to_file(ctx.obj.data_dir / "logs" / "waymark.log")


def log_to_file(path: Path) -> None:
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


def knowledge_base(ctx: typer.Context) -> KnowledgeBase:
    from assistant.service import open_knowledge_base

    s: Settings = ctx.obj
    try:
        return open_knowledge_base(s)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError for servers
        where = s.chroma_url or str(s.data_dir / "chroma")
        raise CliError(f"cannot open the index at {where}: {read_only_failure(exc) or exc}") from None


def answer_pipeline(ctx: typer.Context) -> Pipeline:
    """The answer pipeline for these settings; prepares the embedded model on first use."""
    from assistant.confidence import DecisionUnavailable
    from assistant.service import build_pipeline, build_rails
    from guardrails.policy import PolicyError

    kb = knowledge_base(ctx)
    try:
        rails = build_rails(ctx.obj, kb.embedder)
    except PolicyError as exc:
        raise CliError(f"the guardrail policy cannot be used, so Waymark will not answer: {exc}") from None
    try:
        return build_pipeline(ctx.obj, kb, chat_model(ctx), rails)
    except DecisionUnavailable as exc:
        raise CliError(f"Waymark will not answer: {exc}") from None


def chat_model(ctx: typer.Context) -> ChatClient:
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


def lines(prompt: str) -> Iterator[str]:
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
