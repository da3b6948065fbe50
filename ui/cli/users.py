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


@users_app.command("demo")
def demo(ctx: typer.Context, remove_them: Annotated[bool, typer.Option(
        "--remove", help="Remove every demo account instead (do this before real use).")] = False) -> None:
    """Create one demo user per role, once; each password is printed only when it is created."""
    from assistant.users import DEMO

    store = _store(ctx)
    if remove_them:
        gone = [name for name in DEMO.values() if store.remove(name)]
        out.print(Text(f"removed {len(gone)} demo account(s)" + (f": {', '.join(gone)}" if gone else "")))
        return
    if ctx.obj.production:
        raise CliError("WAYMARK_PRODUCTION is set: demo accounts are not created in production")
    for role, name in DEMO.items():
        if store.get(name) is None:
            _, secret = store.add(name, role)
            out.print(Text(f"demo user {name} ({role}), password (shown once): {secret}"))
    if existing := [n for n in DEMO.values() if store.get(n)]:
        out.print(Text(f"demo accounts active: {', '.join(existing)} (`waymark users demo --remove` removes them)"))


@users_app.command("passwd")
def passwd(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The user whose password is reset.")],
           password_stdin: Annotated[bool, typer.Option(
               "--password-stdin", help="Read the new password from standard input (default: generate one).")]
           = False) -> None:
    """Reset a user's password (an admin's command); a generated one is printed once."""
    from assistant.users import UserError

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        secret = _store(ctx).set_password(name, password)
    except UserError as exc:
        raise CliError(str(exc)) from None
    out.print(Text(f"password of {name} reset" + ("" if password_stdin else f"; new password (shown once): {secret}")))


@users_app.command("role")
def role(ctx: typer.Context, name: Annotated[str, typer.Argument()], new_role: Annotated[str, typer.Argument(
        metavar="ROLE", help="civil_servant, champion, evaluator or admin.")]) -> None:
    """Change a user's role; it applies on their next click in the app."""
    from assistant.users import UserError

    try:
        _store(ctx).set_role(name, new_role)
    except UserError as exc:
        raise CliError(str(exc)) from None
    out.print(Text(f"{name} is now {new_role}"))


@users_app.command("unlock")
def unlock(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Lift the sign-in backoff on an account locked by failed attempts."""
    from assistant.signin import SignIns

    store = _store(ctx)
    if store.get(name) is None:
        raise CliError(f"no user {name!r}")
    SignIns(store.path, store).unlock(name)
    out.print(Text(f"sign-in backoff lifted for {name}"))


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
