"""Chat: ask, watch the answer being made, read the cited passages."""

from __future__ import annotations

from html import escape

import streamlit as st

from assistant.answer import Answer
from assistant.events import STAGES, Events
from assistant.messages import notices
from ui.services import services
from ui.session import require

user = require("chat")
RTL = {"he", "ar", "fa", "ur", "yi"}


def show(text: str, language: str) -> None:
    direction = "rtl" if language in RTL else "ltr"
    st.markdown(f'<div dir="{direction}">{escape(text)}</div>', unsafe_allow_html=True)


def render(answer: Answer) -> None:
    for notice in notices(answer):
        st.info(notice)
    if answer.status in ("blocked", "error"):
        st.warning(answer.answer)
    else:
        show(answer.answer, answer.language)
    for c in answer.citations:
        where = f" › {c.section}" if c.section else ""
        with st.expander(f"[{c.n}] {c.title}{where}"):
            show(c.quote, c.language)
            st.caption(f"{c.source}, characters {c.start}-{c.end}")


class Streamed(Events):
    def __init__(self, status: object, box: object) -> None:
        self.status, self.box, self.pieces = status, box, ""

    def stage(self, name: str) -> None:
        self.status.update(label=STAGES.get(name, name) + "...")  # type: ignore[attr-defined]

    def text(self, piece: str) -> None:
        self.pieces += piece
        self.box.markdown(escape(self.pieces))  # type: ignore[attr-defined]


st.title("Ask Waymark")
history: list[Answer] = st.session_state.setdefault("answers", [])
for past in history:
    with st.chat_message("user"):
        show(past.question, past.language)
    with st.chat_message("assistant"):
        render(past)

question = st.chat_input("Ask about the guidance, in any language")
if question:
    with st.chat_message("user"):
        st.markdown(escape(question))
    with st.chat_message("assistant"):
        status = st.status("Checking the question...", expanded=False)
        box = st.empty()
        pairs = [(a.question, a.answer) for a in history if a.status == "answered"]
        answer = services().pipeline.answer(question, pairs, events=Streamed(status, box))
        status.update(label="Done", state="complete")
        box.empty()
        render(answer)
    history.append(answer)
