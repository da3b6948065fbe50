"""Who is signed in, and what they may do: checked on every page and every action, server-side.

The session keeps only the signed-in name; every page run reads the user again from the store (one
indexed lookup), so a removed user is signed out and a changed role applies at the next click.
"""

from __future__ import annotations

import streamlit as st

from assistant.users import Page, User, UserError, allowed, oidc_user
from ui.render import label
from ui.services import services

SIGNED_IN = "signed_in"
NOTICE = "sign_in_notice"


def oidc_configured() -> bool:
    """An identity provider is set up for ``st.login`` (an ``[auth]`` section in Streamlit's secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def current_user() -> User | None:
    name = st.session_state.get(SIGNED_IN)
    if isinstance(name, str):
        user = services().users.get(name)
        if user is None:  # removed while signed in: out at once
            st.session_state.clear()
            st.session_state[NOTICE] = "You have been signed out: your account no longer exists."
        return user
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        try:
            return oidc_user(st.user.to_dict(), services().users)
        except UserError as exc:
            st.error(str(exc))
            st.stop()
    return None


def client_address() -> str:
    """The browser's address for sign-in throttling (behind your proxies: ``trusted_proxies``, docs/deploying.md)."""
    from assistant.signin import client_key

    try:
        peer, forwarded = st.context.ip_address, st.context.headers.get("X-Forwarded-For")
    except Exception:
        peer, forwarded = None, None
    return client_key(peer if isinstance(peer, str) else None, forwarded if isinstance(forwarded, str) else None,
                      services().settings.trusted_proxies)


def sign_in_form() -> None:
    st.title("Waymark")
    st.caption("Answers for civil servants from the guidance your department holds.")
    if notice := st.session_state.pop(NOTICE, None):
        st.warning(notice)
    if oidc_configured():
        st.button("Sign in with your organisation", on_click=st.login, type="primary")
        st.caption("Or with a local account:")
    with st.form("sign-in"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            result = services().sign_ins.sign_in(name, password, client_address())
            if result.user is None:
                st.error(result.message or "Sign-in failed.")
            else:
                st.session_state[SIGNED_IN] = result.user.name
                st.rerun()


def change_password_form(user: User) -> None:
    """A local user changes their own password (the old one first); weak ones are refused with the reason."""
    with st.expander("Change password"), st.form("change-password"):
        old = st.text_input("Current password", type="password")
        new = st.text_input("New password (12 characters or more)", type="password")
        again = st.text_input("New password again", type="password")
        if st.form_submit_button("Change password"):
            if new != again:
                st.error("The two new passwords differ.")
                return
            problem = services().sign_ins.change_password(user.name, old, new, client_address())
            if problem:
                st.error(label(problem))
            else:
                st.success("Password changed.")


def require(page: Page) -> User:
    """The signed-in user if their role may use ``page``; otherwise the page stops here."""
    user = current_user()
    if user is None or not allowed(user.role, page):
        st.error("You do not have access to this page.")
        st.stop()
    assert user is not None
    return user
