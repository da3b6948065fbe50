"""Audit (admins): recent answers with who asked, when, the policy, the rail decisions, the sources
and the rating; test-drive answers from the policy studio on request. Questions are as recorded, with
personal data already redacted. Everything here came from users, documents or a model: shown as text."""

from __future__ import annotations

import streamlit as st

from ui import render as show
from ui.services import services
from ui.session import require

require("audit")
audit = services().audit
st.title("Audit")
c1, c2, c3, c4 = st.columns(4)
who = c1.text_input("User")
status = c2.selectbox("Status", ["any", "answered", "abstained", "blocked", "error"])
rating = c3.selectbox("Rating", ["any", "up", "down"])
drives = c4.checkbox("Include test drives")
entries = audit.entries(user=who.strip() or None, status=None if status == "any" else status,
                        rating=None if rating == "any" else rating, test_drives=drives)  # type: ignore[arg-type]
st.caption(f"{len(entries)} answers (newest first, at most 200)")
st.dataframe([{"id": e.id, "at": e.at, "user": e.user, "status": e.answer.status, "policy": e.answer.policy_version,
               "question": e.answer.question, "sources": ", ".join(sorted({c.source for c in e.answer.citations})),
               "rails": ", ".join(f"{g.rail}:{g.action}" for g in e.answer.guardrails if g.verdict != "pass"),
               "rating": e.rating or "", "test drive": (e.test_drive or "")[:12]} for e in entries],
             hide_index=True, width="stretch")
st.download_button("Export as CSV", audit.csv(entries), "waymark-audit.csv", "text/csv")
for e in entries[:50]:
    drive = f" [test drive of draft {e.test_drive[:12]}]" if e.test_drive else ""
    with st.expander(show.label(f"#{e.id} {e.at} {e.user}{drive}: {e.answer.question}", 120)):
        st.markdown(f"**{show.label(e.answer.status)}**")
        show.text(e.answer.answer, e.answer.language)
        for g in e.answer.guardrails:
            st.caption(show.label(f"{g.stage} · {g.rail}: {g.verdict}{' → ' + g.action if g.action else ''} "
                                  f"{g.detail}"))
        if e.comment:
            st.caption("Comment:")
            show.text(e.comment)
        if e.expected:
            st.caption("What it should have said:")
            show.text(e.expected)

st.subheader("Sign-in attempts")
attempts = services().sign_ins.recent()
st.caption(f"{len(attempts)} attempts (newest first, at most 200). Never a password; a name that is no account "
           "is kept only as a digest (`unknown:`), since people type passwords into the name field.")
st.dataframe([{"at": a.at, "account": a.account, "client": a.client, "outcome": a.outcome} for a in attempts],
             hide_index=True, width="stretch")
