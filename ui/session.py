"""Who is signed in, and what they may do: checked on every page and every action, server-side."""

from __future__ import annotations

import streamlit as st

from assistant.users import Page, User, allowed
from ui.services import services


def oidc_configured() -> bool:
    """An identity provider is set up for ``st.login`` (an ``[auth]`` section in Streamlit's secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def current_user() -> User | None:
    user = st.session_state.get("user")
    if isinstance(user, User):
        return user
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        # signed in with the organisation: the role is the one given to that e-mail address in the user
        # store, else the least one
        email = str(getattr(st.user, "email", "") or "")
        known = services().users.get(email) if email else None
        user = known or User(email or "unknown", "civil_servant", "")
        st.session_state["user"] = user
        return user
    return None


def sign_in_form() -> None:
    st.title("Waymark")
    st.caption("Answers for civil servants from the guidance your department holds.")
    if oidc_configured():
        st.button("Sign in with your organisation", on_click=st.login, type="primary")
        st.caption("Or with a local account:")
    with st.form("sign-in"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            user = services().users.verify(name.strip(), password)
            if user is None:
                st.error("That user name and password do not match.")
            else:
                st.session_state["user"] = user
                st.rerun()


def require(page: Page) -> User:
    """The signed-in user if their role may use ``page``; otherwise the page stops here."""
    user = current_user()
    if user is None or not allowed(user.role, page):
        st.error("You do not have access to this page.")
        st.stop()
    assert user is not None
    return user
