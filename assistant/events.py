"""What a caller (CLI, UI) hears while an answer is made. Light: no heavy imports here."""

from __future__ import annotations

STAGES = {
    "checking_question": "Checking the question",
    "rewriting": "Understanding the follow-up",
    "translating": "Reading the question in English",
    "searching": "Searching the guidance",
    "reading": "Finding the passages that answer",
    "writing": "Writing the answer",
    "checking_answer": "Checking the answer",
}


class Events:
    """Override what you need; the defaults ignore everything."""

    def stage(self, name: str) -> None:
        """One of ``STAGES``' keys, as the pipeline enters it."""

    def text(self, piece: str) -> None:
        """A piece of the answer that the policy's output rails have passed: append it to what is shown.
        Nothing else of the answer is ever sent here (``assistant.release``)."""

    def retract(self, message: str | None) -> None:
        """Withdraw every piece shown so far: the final check over the whole answer did not let it stand
        (``message`` says what to show instead, or None when the checked answer follows at once)."""
