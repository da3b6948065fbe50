"""Pivot translation: units, the store (resumable, keyed by content), the translator."""

from __future__ import annotations

from pathlib import Path

from assistant.fake_llm import Scripted, ScriptedChatModel
from assistant.llm import ChatClient, RetryPolicy
from assistant.translation import TranslationStore, Translator, pivot_units, unit_key

DA = "Forvaltningslaboratoriet blev oprettet i 2019.\n- Budgetloft på 400.000 kr.\n- ok"
EN = "The lab was set up in 2019 and still runs today."


def client(*replies: object) -> tuple[ChatClient, ScriptedChatModel]:
    model = ScriptedChatModel().enqueue(*replies)  # type: ignore[arg-type]
    return ChatClient(model, "scripted", RetryPolicy(retries=0), sleep=lambda s: None), model


def test_pivot_units_skip_english_and_undetermined_and_dedupe() -> None:
    units = pivot_units([("a.da.txt", DA, "da"), ("b.en.txt", EN, "en"), ("c.txt", DA, "und"),
                         ("d.da.txt", DA, "da")])
    assert units == [("Forvaltningslaboratoriet blev oprettet i 2019.", "da"), ("- Budgetloft på 400.000 kr.", "da")]


def test_key_ignores_whitespace_but_not_text() -> None:
    assert unit_key("a  b\nc") == unit_key("a b c") != unit_key("a b d")


def test_translate_stores_each_unit_and_resumes(tmp_path: Path) -> None:
    store = TranslationStore(tmp_path / "t.sqlite")
    units = pivot_units([("a.da.txt", DA, "da")])
    llm, model = client("The Administration Lab was set up in 2019.", ConnectionError("down"))
    report = Translator(llm, store).translate(units)
    assert (report.units, report.translated, report.failed, report.cached) == (2, 1, 1, 0)
    assert store.get_many([u for u, _ in units]) == {units[0][0]: "The Administration Lab was set up in 2019."}
    sent = model.received[0]
    assert sent[0].type == "system" and "Keep every name, number" in str(sent[0].content)
    assert sent[1].content == units[0][0]
    # a new run (a new process: a new store object) only does what is missing
    llm2, model2 = client("- Budget cap of DKK 400,000.")
    report2 = Translator(llm2, TranslationStore(tmp_path / "t.sqlite")).translate(units)
    assert (report2.cached, report2.translated, report2.failed) == (1, 1, 0) and len(model2.received) == 1
    assert store.count() == 2


def test_cut_or_overlong_translation_is_not_kept(tmp_path: Path) -> None:
    store = TranslationStore(tmp_path / "t.sqlite")
    llm, _ = client(Scripted("The lab was", finish=False))
    report = Translator(llm, store).translate([("Forvaltningslaboratoriet blev oprettet i 2019.", "da")])
    assert report.failed == 1 and store.count() == 0
