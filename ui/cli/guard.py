"""``waymark policy ...`` and ``waymark guard check``: for AI champions and evaluators to check a
policy and probe its rails without the model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.text import Text

from assistant.settings import Settings
from knowledge.models import CONTROL
from ui.cli.console import CliError, err, out

if TYPE_CHECKING:
    from evals.activation import Request
    from guardrails.engine import PolicyRails
    from guardrails.policy import Policy
    from guardrails.store import PolicyStore, Version

T = TypeVar("T")

policy_app = typer.Typer(help="Check and inspect guardrail policies.", no_args_is_help=True)
guard_app = typer.Typer(help="Probe a policy's rails without the model.", no_args_is_help=True)


def _rails(settings: Settings, policy: Policy) -> PolicyRails:
    """The policy's rails, ready to run (the embedder loads on first use: a policy without classifiers
    never loads it)."""
    from assistant.service import policy_rails
    from guardrails.policy import PolicyError
    from knowledge.embeddings import E5Embedder

    try:
        return policy_rails(policy, E5Embedder(settings.embed_threads))
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
        print(CONTROL.sub("", stored.content), end="" if stored.content.endswith("\n") else "\n")
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


BasedOn = Annotated[str | None, typer.Option(
    "--based-on", help="The version in force this was prepared against (as `policy history` shows it, e.g. 3 or "
                       "v3; 'none' if no policy was in force): refused if the policy in force has moved since.")]
Override = Annotated[bool, typer.Option("--override", help="Put it in force even if the gate regresses "
                                                           "(recorded with the reason).")]
RequiredOverride = Annotated[str | None, typer.Option(
    "--override-required-rails", help="Admin only: why the draft may drop a required rail "
                                      "(WAYMARK_REQUIRED_RAILS); recorded.")]


def _based_on(store: PolicyStore, value: str | None) -> int | None:
    if value is None:
        active = store.active_id()
        if active is not None:
            raise CliError(f"say which version this was prepared against: --based-on {active} if you checked it "
                           f"against the policy in force (v{active}); nothing was changed")
        return None
    if value.strip().lower() == "none":
        return None
    try:
        return int(value.strip().lower().removeprefix("v"))
    except ValueError:
        raise CliError(f"--based-on wants a version number or 'none', got {value!r}") from None


def _put_in_force(ctx: typer.Context, based_on: str | None, reason: str, author: str | None, override: bool,
                  required: str | None, action: Callable[[Settings, PolicyStore, Request], Version]) -> None:
    from evals.activation import Request
    from evals.suite import SuiteError
    from guardrails.policy import PolicyError

    s: Settings = ctx.obj
    store = _store(ctx)
    request = Request(author=author or s.user, reason=reason, based_on=_based_on(store, based_on),
                      override_regression=override, required_override=required,
                      admin=True)  # the command line is the server's operator: an admin
    try:
        v = action(s, store, request)
    except PolicyError as exc:
        raise CliError(f"not put in force; the policy in force is unchanged: {exc}") from None
    except (SuiteError, ValueError, FileNotFoundError) as exc:
        raise CliError(f"not put in force: the gate could not run: {exc}") from None
    out.print(Text(f"in force: {_line(v)}"))
    _note_fixed(s)


def _log(message: str) -> None:
    err.print(Text(message), style="dim")


@policy_app.command("activate")
def activate(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="The policy YAML file to put in force.")],
             reason: Reason, based_on: BasedOn = None, author: Author = None, override: Override = False,
             required: RequiredOverride = None) -> None:
    """Validate FILE, run the gate (the minimum suites and FILE's own) against the policy in force, and put
    it in force as a new version; if anything fails, nothing changes."""
    from evals.activation import activate as put

    try:
        content = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {file}: {type(exc).__name__}") from None
    _put_in_force(ctx, based_on, reason, author, override, required,
                  lambda s, store, req: put(s, store, content, req, str(file), lambda p: _rails(s, p), log=_log))


@policy_app.command("rollback")
def rollback(ctx: typer.Context, version: Annotated[int, typer.Argument(help="The version to put back in force.")],
             reason: Reason, based_on: BasedOn = None, author: Author = None, override: Override = False,
             required: RequiredOverride = None) -> None:
    """Put an earlier version back in force (a new activation), past the same gate as any activation."""
    from evals.activation import rollback as back

    _put_in_force(ctx, based_on, reason, author, override, required,
                  lambda s, store, req: back(s, store, version, req, lambda p: _rails(s, p), log=_log))


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
    print(CONTROL.sub("", text) or f"v{a} and v{b} are identical")


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


@guard_app.command("train")
def train(seed: Annotated[int, typer.Option(help="The seed of the train/validation split.")] = 7,
          write: Annotated[bool, typer.Option("--write", help="Write the artefact, pin its sha256 and draw the "
                                                              "curve (in a checkout).")] = False) -> None:
    """Train the injection classifier from ../shared/data/injection-train (docs/decisions/0011; minutes)."""
    from evals.train_injection import main as train_main

    train_main(["--seed", str(seed), *(["--write"] if write else [])])
