"""Chat (everyone): ask, watch the answer being made, open the cited passages, rate the answer.
Each user's conversations are kept in the audit record."""

from __future__ import annotations

import logging

import streamlit as st

from assistant.audit import Entry, new_conversation
from assistant.confidence import DecisionUnavailable
from assistant.events import STAGES, Events
from assistant.messages import message, notices
from guardrails.contracts import Answer
from guardrails.markdown import plain_html
from ui import render as show
from ui.services import services
from ui.session import require

user = require("chat")
svc = services()
audit = svc.audit


def render(answer: Answer) -> None:
    for notice in notices(answer):
        st.info(show.label(notice))
    if answer.status in ("blocked", "error"):
        st.warning(show.label(answer.answer))
    else:
        show.answer(answer.answer, answer.language, svc.link_domains())
    for c in answer.citations:
        where = f" › {c.section}" if c.section else ""
        with st.expander(show.label(f"[{c.n}] {c.title}{where}")):
            show.text(c.quote, c.language)
            st.caption(show.label(f"{c.source}, characters {c.start}-{c.end}"))
    if answer.status == "abstained" and answer.closest:
        st.caption(CLOSEST)
        for r in answer.closest:
            where = f" › {r.section}" if r.section else ""
            with st.expander(show.label(f"{r.title}{where}")):
                if r.quote is not None:
                    show.text(r.quote, r.language)
                    st.caption(show.label(f"{r.source}, characters {r.start}-{r.end}"))
                else:
                    st.caption(show.label(r.source))


CLOSEST = "Closest passages, not an answer: the guidance comes nearest to your question here."


def feedback(entry: Entry) -> None:
    if entry.rating:
        st.caption(f"Thank you: you rated this answer {'👍' if entry.rating == 'up' else '👎'}.")
        return
    with st.popover("Rate this answer"), st.form(f"rate-{entry.id}"):
        rating = st.radio("Was it useful?", ["👍 Yes", "👎 No"], horizontal=True, key=f"r-{entry.id}")
        comment = st.text_input("Comment (optional)", key=f"c-{entry.id}")
        expected = st.text_input("What should it have said? (optional)", key=f"e-{entry.id}")
        if st.form_submit_button("Send"):
            audit.rate(entry.id, user.name, "up" if rating.startswith("👍") else "down", comment, expected)
            st.rerun()


class Streamed(Events):
    """Released (checked) text only, shown as plain text until the whole answer is rendered."""

    def __init__(self, status: object, box: object, language: str = "en") -> None:
        self.status, self.box, self.pieces, self.language = status, box, "", language

    def stage(self, name: str) -> None:
        self.status.update(label=STAGES.get(name, name) + "...")  # type: ignore[attr-defined]

    def text(self, piece: str) -> None:
        self.pieces += piece
        self.box.html(f'<div class="waymark-text">{plain_html(self.pieces)}</div>')  # type: ignore[attr-defined]

    def retract(self, note: str | None) -> None:
        self.pieces = ""
        self.box.warning(show.label(note or message("retracted", self.language)))  # type: ignore[attr-defined]


conversation: str = st.session_state.setdefault("conversation", new_conversation())
with st.sidebar:
    if st.button("New conversation"):
        st.session_state["conversation"] = new_conversation()
        st.rerun()
    past = [c for c in audit.conversations(user.name) if c[0] != conversation]
    if past:
        st.caption("Your conversations")
        for conv, started, first in past[:10]:
            if st.button(show.label(f"{started[:10]} · {first}", 50), key=f"conv-{conv}"):
                st.session_state["conversation"] = conv
                st.rerun()

st.title("Ask Waymark")
history = list(reversed(audit.entries(user=user.name, conversation=conversation)))
for entry in history:
    with st.chat_message("user"):
        show.text(entry.answer.question, entry.answer.language)
    with st.chat_message("assistant"):
        render(entry.answer)
        feedback(entry)

NOT_RECORDED = ("Waymark cannot record answers at the moment, so it does not show them: every answer is kept "
                "in the audit record first. Please try again later; if it keeps happening, tell your administrator.")
question = st.chat_input("Ask about the guidance, in any language")
if question and not audit.writable():  # before any work: nothing is shown that cannot be recorded
    st.error(NOT_RECORDED)
    st.stop()
if question:
    with st.chat_message("user"):
        show.text(question)
    with st.chat_message("assistant"):
        status = st.status("Checking the question...", expanded=False)
        box = st.empty()
        pairs = [(e.answer.question, e.answer.answer) for e in history if e.answer.status == "answered"]
        try:
            pipeline = svc.pipeline
        except DecisionUnavailable as exc:  # a damaged install: say so, answer nothing
            st.error(show.label(f"Waymark cannot answer at the moment: {exc}. Please tell your administrator."))
            st.stop()
        answer = pipeline.answer(question, pairs, events=Streamed(status, box))
        status.update(label="Done", state="complete")
        box.empty()  # the whole answer is shown only from the record, after the rerun
    try:
        audit.record(answer, user.name, conversation)
    except Exception:
        logging.getLogger(__name__).exception("an answer could not be recorded (trace %s)", answer.trace_id)
        st.error(NOT_RECORDED)
        st.stop()
    st.rerun()
