"""``waymark policy ...`` and ``waymark guard check``: for AI champions and evaluators to check a
policy and probe its rails without the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.text import Text

from assistant.console import CliError, err, out
from assistant.settings import Settings

if TYPE_CHECKING:
    from guardrails.engine import PolicyRails
    from guardrails.policy import Policy
    from guardrails.store import PolicyStore, Version

T = TypeVar("T")

policy_app = typer.Typer(help="Check and inspect guardrail policies.", no_args_is_help=True)
guard_app = typer.Typer(help="Probe a policy's rails without the model.", no_args_is_help=True)


def _rails(settings: Settings, policy: Policy) -> PolicyRails:
    """The policy's rails, ready to run (the embedder loads on first use: a policy without classifiers
    never loads it)."""
    from assistant.service import rail_tools
    from guardrails.engine import PolicyRails
    from guardrails.policy import PolicyError
    from knowledge.embeddings import E5Embedder

    try:
        return PolicyRails(policy, rail_tools(E5Embedder(settings.embed_threads)))
    except PolicyError as exc:
        raise CliError(str(exc)) from None


def _load(settings: Settings, file: Path | None) -> Policy:
    from assistant.service import load_policy
    from guardrails.policy import Policy, PolicyError

    try:
        policy = Policy.from_path(file) if file else load_policy(settings)
    except PolicyError as exc:
        raise CliError(f"invalid policy:\n{exc}") from None
    if policy is None:
        raise CliError("no policy is configured (WAYMARK_POLICY=none)")
    return policy


def _summary(policy: Policy) -> str:
    stages = [f"{stage}: {', '.join(f'{r.rail} ({r.action})' for r in policy.rails(stage))}"
              for stage in ("input", "retrieval", "output") if policy.rails(stage)]
    return f"{policy.label} (owner: {policy.owner})\n  " + "\n  ".join(stages)


@policy_app.command("validate")
def validate(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="A policy YAML file.")]) -> None:
    """Check a policy file: every error is named with its line; exit 1 if it cannot be used."""
    policy = _load(ctx.obj, file)
    _rails(ctx.obj, policy)  # every rail must also start
    out.print(Text(f"valid: {_summary(policy)}"))


@policy_app.command("show")
def show(ctx: typer.Context, version: Annotated[int | None, typer.Argument(help="A stored version (default: the "
                                                                               "policy in force).")] = None,
         full: Annotated[bool, typer.Option("--full", help="Print the whole policy file.")] = False) -> None:
    """The policy in force (or a stored version): its label and rails, or its whole text."""
    stored = None
    if version is not None:
        stored = _guarded(lambda: _store(ctx).get(version))
    elif ctx.obj.policy == "active":
        stored = _store(ctx).active()
    policy = stored.policy() if stored else _load(ctx.obj, None)
    if full and stored is not None:
        print(stored.content, end="" if stored.content.endswith("\n") else "\n")
    else:
        out.print(Text(_summary(policy) if stored is None else f"v{stored.id}: {_summary(policy)}"))


def _store(ctx: typer.Context) -> PolicyStore:
    from assistant.service import policy_store

    return policy_store(ctx.obj)


def _guarded(action: Callable[[], T]) -> T:
    from guardrails.policy import PolicyError

    try:
        return action()
    except PolicyError as exc:
        raise CliError(str(exc)) from None


Reason = Annotated[str, typer.Option("--reason", help="Why (recorded).")]
Author = Annotated[str | None, typer.Option("--author", help="Who (default: your user name).")]


def _note_fixed(settings: Settings) -> None:
    if settings.policy != "active":
        err.print(f"note: WAYMARK_POLICY={settings.policy} fixes the policy in use; the store's activations take "
                  "effect with WAYMARK_POLICY=active (the default)", markup=False)


def _line(v: Version) -> str:
    mark = "*" if v.active else " "
    return f"{mark} v{v.id}  {v.label}  {v.created}  {v.author}: {v.reason}"


@policy_app.command("activate")
def activate(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="The policy YAML file to put in force.")],
             reason: Reason, author: Author = None,
             override: Annotated[bool, typer.Option("--override", help="Activate even if the policy's gate "
                                                                       "suites regress (recorded).")] = False) -> None:
    """Validate FILE, run its gate suites against the policy in force, and put it in force as a new
    version; if it is invalid, or its gate regresses (without --override), nothing changes."""
    from guardrails.policy import Policy, PolicyError

    s: Settings = ctx.obj
    try:
        content = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {file}: {exc}") from None
    try:
        draft = Policy.from_yaml(content, str(file))
    except PolicyError as exc:
        raise CliError(f"not activated; the policy in force is unchanged:\n{exc}") from None
    store = _store(ctx)
    if draft.gate:
        reason = _gate(s, file, draft, store, reason, override)
    try:
        v = store.activate(content, author or s.user, reason, str(file), check=lambda p: _rails(s, p))
    except PolicyError as exc:
        raise CliError(f"not activated; the policy in force is unchanged:\n{exc}") from None
    out.print(Text(f"in force: {_line(v)}"))
    _note_fixed(s)


def _gate(s: Settings, file: Path, draft: Policy, store: PolicyStore, reason: str, override: bool) -> str:
    """Run the draft's gate; refuse on a regression unless overridden. Returns the reason to record."""
    from evals.gate import GateRefused, activation_reason, policy_gate
    from evals.suite import SuiteError

    active = store.active()
    try:
        result = policy_gate(s, file, draft, active.policy() if active else None,
                             log=lambda m: err.print(Text(m), style="dim"))
    except (SuiteError, ValueError, FileNotFoundError) as exc:
        raise CliError(f"not activated: the gate could not run: {exc}") from None
    err.print(Text(result.summary()))
    try:
        return activation_reason(result, reason, override)
    except GateRefused as exc:
        raise CliError(f"not activated; the policy in force is unchanged: {exc}") from None


@policy_app.command("rollback")
def rollback(ctx: typer.Context, version: Annotated[int, typer.Argument(help="The version to put back in force.")],
             reason: Reason, author: Author = None) -> None:
    """Put an earlier version back in force (recorded as a new activation)."""
    s: Settings = ctx.obj
    v = _guarded(lambda: _store(ctx).rollback(version, author or s.user, reason, check=lambda p: _rails(s, p)))
    out.print(Text(f"in force: {_line(v)}"))
    _note_fixed(s)


@policy_app.command("history")
def history(ctx: typer.Context) -> None:
    """Every stored version (* = in force), then every activation."""
    store = _store(ctx)
    for v in store.history():
        out.print(Text(_line(v)))
    out.print("\nActivations (newest first):", style="bold")
    for version, who, why, at in store.activations():
        out.print(Text(f"  {at}  v{version}  {who}: {why}"))


@policy_app.command("diff")
def diff(ctx: typer.Context, a: Annotated[int, typer.Argument(help="A version.")],
         b: Annotated[int, typer.Argument(help="Another version.")]) -> None:
    """The changes from version A to version B (unified diff)."""
    text = _guarded(lambda: _store(ctx).diff(a, b))
    print(text or f"v{a} and v{b} are identical")


@policy_app.command("schema")
def schema() -> None:
    """The policy files' JSON schema (for editors)."""
    from guardrails.policy import Policy

    print(json.dumps(Policy.model_json_schema(), indent=2, ensure_ascii=False))


@guard_app.command("check")
def check(ctx: typer.Context, text: Annotated[str, typer.Argument(help="A question, in any language.")],
          as_json: Annotated[bool, typer.Option("--json", help='Print {"blocked", "redacted", "decisions"}.')] = False,
          policy_file: Annotated[Path | None, typer.Option("--policy", help="A policy file (default: the one "
                                                                           "in force).")] = None) -> None:
    """Run the policy's input rails on TEXT (no model, no index) and show every decision."""
    from knowledge.language import UNDETERMINED, detect_language

    policy = _load(ctx.obj, policy_file)
    language = detect_language(text)
    result = _rails(ctx.obj, policy).check_input(text, "en" if language == UNDETERMINED else language)
    if as_json:
        print(json.dumps({"blocked": result.blocked, "redacted": result.text,
                          "decisions": [r.model_dump() for r in result.records], "policy_version": policy.label,
                          "message": result.message}, ensure_ascii=False))
        return
    out.print(Text("BLOCKED: " + (result.message or "") if result.blocked else "passed",
                   style="red" if result.blocked else "green"))
    if result.text != text:
        out.print(Text(f"text the model would see: {result.text}"))
    for r in result.records:
        score = f" score {r.score:g}" if r.score is not None else ""
        out.print(Text(f"  {r.rail}: {r.verdict}{score}{f' -> {r.action}' if r.action else ''}"
                       f"{f' ({r.detail})' if r.detail else ''}"))
