"""Showing untrusted text (from users, documents or a model) in the app: always as text, never as
markdown or HTML. Only an answer's body is rendered as markup, and then from its parsed form
(``guardrails.markdown.safe_html``: no images, links only to the policy's allowed hosts).

- ``label(text)``: for widget labels, captions and titles, which Streamlit reads as markdown: every
  markdown character escaped, line breaks flattened;
- ``text(text, language)``: a block of plain text (line breaks kept), right-to-left where the language is;
- ``answer(text, language, allowed)``: an answer body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

from guardrails.markdown import plain_html, safe_html

RTL = frozenset({"he", "ar", "fa", "ur", "yi"})
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def label(value: object, limit: int | None = None) -> str:
    """``value`` as markdown that shows exactly its characters (on one line, at most ``limit`` of them)."""
    s = " ".join(str(value).split())
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return _PUNCT.sub(r"\\\1", s)


def _block(body: str, language: str | None) -> None:
    direction = "rtl" if language in RTL else "ltr"
    st.html(f'<div dir="{direction}" class="waymark-text">{body}</div>')


def text(value: str, language: str | None = None) -> None:
    _block(plain_html(value), language)


def answer(value: str, language: str | None = None, allowed: Sequence[str] = ()) -> None:
    _block(safe_html(value, allowed), language)
