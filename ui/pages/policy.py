"""Policy studio (AI champions): edit a draft (form or YAML, validated as you type), compare it with
the policy in force, try it on questions (recorded in the audit as test drives), run the gate, activate
it with a reason; history and rollback. The draft is saved to the data folder as it changes, with the
version in force it was started from, so nothing is lost and a draft overtaken by another activation is
never put in force unnoticed. Activation and rollback both go through ``evals.activation``."""

from __future__ import annotations

import difflib

import streamlit as st

from evals.activation import Request
from evals.gate import GateResult, gate_suites
from guardrails.editing import MESSAGE_KEYS, CommonFields, apply, common_fields
from guardrails.policy import Policy, PolicyError
from guardrails.untrusted_yaml import MAX_CHARS
from ui import render as show
from ui.services import services
from ui.session import require

user = require("policy")
svc = services()
store = svc.policies
active = store.active()
in_force = active.id if active else None
draft_file = svc.settings.data_dir / "drafts" / f"{user.name}.yaml"
base_file = draft_file.with_suffix(".base")
"""The version in force when the draft was started (or rebased): activation is refused if it moved."""


def read_base() -> int | None:
    try:
        text = base_file.read_text(encoding="utf-8").strip()
    except OSError:
        return in_force if not draft_file.is_file() else None
    return int(text) if text.isdigit() else None


def save_base(version: int | None) -> None:
    base_file.parent.mkdir(parents=True, exist_ok=True)
    base_file.write_text("" if version is None else str(version), encoding="utf-8")


if "draft" not in st.session_state:
    st.session_state["draft"] = (draft_file.read_text(encoding="utf-8") if draft_file.is_file()
                                 else active.content if active else "")
    if not base_file.is_file():
        save_base(read_base())


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
    st.caption(show.label(f"In force: {active.label} (v{active.id}), activated by {active.author}: {active.reason}"))
draft_text: str = st.session_state["draft"]
draft, problem = parse(draft_text)
based_on = read_base()
if based_on != in_force:
    st.warning(show.label(
        f"The policy in force changed since this draft was started (from {f'v{based_on}' if based_on else 'none'} "
        f"to {f'v{in_force}' if in_force else 'none'}). Review the Changes tab, then rebase the draft on the policy "
        "in force; it cannot be activated before."))
    if st.button("Rebase my draft on the policy in force"):
        save_base(in_force)
        st.session_state.pop("gate", None)
        st.rerun()
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
                    st.error(show.label(f"Not applied: {exc}"))

with raw:
    st.text_area("Draft policy (YAML)", height=480, key="yaml-editor", max_chars=MAX_CHARS)
    if problem:
        st.error(show.label(problem))
    else:
        st.success(show.label(f"Valid: {draft.label if draft else ''}"))
    if active and st.button("Start again from the policy in force"):
        save(active.content)
        save_base(active.id)
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
        st.caption("Test-drive answers are kept in the audit record, marked with the draft's digest.")
        if st.button("Answer under the draft") and asked.strip():
            answer = svc.pipeline_for(draft).answer(asked)
            svc.audit.record(answer, user.name, "test-drive", test_drive=draft.digest)
            st.markdown(f"**{answer.status}**")
            show.text(answer.answer, answer.language)
            st.dataframe([{"rail": g.rail, "stage": g.stage, "verdict": g.verdict, "action": g.action or "",
                           "detail": g.detail} for g in answer.guardrails], hide_index=True)


def required_override(target: Policy, key: str) -> str | None:
    """The admin's reason for dropping required rails, when ``target`` drops any (None otherwise)."""
    missing = target.missing_rails(svc.settings.required_rails)
    if not missing:
        return None
    st.warning(show.label(f"This drops or stops enforcing required rails: {', '.join(missing)}. Only an admin "
                          "can put it in force, with a reason that is recorded."))
    if user.role != "admin":
        return None
    return st.text_input("Admin override: why these rails may go (recorded)", key=key)


def put_in_force(action: str, run: object, rebase: bool) -> None:
    from evals.activation import StaleDraft

    try:
        v = run()  # type: ignore[operator]
    except StaleDraft as exc:
        st.error(show.label(f"Not {action}; your draft is kept: {exc}"))
    except (PolicyError, ValueError, FileNotFoundError) as exc:
        st.error(show.label(f"Not {action}; the policy in force is unchanged: {exc}"))
    else:
        if rebase:  # the draft is what is in force now
            save_base(v.id)
        st.session_state.pop("gate", None)
        st.success(show.label(f"In force: {v.label} (v{v.id})"))


with go:
    if draft is None:
        st.warning("Fix the draft's errors first.")
    else:
        suites = gate_suites(svc.settings, draft)
        st.write(show.label(f"Gate suites: {', '.join(suites)} (the admin's minimum and the draft's own)"))
        if st.button("Run the gate"):
            from evals.gate import policy_gate

            with st.spinner("Running the gate suites under the policy in force and under the draft..."):
                try:
                    st.session_state["gate"] = policy_gate(svc.settings, draft, active)
                except (ValueError, FileNotFoundError) as exc:
                    st.error(show.label(f"The gate could not run: {exc}"))
        gate: GateResult | None = st.session_state.get("gate")
        result = gate if gate is not None and gate.valid_for(draft.digest, in_force) else None
        if gate is not None and result is None:
            st.info("The last gate result was for another draft or another policy in force: run the gate again.")
        if result is not None:
            (st.error if result.regressed else st.success)(show.label(result.summary()))
        reason = st.text_input("Why (recorded with the activation)", key="reason")
        override = st.checkbox("Activate even if the gate regressed (the reason is recorded)")
        dropped = required_override(draft, "required-override")
        if st.button("Activate", type="primary", disabled=not reason.strip()):
            if result is None:
                st.error("Run the gate for this draft first.")
            else:
                from evals.activation import activate

                request = Request(user.name, reason, based_on, override, dropped, user.role == "admin")
                put_in_force("activated", lambda: activate(svc.settings, store, draft_text, request, "policy studio",
                                                           check=svc.pipeline_for, gate=result), rebase=True)

with history:
    st.dataframe([{"version": v.id, "in force": "*" if v.active else "", "policy": v.label, "author": v.author,
                   "reason": v.reason, "created": v.created} for v in store.history()], hide_index=True)
    versions = [v.id for v in store.history() if not v.active]
    if versions:
        back = int(st.selectbox("Roll back to version", versions) or versions[0])
        why = st.text_input("Why (recorded)", key="rollback-reason")
        st.caption("A rollback runs the same gate as an activation, against the policy in force.")
        target = store.get(back).policy()
        dropped_back = required_override(target, "rollback-override")
        override_back = st.checkbox("Roll back even if the gate regresses (the reason is recorded)",
                                    key="rollback-gate-override")
        if st.button("Roll back", disabled=not why.strip()):
            from evals.activation import rollback

            request = Request(user.name, why, in_force, override_back, dropped_back, user.role == "admin")
            with st.spinner("Running the gate for the rollback..."):
                put_in_force("rolled back", lambda: rollback(svc.settings, store, back, request,
                                                             check=svc.pipeline_for), rebase=False)
