"""Audit (admins): recent answers with who asked, when, the policy, the rail decisions, the sources
and the rating. Questions are as recorded, with personal data already redacted."""

from __future__ import annotations

import streamlit as st

from ui.services import services
from ui.session import require

require("audit")
audit = services().audit
st.title("Audit")
c1, c2, c3 = st.columns(3)
who = c1.text_input("User")
status = c2.selectbox("Status", ["any", "answered", "abstained", "blocked", "error"])
rating = c3.selectbox("Rating", ["any", "up", "down"])
entries = audit.entries(user=who.strip() or None, status=None if status == "any" else status,
                        rating=None if rating == "any" else rating)  # type: ignore[arg-type]
st.caption(f"{len(entries)} answers (newest first, at most 200)")
st.dataframe([{"id": e.id, "at": e.at, "user": e.user, "status": e.answer.status, "policy": e.answer.policy_version,
               "question": e.answer.question, "sources": ", ".join(sorted({c.source for c in e.answer.citations})),
               "rails": ", ".join(f"{g.rail}:{g.action}" for g in e.answer.guardrails if g.verdict != "pass"),
               "rating": e.rating or ""} for e in entries], hide_index=True, width="stretch")
st.download_button("Export as CSV", audit.csv(entries), "waymark-audit.csv", "text/csv")
for e in entries[:50]:
    with st.expander(f"#{e.id} {e.at} {e.user}: {e.answer.question[:80]}"):
        st.write(f"**{e.answer.status}**: {e.answer.answer}")
        for g in e.answer.guardrails:
            st.caption(f"{g.stage} · {g.rail}: {g.verdict}{' → ' + g.action if g.action else ''} {g.detail}")
        if e.comment:
            st.caption(f"Comment: {e.comment}")
