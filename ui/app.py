"""Waymark's app: ``streamlit run ui/app.py``. Sign in, then the pages your role may use."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.data_dir import store_failure
from assistant.users import Page, allowed
from ui.render import label
from ui.services import services
from ui.session import SIGNED_IN, change_password_form, current_user, oidc_configured, sign_in_form

st.set_option("client.showErrorDetails", "none")  # also in .streamlit/config.toml: no traceback reaches a browser
# the icon is served by the app itself: a ":material/...:" page icon makes every browser fetch it from
# Google's font CDN, and an intranet app sends no request outside its own origin (tests/test_e2e_browser.py)
st.set_page_config(page_title="Waymark", page_icon=str(Path(__file__).parent / "static" / "waymark-icon.png"),
                   layout="wide")

PAGES: dict[Page, st.Page] = {
    "chat": st.Page("pages/chat.py", title="Chat", icon=":material/chat:", url_path="chat", default=True),
    "knowledge": st.Page("pages/knowledge.py", title="Knowledge", icon=":material/library_books:",
                         url_path="knowledge"),
    "policy": st.Page("pages/policy.py", title="Policy studio", icon=":material/shield:", url_path="policy"),
    "evaluations": st.Page("pages/evaluations.py", title="Evaluations", icon=":material/monitoring:",
                           url_path="evaluations"),
    "audit": st.Page("pages/audit.py", title="Audit", icon=":material/fact_check:", url_path="audit"),
}

try:
    demo = services().users.demo_accounts()  # the stores open here: a full disk or a damaged file stops us
except Exception as exc:
    problem = store_failure(exc)
    if problem is None:
        raise
    st.error(label(f"Waymark cannot start: {problem}."))
    st.stop()
if demo and services().settings.production:
    st.error("Waymark will not start in production (WAYMARK_PRODUCTION) while demo accounts exist: "
             "remove them with `waymark users demo --remove`.")
    st.stop()
user = current_user()
if user is None:
    sign_in_form()
    st.stop()
assert user is not None
with st.sidebar:
    st.write(f"Signed in as **{label(user.shown)}** ({user.role.replace('_', ' ')})")
    if demo and user.role == "admin":
        st.warning(f"Demo accounts are active ({len(demo)}): anyone who saw `make run`'s output can sign in "
                   "with them. Remove them with `waymark users demo --remove` before real use.")
    if st.session_state.get(SIGNED_IN):
        change_password_form(user)
    if st.button("Sign out"):
        st.session_state.clear()
        if oidc_configured() and getattr(st.user, "is_logged_in", False):
            st.logout()
        st.rerun()
# only the pages the role may use exist for this session: another page's URL leads to the default
st.navigation([p for name, p in PAGES.items() if allowed(user.role, name)]).run()
