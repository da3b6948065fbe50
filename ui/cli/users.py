"""``waymark users ...``: the app's local accounts (the embedded sign-in)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from ui.cli.console import CliError, out

if TYPE_CHECKING:
    from assistant.users import UserStore

users_app = typer.Typer(help="Add, list and remove the app's local users.", no_args_is_help=True)


def _store(ctx: typer.Context) -> UserStore:
    from assistant.service import user_store

    return user_store(ctx.obj)


@users_app.command("add")
def add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The sign-in name.")],
        role: Annotated[str, typer.Option("--role", help="civil_servant, champion, evaluator or admin.")],
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard "
                                                                             "input (default: generate one).")]
        = False) -> None:
    """Add a user; a generated password is printed once."""
    from assistant.users import UserError

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user, secret = _store(ctx).add(name, role, password)
    except UserError as exc:
        raise CliError(str(exc)) from None
    out.print(Text(f"added {user.name} ({user.role})"))
    if password is None:
        out.print(Text(f"password (shown once): {secret}"))


DEMO = {"civil_servant": "demo-civil-servant", "champion": "demo-champion", "evaluator": "demo-evaluator",
        "admin": "demo-admin"}


@users_app.command("demo")
def demo(ctx: typer.Context) -> None:
    """Create one demo user per role, if missing; new passwords are printed once."""
    store = _store(ctx)
    for role, name in DEMO.items():
        if store.get(name) is None:
            _, secret = store.add(name, role)
            out.print(Text(f"demo user {name} ({role}), password: {secret}"))
        else:
            out.print(Text(f"demo user {name} ({role}) exists (password shown when it was created; "
                           f"`waymark users remove {name}` and run again for a new one)"))


@users_app.command("list")
def list_users(ctx: typer.Context) -> None:
    """Every user and role (never a password)."""
    for u in _store(ctx).list():
        out.print(Text(f"{u.name:24s} {u.role:14s} {u.created}"))


@users_app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user."""
    if not _store(ctx).remove(name):
        raise CliError(f"no user {name!r}")
    out.print(Text(f"removed {name}"))
