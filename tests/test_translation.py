"""Pivot translation: units, the store (resumable, keyed by content), the translator."""

from __future__ import annotations

from pathlib import Path

from assistant.fake_llm import Scripted, ScriptedChatModel
from assistant.llm import ChatClient, RetryPolicy
from assistant.translation import TranslationStore, Translator, index_translations, pivot_units, unit_key

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
    llm, model = client("The Administration Lab was set up in 2019.", ConnectionError("down"), ConnectionError("down"))
    report = Translator(llm, store).translate(units)  # the second unit fails, is tried once more, fails again
    assert (report.units, report.translated, report.failed, report.cached) == (2, 1, 1, 0)
    assert store.get_many([u for u, _ in units]) == {units[0][0]: "The Administration Lab was set up in 2019."}
    sent = model.received[0]
    assert sent[0].type == "system" and "Keep every name, number" in str(sent[0].content)
    assert sent[1].content == units[0][0]
    # a new run (a new process: a new store object) only does what is missing
    llm2, model2 = client("- Budget cap of DKK 400,000.")
    report2 = Translator(llm2, TranslationStore(tmp_path / "t.sqlite")).translate(units)
    assert (report2.cached, report2.translated, report2.failed) == (1, 1, 0) and len(model2.received) == 1
    assert store.count() == 2 and store.failures() == []  # translated at last: no longer listed as failed


def test_cut_or_overlong_translation_is_not_kept(tmp_path: Path) -> None:
    store = TranslationStore(tmp_path / "t.sqlite")
    llm, _ = client(Scripted("The lab was", finish=False))
    report = Translator(llm, store).translate([("Forvaltningslaboratoriet blev oprettet i 2019.", "da")])
    assert report.failed == 1 and store.count() == 0


def test_translations_are_indexed_for_search_and_go_with_their_document(tmp_path: Path) -> None:
    from assistant.quotes import text_units
    from knowledge.base import KnowledgeBase

    docs = tmp_path / "docs"
    docs.mkdir()
    da = ("Forvaltningslaboratoriet\n\nForvaltningslaboratoriet blev oprettet i 2019 af ministeriet.\n\n"
          "Hvert eksperiment havde et budgetloft på 400.000 kr. og varede højst 90 dage.\n")
    (docs / "lab.da.txt").write_text(da, encoding="utf-8")
    (docs / "garden.en.txt").write_text("Gardening\n\nTomatoes need sun and water every day in summer.\n",
                                        encoding="utf-8")
    kb = KnowledgeBase.open(tmp_path / "data")
    assert kb.ingestor.ingest([docs]).ok
    store = TranslationStore(tmp_path / "data" / "translations.sqlite")
    english = {"Hvert eksperiment havde et budgetloft på 400.000 kr. og varede højst 90 dage.":
               "Each experiment had a budget cap of DKK 400,000 and lasted at most 90 days."}
    chunk_texts = [t for _i, t, m, _e in kb.store.iter_chunks() if m["language"] == "da"]
    assert any(text[s:e] in english for text in chunk_texts for s, e in text_units(text))
    for da_text, en_text in english.items():
        store.put(da_text, en_text, "da", "test", 0.1)

    question = "What was the budget cap for each experiment?"
    before = {h.chunk_id: h.similarity for h in kb.retriever.search(question, k=5)}
    assert index_translations(kb.store, kb.embedder, store) == 1
    embedded: list[list[str]] = []
    embed = kb.embedder.passages
    kb.embedder.passages = lambda texts: embedded.append(texts) or embed(texts)  # type: ignore[method-assign]
    assert index_translations(kb.store, kb.embedder, store) == 1 and embedded == []  # unchanged: not embedded again
    kb.embedder.passages = embed  # type: ignore[method-assign]
    after = kb.retriever.search(question, k=5)
    assert after[0].source == "lab.da.txt" and after[0].language == "da"
    assert after[0].similarity > before[after[0].chunk_id]  # the English translation matched better
    assert kb.store.pivot.count() == 1

    kb.store.remove("lab.da.txt")
    assert kb.store.pivot.count() == 0


def test_a_unit_that_fails_is_retried_once_then_kept_as_failed_with_its_reason(tmp_path: Path) -> None:
    from assistant.translation import failed_units

    store = TranslationStore(tmp_path / "t.sqlite")
    units = pivot_units([("a.da.txt", DA, "da")])
    llm, model = client(Scripted("The lab was", finish=False), "The Administration Lab was set up in 2019.",
                        ConnectionError("down"), ConnectionError("down"))
    report = Translator(llm, store).translate(units)
    assert (report.translated, report.failed) == (1, 1) and len(model.received) == 4  # each unit tried twice at most
    assert [(f.text, f.language) for f in report.errors] == [(units[1][0], "da")]
    assert "the model failed" in report.errors[0].reason
    kept = failed_units(store, [("a.da.txt", DA, "da"), ("b.da.txt", DA, "da")])
    assert [(f.text, docs, f.attempts) for f, docs in kept] == [(units[1][0], ["a.da.txt", "b.da.txt"], 1)]
    assert failed_units(store, [("other.da.txt", "Noget helt andet her.", "da")]) == []  # removed documents drop
    llm2, _ = client(ConnectionError("down"), Scripted("", finish=True))
    assert Translator(llm2, store).translate(units).failed == 1
    assert store.failures()[0].attempts == 2 and "nothing" in store.failures()[0].reason


def test_the_translate_command_names_a_failed_line_skips_it_and_exits_0(tmp_path: Path) -> None:
    """The review's fault: one untranslatable line made `waymark translate` exit 1 ("1 failed") without
    naming it, and `make run` stopped there. Now: named (document, line, reason), skipped, exit 0 with a
    warning, and the next run tries it again."""
    import os
    import subprocess

    from tests.fakes import waymark_cmd
    from tests.openai_stub import OpenAIStub, Status, Stream

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lab.da.txt").write_text("Forvaltningslaboratoriet\n\n" + DA + "\n", encoding="utf-8")
    data = tmp_path / "data"
    env = {**os.environ, "WAYMARK_TRANSLATE": "false"}
    ingest = subprocess.run([*waymark_cmd(), "--data-dir", str(data), "ingest", str(docs)], capture_output=True,
                            text=True, timeout=170, env=env)
    assert ingest.returncode == 0, ingest.stderr
    units = pivot_units([("lab.da.txt", "Forvaltningslaboratoriet\n\n" + DA, "da")])
    bad = next(i for i, (text, _) in enumerate(units) if "Budgetloft" in text)
    with OpenAIStub() as stub:
        stub.enqueue(*[Status(500) if i == bad else Stream(f"English {i}.") for i in range(len(units))
                       for _ in ((0, 1) if i == bad else (0,))])
        env.update({"WAYMARK_LLM": "openai", "WAYMARK_LLM_API_KEY": "k", "WAYMARK_LLM_MODEL": "stub-model",
                    "WAYMARK_LLM_RETRIES": "0", "WAYMARK_LLM_BASE_URL": stub.base_url})
        first = subprocess.run([*waymark_cmd(), "--data-dir", str(data), "translate"], capture_output=True,
                               text=True, timeout=170, env=env)
        assert first.returncode == 0, first.stderr
        assert f"{len(units) - 1} translated now, 1 failed" in first.stdout
        assert 'not translated: lab.da.txt, line "- Budgetloft på 400.000 kr.": the model failed' in first.stderr
        assert "Warning: 1 passages were skipped" in first.stderr and "Traceback" not in first.stderr
        stub.enqueue(Stream("- Budget cap of DKK 400,000."))
        again = subprocess.run([*waymark_cmd(), "--data-dir", str(data), "translate"], capture_output=True,
                               text=True, timeout=170, env=env)
    assert again.returncode == 0 and "1 translated now, 0 failed" in again.stdout and "Warning" not in again.stderr
    assert TranslationStore(data / "translations.sqlite").failures() == []
