"""``waymark policy ...`` and ``waymark guard check``: for AI champions and evaluators to check a
policy and probe its rails without the model."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from assistant.console import CliError, out
from assistant.settings import Settings

if TYPE_CHECKING:
    from guardrails.engine import PolicyRails
    from guardrails.policy import Policy

policy_app = typer.Typer(help="Check and inspect guardrail policies.", no_args_is_help=True)
guard_app = typer.Typer(help="Probe a policy's rails without the model.", no_args_is_help=True)


def _embed_lazily(settings: Settings) -> Any:
    """The multilingual query encoder, loaded on first use (a policy without classifiers never loads it)."""

    @cache
    def embedder() -> Any:
        from knowledge.embeddings import E5Embedder

        return E5Embedder(settings.embed_threads)

    def embed(texts: list[str]) -> Any:
        return embedder().queries(texts)

    return embed


def _rails(settings: Settings, policy: Policy) -> PolicyRails:
    from guardrails.engine import PolicyRails
    from guardrails.policy import PolicyError
    from guardrails.rail import Tools

    try:
        return PolicyRails(policy, Tools(embed=_embed_lazily(settings)))
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
def show(ctx: typer.Context) -> None:
    """The policy in force: its label and rails."""
    out.print(Text(_summary(_load(ctx.obj, None))))


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
