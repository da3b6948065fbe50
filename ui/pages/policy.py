"""Policy studio (AI champions): edit a draft (form or YAML, validated as you type), compare it with
the policy in force, try it on questions, run its gate, activate it with a reason; history and
rollback. The draft is saved to the data folder as it changes, so nothing is lost."""

from __future__ import annotations

import difflib
from html import escape

import streamlit as st

from evals.gate import GateResult
from guardrails.editing import MESSAGE_KEYS, CommonFields, apply, common_fields
from guardrails.policy import Policy, PolicyError
from ui.services import services
from ui.session import require

user = require("policy")
svc = services()
store = svc.policies
active = store.active()
draft_file = svc.settings.data_dir / "drafts" / f"{user.name}.yaml"
if "draft" not in st.session_state:
    st.session_state["draft"] = (draft_file.read_text(encoding="utf-8") if draft_file.is_file()
                                 else active.content if active else "")


def save(text: str, from_editor: bool = False) -> None:
    st.session_state["draft"] = text
    draft_file.parent.mkdir(parents=True, exist_ok=True)
    draft_file.write_text(text, encoding="utf-8")
    if not from_editor:  # the YAML editor shows it from the next run on
        st.session_state["editor-sync"] = True


# the YAML editor's text is the draft: taken in before anything renders, or refreshed from a change elsewhere
if st.session_state.pop("editor-sync", False) or "yaml-editor" not in st.session_state:
    st.session_state["yaml-editor"] = st.session_state["draft"]
elif st.session_state["yaml-editor"] != st.session_state["draft"]:
    save(st.session_state["yaml-editor"], from_editor=True)


def lines(text: str) -> list[str]:
    return [x.strip() for x in text.splitlines() if x.strip()]


def parse(text: str) -> tuple[Policy | None, str | None]:
    try:
        return Policy.from_yaml(text, "the draft"), None
    except PolicyError as exc:
        return None, str(exc)


st.title("Policy studio")
if active:
    st.caption(f"In force: **{active.label}** (v{active.id}), activated by {active.author}: {active.reason}")
draft_text: str = st.session_state["draft"]
draft, problem = parse(draft_text)
form, raw, diff, drive, go, history = st.tabs(["Form", "YAML", "Changes", "Test drive", "Gate and activate",
                                               "History"])

with form:
    if draft is None:
        st.warning("The YAML has errors: fix them in the YAML tab to use the form.")
    else:
        f = common_fields(draft)
        with st.form("common"):
            description = st.text_area("What the assistant is for (scope)", f.description)
            in_scope = st.text_area("Questions it should answer (one per line)", "\n".join(f.in_scope))
            out_scope = st.text_area("Questions it should refuse (one per line)", "\n".join(f.out_of_scope))
            terms = st.text_area("Banned topics and terms (one per line; end with * to match word starts)",
                                 "\n".join(f.banned_terms))
            actions = ["block", "redact", "warn", "log"]
            pii = st.selectbox("Personal data in questions", ["off", *actions],
                               index=0 if f.pii_action is None else 1 + actions.index(f.pii_action))
            scope = st.selectbox("Off-topic questions", ["off", *actions],
                                 index=0 if f.scope_action is None else 1 + actions.index(f.scope_action))
            margin = st.number_input("Injection classifier threshold (higher refuses less)", -0.1, 0.2,
                                     f.injection_margin if f.injection_margin is not None else 0.02, 0.005,
                                     format="%.3f", disabled=f.injection_margin is None)
            messages = {k: st.text_input(f"Message: {k.replace('_', ' ')}", f.messages_en.get(k, ""))
                        for k in MESSAGE_KEYS}
            if st.form_submit_button("Apply to the draft"):
                fields = CommonFields(
                    description=description.strip(), in_scope=lines(in_scope), out_of_scope=lines(out_scope),
                    banned_terms=lines(terms), pii_action=None if pii == "off" else pii,
                    scope_action=None if scope == "off" else scope,
                    injection_margin=None if f.injection_margin is None else float(margin), messages_en=messages)
                try:
                    save(apply(draft_text, fields))
                    st.rerun()
                except PolicyError as exc:
                    st.error(f"Not applied: {exc}")

with raw:
    st.text_area("Draft policy (YAML)", height=480, key="yaml-editor")
    if problem:
        st.error(problem)
    else:
        st.success(f"Valid: {draft.label if draft else ''}")
    if active and st.button("Start again from the policy in force"):
        save(active.content)
        st.rerun()

with diff:
    if active is None:
        st.info("No policy in force to compare with.")
    else:
        changes = "".join(difflib.unified_diff(active.content.splitlines(keepends=True),
                                               draft_text.splitlines(keepends=True), f"v{active.id} (in force)",
                                               "draft"))
        st.code(changes or "No changes.", language="diff")

with drive:
    if draft is None:
        st.warning("Fix the draft's errors first.")
    else:
        asked = st.text_input("Ask a question under the draft", key="drive-q")
        if st.button("Answer under the draft") and asked.strip():
            answer = svc.pipeline_for(draft).answer(asked)
            st.markdown(f"**{answer.status}**: {escape(answer.answer)}")
            st.dataframe([{"rail": g.rail, "stage": g.stage, "verdict": g.verdict, "action": g.action or "",
                           "detail": g.detail} for g in answer.guardrails], hide_index=True)

with go:
    if draft is None:
        st.warning("Fix the draft's errors first.")
    else:
        st.write(f"Gate suites of the draft: {', '.join(draft.gate) or 'none'}")
        if draft.gate and st.button("Run the gate"):
            from evals.gate import policy_gate

            with st.spinner("Running the gate suites under the policy in force and under the draft..."):
                st.session_state["gate"] = (draft_text, policy_gate(svc.settings, draft_file, draft,
                                                                    active.policy() if active else None))
        gate: tuple[str, GateResult] | None = st.session_state.get("gate")
        result = gate[1] if gate is not None and gate[0] == draft_text else None
        if result is not None:
            (st.error if result.regressed else st.success)(result.summary())
        reason = st.text_input("Why (recorded with the activation)", key="reason")
        override = st.checkbox("Activate even if the gate regressed (the reason is recorded)")
        if st.button("Activate", type="primary", disabled=not reason.strip()):
            from evals.gate import GateRefused, activation_reason

            if draft.gate and result is None:
                st.error("Run the gate first: the draft names gate suites.")
            else:
                try:
                    why = activation_reason(result, reason, override) if result is not None else reason
                    v = store.activate(draft_text, user.name, why, "policy studio",
                                       check=lambda p: svc.pipeline_for(p))
                    st.success(f"In force: {v.label} (v{v.id})")
                except (GateRefused, PolicyError) as exc:
                    st.error(f"Not activated; the policy in force is unchanged: {exc}")

with history:
    st.dataframe([{"version": v.id, "in force": "*" if v.active else "", "policy": v.label, "author": v.author,
                   "reason": v.reason, "created": v.created} for v in store.history()], hide_index=True)
    versions = [v.id for v in store.history() if not v.active]
    if versions:
        back = st.selectbox("Roll back to version", versions)
        why = st.text_input("Why (recorded)", key="rollback-reason")
        if st.button("Roll back", disabled=not why.strip()):
            v = store.rollback(int(back), user.name, why)
            st.success(f"In force again: {v.label} (v{v.id})")
