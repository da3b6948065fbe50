"""``waymark``: the command line. This module only assembles it: each command group lives in its own
module of ``ui.cli`` and calls the packages below (``docs/architecture.md``)."""

from __future__ import annotations

import sys

import typer

from assistant.data_dir import store_failure
from ui.cli import answers, common, knowledge
from ui.cli.console import CliError, err
from ui.cli.eval import eval_app
from ui.cli.guard import guard_app, policy_app
from ui.cli.users import users_app

app = typer.Typer(help="Waymark: answers for civil servants from guidance documents.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
app.callback()(common.root)
for command in (knowledge.ingest, knowledge.search, answers.ask, answers.chat, knowledge.shell,
                knowledge.translate):
    app.command()(command)
app.add_typer(knowledge.docs_app, name="docs")
app.add_typer(policy_app, name="policy")
app.add_typer(guard_app, name="guard")
app.add_typer(eval_app, name="eval")
app.add_typer(users_app, name="users")


def main() -> None:
    try:
        app()
    except CliError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(1)
    except Exception as exc:
        problem = store_failure(exc)
        if problem is None:
            raise
        err.print(f"error: {problem}", markup=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
