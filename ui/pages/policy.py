"""Policy (AI champions): the policy in force and every version. Editing comes next."""

from __future__ import annotations

import streamlit as st

from ui.services import services
from ui.session import require

require("policy")
st.title("Guardrail policy")
store = services().policies
active = store.active()
if active is None:
    st.warning("No policy is in force.")
else:
    policy = active.policy()
    st.subheader(f"In force: {policy.label}")
    st.caption(f"Owner: {policy.owner} · activated by {active.author}: {active.reason}")
    st.code(active.content, language="yaml")
st.subheader("History")
st.table([{"version": v.id, "policy": v.label, "author": v.author, "reason": v.reason, "created": v.created}
          for v in store.history()])
