"""``waymark eval ...``: run suites, keep every run, compare two runs and gate on regressions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from assistant.settings import Settings
from ui.cli.console import CliError, err, out

if TYPE_CHECKING:
    from assistant.llm import ChatClient
    from evals.history import RunStore
    from evals.metrics import CaseResult
    from evals.runner import Report
    from evals.suite import Suite

eval_app = typer.Typer(help="Run eval suites, compare runs, gate on regressions.", no_args_is_help=True)
suites_app = typer.Typer(help="The data directory's own suites, which a policy's gate may name.", no_args_is_help=True)
eval_app.add_typer(suites_app, name="suites")


@suites_app.command("add")
def suites_add(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="A suite file (YAML or JSONL).")],
               name: Annotated[str, typer.Option("--name", help="Its name in the store (a gate names it so).")],
               author: Annotated[str | None, typer.Option("--author", help="Who (default: your user name).")] = None,
               ) -> None:
    """Validate FILE and keep it as the next version of NAME (its corpus must be one Waymark may read)."""
    from evals.suite import SuiteError
    from evals.suite_store import suite_store

    try:
        content = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or type(exc).__name__}") from None
    try:
        kept = suite_store(ctx.obj.data_dir).add(name, content, author or ctx.obj.user, file.suffix == ".jsonl")
    except SuiteError as exc:
        raise CliError(f"not kept: {exc}") from None
    out.print(Text(f"kept {kept.name} v{kept.version}: {kept.cases} cases, sha256 {kept.sha256[:12]}"))


@suites_app.command("list")
def suites_list(ctx: typer.Context) -> None:
    """The shipped suites, then every stored version (newest first)."""
    from evals.suite import shipped_names
    from evals.suite_store import suite_store

    out.print(Text(f"shipped: {', '.join([*shipped_names(), 'rules'])}"))
    for v in suite_store(ctx.obj.data_dir).versions():
        out.print(Text(f"  {v.name} v{v.version}  {v.cases} cases  {v.created}  {v.author}  {v.sha256[:12]}"))


@suites_app.command("show")
def suites_show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="A stored suite's name.")],
                version: Annotated[int | None, typer.Option("--version")] = None) -> None:
    """A stored suite, as YAML."""
    from evals.suite import SuiteError, to_yaml
    from evals.suite_store import suite_store

    try:
        suite, _ = suite_store(ctx.obj.data_dir).get(name, version)
    except SuiteError as exc:
        raise CliError(str(exc)) from None
    print(to_yaml(suite), end="")


def _store(settings: Settings) -> RunStore:
    from evals.history import RunStore

    return RunStore(settings.data_dir / "evals.sqlite")


def _settings(base: Settings, suite: Suite, sets: list[str], policy: Path | None) -> Settings:
    from evals.runner import settings_for

    try:
        return settings_for(base, suite, sets, str(policy) if policy else None)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _judge(settings: Settings, which: str | None) -> ChatClient | None:
    """The judge model's client (configured like the answering model, by ``WAYMARK_LLM_*``)."""
    if which is None:
        return None
    from assistant.backends import BackendError, chat_client

    if which not in ("local", "openai", "azure"):
        raise CliError(f"--judge wants local, openai or azure, not {which!r}")
    try:
        return chat_client(settings.model_copy(update={"llm": which}))
    except BackendError as exc:
        raise CliError(f"the judge model cannot start: {exc}") from None


def _rules(base: Settings, policy: Path | None) -> tuple[Suite, str]:
    """The ``rules`` suite: the cases of the policy's own rules (the one in force, or ``--policy``)."""
    from assistant.service import load_policy
    from evals.policy_cases import rules_suite
    from guardrails.policy import PolicyError

    try:
        found = load_policy(base.model_copy(update={"policy": str(policy)}) if policy else base)
    except PolicyError as exc:
        raise CliError(f"invalid policy:\n{exc}") from None
    if found is None:
        raise CliError("no policy is configured (WAYMARK_POLICY=none): the rules suite needs one")
    return rules_suite([found])


def _value(v: Any) -> str:
    from evals.html_report import value_text

    return value_text(v)


def _print_report(report: Report) -> None:
    table = Table(title=f"{report.suite}: run {report.run_id} ({len(report.cases)} cases, "
                        f"{', '.join(f'{k} {v}' for k, v in sorted(report.statuses.items()))}; {report.seconds:.0f} s)")
    for col in ("metric", "value [95% CI]", "n", "errors"):
        table.add_column(col)
    for m in report.metrics.values():
        table.add_row(m.name, _value(m), str(m.n), Text(str(m.errors), style="red" if m.errors else ""))
    out.print(table)
    fp = report.fingerprint
    out.print(Text(f"model {fp.model} · policy {fp.policy} · index {fp.index} · commit {fp.commit}"), style="dim")


@eval_app.command("run")
def run_cmd(ctx: typer.Context,
            suites: Annotated[list[str], typer.Argument(help="Suite names (smoke, golden; rules: the policy's "
                                                            "own rules as cases) or files.")],
            policy: Annotated[Path | None, typer.Option("--policy", help="Judge with this policy file "
                                                                          "instead of the one in force.")] = None,
            sets: Annotated[list[str] | None, typer.Option("--set", help="Override a setting for this run, "
                                                                         "e.g. --set k=1 (repeatable).")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print each report as one JSON document.")] = False,
            workers: Annotated[int, typer.Option("--workers", min=1, max=32,
                                                 help="Cases answered at once (hosted models).")] = 1,
            html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML "
                                                                     "report here (one suite).")] = None,
            judge: Annotated[str | None, typer.Option(
                "--judge", help="Also grade faithfulness and relevance with this model: local, openai or azure.")
            ] = None,
            judge_repeats: Annotated[int, typer.Option("--judge-repeats", min=1, max=10)] = 3) -> None:
    """Run suites through the full answer path, store each run, print its metrics."""
    from evals import runner
    from evals import suite as suite_mod
    from evals.suite_store import load_any

    loaded = []
    for name in suites:
        try:
            loaded.append(_rules(ctx.obj, policy) if name == "rules" else load_any(name, ctx.obj.data_dir))
        except (suite_mod.SuiteError, ValueError) as exc:
            raise CliError(str(exc)) from None
    if html and len(loaded) > 1:
        raise CliError("--html takes one suite at a time")
    store = _store(ctx.obj)
    for suite, digest in loaded:
        settings = _settings(ctx.obj, suite, sets or [], policy)

        def progress(i: int, n: int, r: CaseResult) -> None:
            err.print(Text(f"[{i}/{n}] {r.case.id} {r.status} {r.wall_ms / 1000:.1f} s"
                           + (f" ({r.error})" if r.error else "")), style="red" if r.error else "dim")

        err.print(f"Running {suite.suite}: {len(suite.cases)} cases over {suite.corpus}...", style="bold")
        try:
            report = runner.run(suite, digest, settings, workers, progress, log=lambda m: err.print(Text(m)),
                                judge=_judge(settings, judge), judge_repeats=judge_repeats)
        except (FileNotFoundError, suite_mod.SuiteError) as exc:
            raise CliError(str(exc)) from None
        store.save(report)
        if as_json:
            print(report.model_dump_json(indent=1))
        else:
            _print_report(report)
            out.print(f"Stored as run {report.run_id}; compare with: waymark eval compare previous:{suite.suite} "
                      f"{report.run_id}")
        if html:
            from evals.html_report import render

            html.write_text(render(report), encoding="utf-8")
            err.print(f"HTML report: {html}")


@eval_app.command("compare")
def compare_cmd(ctx: typer.Context,
                a: Annotated[str, typer.Argument(help="The baseline run: an id, latest[:SUITE] or previous[:SUITE].")],
                b: Annotated[str, typer.Argument(help="The run to judge.")],
                gate: Annotated[bool, typer.Option("--gate", help="Exit 1 when a gated metric regressed.")] = False,
                gate_on: Annotated[list[str] | None, typer.Option(
                    "--gate-on", help="Gate this metric too, beside the suite's gates (repeatable).")] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per-metric differences from A to B, and whether each is beyond noise."""
    from evals.compare import compare

    store = _store(ctx.obj)
    try:
        ra, rb = store.get(a), store.get(b)
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from None
    if ra.suite != rb.suite:
        err.print(f"Note: comparing runs of different suites ({ra.suite}, {rb.suite}).", style="yellow")
    from evals.suite import Gate

    gates = list(rb.gates) + [Gate(metric=m) for m in gate_on or [] if m not in {g.metric for g in rb.gates}]
    deltas = compare(ra, rb, gates)
    regressed = [d.metric for d in deltas if d.regressed]
    if as_json:
        print(json.dumps({"a": ra.run_id, "b": rb.run_id, "regressed": regressed,
                          "metrics": [d.__dict__ for d in deltas]}, indent=1))
    else:
        table = Table(title=f"run {ra.run_id} -> run {rb.run_id} ({rb.suite})")
        for col in ("metric", "A", "B", "change", "beyond noise", "test", "gate"):
            table.add_column(col)
        for d in deltas:
            change = "" if d.delta is None else f"{d.delta:+.3f}" if abs(d.delta) < 10 else f"{d.delta:+,.0f}"
            table.add_row(d.metric, _num(d.a), _num(d.b), change,
                          Text("yes, worse" if d.worse else "yes" if d.beyond_noise else "no",
                               style="red" if d.worse else ""),
                          d.test + (f", p={d.p:.3f}" if d.p is not None else ""),
                          Text("REGRESSED" if d.regressed else "ok" if d.gated else "", style="red bold" if d.regressed
                               else ""))
        out.print(table)
        out.print(f"Gated metrics regressed: {', '.join(regressed)}" if regressed else "No gated metric regressed.")
    if gate and regressed:
        raise typer.Exit(1)


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}" if abs(x) < 10 else f"{x:,.0f}"


@eval_app.command("list")
def list_cmd(ctx: typer.Context, suite: Annotated[str | None, typer.Option("--suite")] = None) -> None:
    """Stored runs, newest first."""
    runs = _store(ctx.obj).list(suite)
    if not runs:
        out.print("No eval runs yet: waymark eval run smoke")
    for r in runs:
        out.print(Text(f"{r.id:>4}  {r.created}  {r.suite:12s} {r.cases:>4} cases {r.errors:>3} errors  "
                       f"{r.model}  {r.policy}  {r.commit}"))


@eval_app.command("trend")
def trend_cmd(ctx: typer.Context, suite: Annotated[str, typer.Argument(help="The suite's name.")],
              metric: Annotated[list[str] | None, typer.Option("--metric", help="Only these (repeatable).")] = None,
              last: Annotated[int, typer.Option("--last", min=1, max=500)] = 20) -> None:
    """A suite's metrics run after run, each with its interval, n and errors (oldest first)."""
    reports = _store(ctx.obj).reports(suite, last)
    if not reports:
        raise CliError(f"no eval runs of {suite!r} yet")
    names = metric or list(reports[-1].metrics)
    for name in names:
        table = Table(title=name)
        for col in ("run", "when", "model", "policy", "commit", "value [95% CI]", "n", "errors"):
            table.add_column(col)
        for r in reports:
            m = r.metrics.get(name)
            fp = r.fingerprint
            table.add_row(str(r.run_id), r.created[:16], fp.model, fp.policy, fp.commit,
                          _value(m) if m else "not measured", str(m.n) if m else "", str(m.errors) if m else "")
        out.print(table)


@eval_app.command("show")
def show_cmd(ctx: typer.Context,
             run: Annotated[str, typer.Argument(help="A run id, latest[:SUITE] or previous[:SUITE].")],
             as_json: Annotated[bool, typer.Option("--json")] = False,
             html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None) -> None:
    """One stored run's metrics (or its whole report)."""
    try:
        report = _store(ctx.obj).get(run)
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from None
    if html:
        from evals.html_report import render

        html.write_text(render(report), encoding="utf-8")
        err.print(f"HTML report: {html}")
    if as_json:
        print(report.model_dump_json(indent=1))
    elif not html:
        _print_report(report)


@eval_app.command("from-feedback")
def from_feedback_cmd(
        feedback: Annotated[Path, typer.Argument(help="JSONL: one {answer, rating, comment, expected} per line.")],
        out_file: Annotated[Path, typer.Option("--out", help="The suite file to write.")],
        corpus: Annotated[str, typer.Option(help="The documents the questions are about.")] = "knowledge/sample_corpus",
) -> None:
    """Turn answers users flagged into a suite (thumbs down on a refusal: benign; with the right answer
    given: answerable); the rest is listed for an evaluator to complete."""
    from pydantic import ValidationError

    from evals.feedback import Feedback, cases_from_feedback
    from evals.suite import Suite, to_yaml

    items = []
    try:
        lines = feedback.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {feedback}: {exc}") from None
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                items.append(Feedback.model_validate_json(line))
            except ValidationError as exc:
                raise CliError(f"{feedback} line {n}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
    cases, skipped = cases_from_feedback(items)
    for why in skipped:
        err.print(Text(f"not a case yet: {why}"), style="yellow")
    if not cases:
        raise CliError(f"no case made from {len(items)} feedback records")
    suite = Suite(suite="feedback", description=f"Made from {feedback.name}", corpus=corpus, cases=cases)
    out_file.write_text(to_yaml(suite), encoding="utf-8")
    out.print(f"{len(cases)} cases written to {out_file} ({len(skipped)} records need an expected answer)")


@eval_app.command("build")
def build_cmd(ctx: typer.Context, name: Annotated[str, typer.Argument(help="xstest, cyberseceval, presidio or xquad.")],
              out_file: Annotated[Path, typer.Option("--out", help="The suite file to write.")],
              limit: Annotated[int | None, typer.Option("--limit", min=1, help="A seeded sample of N cases.")] = None,
              seed: Annotated[int, typer.Option("--seed")] = 7,
              language: Annotated[str, typer.Option("--language", help="xquad: en, de or es.")] = "en") -> None:
    """Build a suite from a public set in ../shared/data (XSTest, CyberSecEval, Presidio, XQuAD)."""
    from evals.builders import build
    from evals.suite import to_yaml

    try:
        suite = build(name, ctx.obj.data_dir, limit, seed, language)
    except (ValueError, FileNotFoundError) as exc:
        raise CliError(str(exc)) from None
    out_file.write_text(to_yaml(suite), encoding="utf-8")
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(c.kind for c in suite.cases).items()))
    out.print(f"{suite.suite}: {len(suite.cases)} cases ({kinds}) written to {out_file}; corpus {suite.corpus}")


@eval_app.command("schema")
def schema_cmd() -> None:
    """The suite files' JSON schema (for editors)."""
    from evals.suite import schema

    print(json.dumps(schema(), indent=2, ensure_ascii=False))
