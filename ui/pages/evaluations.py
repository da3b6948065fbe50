"""Evaluations (evaluators, champions): run suites with progress, the run history, each metric's
trend with its interval band, compare two runs, the failing cases, and flagged answers as a suite.
Evaluators and admins add suites to the data directory's suite store (validated, versioned), which a
policy's gate may then name. Questions, answers and quotes are shown as text."""

from __future__ import annotations

import streamlit as st

from evals.suite import SuiteError
from evals.suite_store import available, suite_store
from ui import render as show
from ui.services import services
from ui.session import require

user = require("evaluations")
svc = services()
st.title("Evaluations")

if user.role in ("evaluator", "admin"):
    with st.expander("Add a suite to the store"), st.form("add-suite"):
        upload = st.file_uploader("Suite file (YAML or JSONL)", type=["yaml", "yml", "jsonl"])
        suite_name = st.text_input("Name (lower-case letters, digits, - and _)")
        if st.form_submit_button("Validate and keep") and upload is not None:
            try:
                kept = suite_store(svc.settings.data_dir).add(suite_name.strip(), upload.getvalue(), user.name,
                                                              upload.name.endswith(".jsonl"))
                st.success(show.label(f"Kept {kept.name} v{kept.version} ({kept.cases} cases)."))
            except SuiteError as exc:
                st.error(show.label(f"Not kept: {exc}"))

chosen = st.multiselect("Suites", [*available(svc.settings.data_dir), "rules"], default=["smoke"])
if chosen and st.button("Run", type="primary"):
    from evals import runner
    from evals.metrics import CaseResult
    from evals.policy_cases import rules_suite
    from evals.suite_store import load_named

    for name in chosen:
        if name == "rules":
            active = svc.policies.active()
            if active is None:
                st.error("No policy in force: the rules suite needs one.")
                continue
            suite, digest = rules_suite([active.policy()])
        else:
            try:
                suite, digest = load_named(name, svc.settings.data_dir)
            except SuiteError as exc:
                st.error(show.label(str(exc)))
                continue
        bar = st.progress(0.0, text=show.label(f"{suite.suite}: starting..."))

        def progress(i: int, n: int, r: CaseResult, bar: object = bar, name: str = suite.suite) -> None:
            bar.progress(i / n, text=show.label(f"{name}: {i}/{n} ({r.case.id}: {r.status})"))  # type: ignore[attr-defined]

        try:
            report = runner.run(suite, digest, runner.settings_for(svc.settings, suite), progress=progress)
        except (SuiteError, ValueError, FileNotFoundError) as exc:
            bar.empty()
            st.error(show.label(f"{suite.suite} could not run: {exc}"))
            continue
        svc.runs.save(report)
        bar.empty()
        statuses = ", ".join(f"{k} {v}" for k, v in report.statuses.items())
        st.success(show.label(f"{suite.suite}: run {report.run_id} stored ({statuses})"))

runs = svc.runs.list()
st.subheader("Runs")
if not runs:
    st.info("No runs yet.")
    st.stop()
st.dataframe([{"run": r.id, "when": r.created, "suite": r.suite, "cases": r.cases, "errors": r.errors,
               "model": r.model, "policy": r.policy, "commit": r.commit} for r in runs], hide_index=True)

suite_names = sorted({r.suite for r in runs})
shown = st.selectbox("Suite", suite_names, index=suite_names.index(runs[0].suite)) or suite_names[0]  # newest
reports = svc.runs.reports(shown)
metric_names = [m for m, v in reports[-1].metrics.items() if v.unit != "ms" and v.value is not None]
metric = st.selectbox("Metric", metric_names)
points = [{"run": r.run_id, "value": m.value, "low": m.interval[0] if m.interval else m.value,
           "high": m.interval[1] if m.interval else m.value, "n": m.n, "errors": m.errors}
          for r in reports if (m := r.metrics.get(metric)) is not None and m.value is not None]
if points:
    import altair as alt

    base = alt.Chart(alt.Data(values=points)).encode(x=alt.X("run:O", title="run"))  # type: ignore[no-untyped-call]
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("low:Q", title=metric, scale=alt.Scale(domain=[0, 1])),
                                                y2="high:Q")
    line = base.mark_line(point=True).encode(y="value:Q", tooltip=["run:O", "value:Q", "low:Q", "high:Q", "n:Q",
                                                                    "errors:Q"])
    st.altair_chart(band + line, width="stretch")
    st.caption("Line: the value; band: its 95% interval. Errors are counted apart, never as 0.")
else:
    st.info("Nothing measured for this metric in these runs (n = 0).")

ids = [r.run_id for r in reports if r.run_id is not None]
if len(ids) >= 2:
    from evals.compare import compare

    c1, c2 = st.columns(2)
    a = c1.selectbox("Compare run", ids, index=len(ids) - 2)
    b = c2.selectbox("with run", ids, index=len(ids) - 1)
    ra, rb = svc.runs.get(a), svc.runs.get(b)
    st.dataframe([{"metric": d.metric, "A": d.a, "B": d.b, "change": d.delta,
                   "beyond noise": "worse" if d.worse else "yes" if d.beyond_noise else "no", "test": d.test,
                   "gate": "REGRESSED" if d.regressed else "ok" if d.gated else ""}
                  for d in compare(ra, rb, rb.gates)], hide_index=True)

latest = reports[-1]
failing = [c for c in latest.cases if c.failed or c.status == "error"]
st.subheader(f"Failing cases in run {latest.run_id} ({len(failing)})")
for c in failing:
    with st.expander(show.label(f"{c.id}: {c.status}, failed {', '.join(c.failed) or 'with an error'}", 120)):
        st.markdown(f"**Question** ({show.label(c.language)}, {show.label(c.kind)}):")
        show.text(c.question, c.language)
        if c.error:
            st.error(show.label(c.error))
        if c.answer is not None:
            st.markdown(f"**Answer** ({show.label(c.answer.status)}):")
            show.text(c.answer.answer, c.answer.language)
            for cit in c.answer.citations:
                st.caption(show.label(f"[{cit.n}] {cit.title}:"))
                show.text(cit.quote[:300], cit.language)

st.subheader("Flagged answers as a suite")
flagged = svc.audit.entries(rating="down")
st.write(f"{len(flagged)} answers rated 👎.")
if flagged:
    from evals.feedback import Feedback, cases_from_feedback
    from evals.suite import Suite, to_yaml

    cases, skipped = cases_from_feedback([Feedback(answer=e.answer, rating="down", comment=e.comment,
                                                   expected=e.expected, user=e.user, created=e.at) for e in flagged])
    for why in skipped:
        st.caption(show.label(f"Needs an expected answer: {why}"))
    if cases:
        text = to_yaml(Suite(suite="feedback", description="Answers users flagged", corpus="knowledge/sample_corpus",
                             cases=cases))
        st.download_button(f"Download {len(cases)} cases as a suite", text, "feedback-suite.yaml", "text/yaml")
