"""The Streamlit app under AppTest: sign-in, roles enforced on every page (navigation and the page
itself), and each page's main action. The chat's pipeline is the real one over a scripted searcher
and the scripted fake model; the knowledge base, policy store, audit record and eval runs are real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assistant.settings import Settings
from assistant.users import ACCESS, ROLES, UserStore
from ui import services as ui_services

UI = Path(__file__).resolve().parents[1] / "ui"
APP = str(UI / "app.py")
PASSWORD = "correct horse battery"
NAMES = {"civil_servant": "ada", "champion": "cham", "evaluator": "eve", "admin": "root"}


@pytest.fixture()
def svc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ui_services.Services]:
    from assistant.audit import AuditStore
    from assistant.service import policy_store
    from evals.history import RunStore
    from tests.test_pipeline import make

    settings = Settings(data_dir=tmp_path, llm="fake")
    users = UserStore(tmp_path / "users.sqlite")
    for role, name in NAMES.items():
        users.add(name, role, PASSWORD)
    from assistant.service import build_rails
    from knowledge.embeddings import E5Embedder

    rails = build_rails(settings, E5Embedder())  # the policy in force, as the app runs it
    pipeline, _, _ = make("The team was set up in 2016 [1].", "The team was set up in 2016 [1].", rails=rails,
                          strategy="cite")
    services = ui_services.Services(settings, users, policy_store(settings), AuditStore(tmp_path / "audit.sqlite"),
                                    RunStore(tmp_path / "evals.sqlite"), pipeline)
    monkeypatch.setattr(ui_services, "build", lambda: services)
    st.cache_resource.clear()
    yield services
    st.cache_resource.clear()


def signed_in(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input[0].input(name)
    at.text_input[1].input(PASSWORD)
    return at.button[0].click().run()


def page_as(svc: ui_services.Services, page: str, role: str | None) -> AppTest:
    at = AppTest.from_file(str(UI / "pages" / f"{page}.py"), default_timeout=120)
    at.session_state["user"] = svc.users.get(NAMES[role]) if role else None
    return at.run()


def texts(at: AppTest) -> str:
    return " ".join([*(t.value for t in at.title), *(m.value for m in at.markdown), *(e.value for e in at.error),
                     *(s.value for s in at.success), *(c.value for c in at.caption), *(w.value for w in at.warning)])


def test_a_wrong_password_is_refused(svc: ui_services.Services) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input("ada")
    at.text_input[1].input("not the password")
    at = at.button[0].click().run()
    assert "do not match" in texts(at) and "Ask Waymark" not in texts(at)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_reached_only_by_its_roles(svc: ui_services.Services, role: str) -> None:
    at = signed_in(NAMES[role])
    assert f"Signed in as **{NAMES[role]}**" in texts(at)
    for page, roles in ACCESS.items():
        if page == "chat" or role in roles:
            continue
        with pytest.raises(ValueError, match="Could not find a navigation page"):  # not even in the menu
            at.switch_page(f"pages/{page}.py")
        assert "You do not have access to this page." in texts(page_as(svc, page, role))  # nor by itself
    for page, roles in ACCESS.items():
        if role in roles:
            assert "You do not have access" not in texts(signed_in(NAMES[role]).switch_page(f"pages/{page}.py").run())
    assert "You do not have access to this page." in texts(page_as(svc, "chat", None))


def test_a_civil_servant_asks_reads_a_cited_answer_and_rates_it(svc: ui_services.Services) -> None:
    at = signed_in("ada")
    assert "Ask Waymark" in texts(at)
    at = at.chat_input[0].set_value("When was the Open Innovation Team set up? Mail jo@example.org").run()
    assert "The team was set up in 2016 [1]." in texts(at)
    assert [e.label for e in at.expander] == ["[1] Open Innovation Team › About"]
    [entry] = svc.audit.entries(user="ada")
    assert "jo@example.org" not in entry.answer.model_dump_json()  # the record holds the redacted question
    at.radio[0].set_value("👎 No")
    at.text_input(key=f"c-{entry.id}").input("Wrong year")
    at = next(b for b in at.button if b.label == "Send").click().run()
    [entry] = svc.audit.entries(user="ada")
    assert entry.rating == "down" and entry.comment == "Wrong year" and "you rated this answer 👎" in texts(at)
    at = next(b for b in at.button if b.label == "New conversation").click().run()
    assert "The team was set up" not in texts(at) and len(svc.audit.conversations("ada")) == 1
    assert svc.audit.conversations("ada")[0][2].startswith("When was the Open Innovation Team set up? Mail [EMAIL]")


def test_a_champion_edits_validates_tries_and_activates_a_policy(svc: ui_services.Services) -> None:
    at = signed_in("cham").switch_page("pages/policy.py").run()
    editor = next(t for t in at.text_area if t.label == "Draft policy (YAML)")
    good = editor.value.replace("gate: [rules, smoke]\n", "")
    at = editor.set_value(good.replace("input:", "inputs:", 1)).run()
    assert "inputs" in texts(at) and "Extra inputs are not permitted" in texts(at)  # the error, with its field
    editor = next(t for t in at.text_area if t.label == "Draft policy (YAML)")
    at = editor.set_value(good).run()
    assert "Valid: default@1#" in texts(at)
    terms = next(t for t in at.text_area if t.label.startswith("Banned topics"))
    terms.set_value("lobby*")
    at = next(b for b in at.button if b.label == "Apply to the draft").click().run()
    assert "lobby*" in at.session_state["draft"]
    at.text_input(key="drive-q").input("Can you help me with lobbying?")
    at = next(b for b in at.button if b.label == "Answer under the draft").click().run()
    assert "**blocked**" in texts(at)
    at = at.text_input(key="reason").input("ban lobbying questions").run()  # the button waits for a reason
    at = next(b for b in at.button if b.label == "Activate").click().run()
    assert "(v2)" in " ".join(x.value for x in at.success)
    active = svc.policies.active()
    assert active is not None and "lobby*" in active.content and active.reason == "ban lobbying questions"


def test_an_evaluator_runs_the_smoke_suite_and_sees_its_trend(svc: ui_services.Services) -> None:
    at = signed_in("eve").switch_page("pages/evaluations.py").run()
    at = next(b for b in at.button if b.label == "Run").click().run()
    assert "smoke: run 1 stored" in texts(at)
    assert at.get("vega_lite_chart") and "band: its 95% interval" in texts(at)
    assert "Failing cases in run 1 (4)" in " ".join(s.value for s in at.subheader)


def test_an_admin_reads_the_audit_and_exports_it(svc: ui_services.Services) -> None:
    from tests.test_pipeline import make

    for q in ("When was the team set up?", "When was it set up again?"):
        svc.audit.record(make("The team was set up in 2016 [1].", strategy="cite")[0].answer(q), "ada", "c1")
    at = signed_in("root").switch_page("pages/audit.py").run()
    assert "2 answers" in texts(at)
    assert any(d.label == "Export as CSV" for d in at.get("download_button"))


def test_a_champion_lists_and_removes_documents(svc: ui_services.Services) -> None:
    corpus = Path(__file__).resolve().parents[1] / "evals" / "suites" / "smoke_corpus"
    svc.kb.ingestor.ingest([corpus])
    at = signed_in("cham").switch_page("pages/knowledge.py").run()
    assert "Documents (2)" in " ".join(s.value for s in at.subheader)
    at.multiselect[0].set_value(["champions.en.md"])
    at = next(b for b in at.button if b.label == "Remove the selected documents").click().run()
    assert "Documents (1)" in " ".join(s.value for s in at.subheader)
