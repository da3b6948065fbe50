"""The Streamlit app under AppTest: sign-in, roles enforced on every page (navigation and the page
itself), and each page's main action. The chat's pipeline is the real one over a scripted searcher
and the scripted fake model; the knowledge base, policy store, audit record and eval runs are real."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assistant.settings import Settings
from assistant.users import ACCESS, ROLES, UserStore
from guardrails.policy import Policy
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
    from tests.fakes import make

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
    if role:
        at.session_state["signed_in"] = NAMES[role]
    return at.run()


def plain(markdown: str) -> str:
    """What a label shows: the app escapes every markdown character of untrusted text."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def shown_html(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def texts(at: AppTest) -> str:
    """Everything a page shows as text (labels unescaped, HTML blocks as their text)."""
    blocks = [html.unescape(re.sub(r"<[^>]+>", " ", body)) for body in shown_html(at)]
    return " ".join([*(t.value for t in at.title), *(plain(m.value) for m in at.markdown),
                     *(plain(e.value) for e in at.error), *(plain(s.value) for s in at.success),
                     *(plain(c.value) for c in at.caption), *(plain(w.value) for w in at.warning),
                     *(plain(i.value) for i in at.info), *blocks])


def test_a_wrong_password_is_refused(svc: ui_services.Services) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input("ada")
    at.text_input[1].input("not the password")
    at = at.button[0].click().run()
    assert "do not match" in texts(at) and "Ask Waymark" not in texts(at)


def test_a_removed_user_is_signed_out_and_a_demoted_one_loses_pages_at_the_next_click(
        svc: ui_services.Services) -> None:
    """The review's attack: the session used to keep the User it signed in with until the tab closed."""
    at = signed_in("cham").switch_page("pages/policy.py").run()
    assert "You do not have access" not in texts(at)
    svc.users.set_role("cham", "civil_servant")  # demoted by an admin, from another session or the CLI
    at = at.run()
    assert "You do not have access to this page." in texts(at)
    at = signed_in("eve").switch_page("pages/evaluations.py").run()
    svc.users.remove("eve")
    at = at.run()
    assert "You do not have access to this page." in texts(at)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["signed_in"] = "eve"
    at = at.run()
    assert "your account no longer exists" in texts(at) and "Sign in" in [b.label for b in at.button]


def test_repeated_wrong_passwords_are_throttled_and_recorded_for_admins(svc: ui_services.Services) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    for _ in range(6):
        at.text_input[0].input("root")
        at.text_input[1].input("a wrong password")
        at = at.button[0].click().run()
    assert "Too many failed sign-ins. Try again in" in texts(at)
    at.text_input[0].input("root")
    at.text_input[1].input(PASSWORD)
    at = at.button[0].click().run()
    assert "Too many failed sign-ins" in texts(at) and "Signed in as" not in texts(at)  # right, but too soon
    attempts = svc.sign_ins.recent()
    assert [a.outcome for a in attempts].count("failed") == 5 and attempts[0].outcome == "throttled"
    audit = page_as(svc, "audit", "admin")
    table = next(d for d in audit.dataframe if "outcome" in d.value.columns)
    assert list(table.value["outcome"]).count("throttled") == 2 and "a wrong password" not in texts(audit)


def test_demo_accounts_show_a_banner_to_admins_and_stop_a_production_start(svc: ui_services.Services) -> None:
    assert "Demo accounts are active" not in texts(signed_in("root"))
    svc.users.add("demo-admin", "admin")
    assert "Demo accounts are active (1)" in texts(signed_in("root"))
    assert "Demo accounts are active" not in texts(signed_in("ada"))  # admins are the ones who can act
    svc.settings = svc.settings.model_copy(update={"production": True})
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "will not start in production" in texts(at) and not at.text_input  # no sign-in form at all


def test_a_user_changes_their_own_password(svc: ui_services.Services) -> None:
    """The sidebar's form, run on its own (AppTest drops the app's sidebar on a second run)."""
    def script() -> None:
        from assistant.users import User
        from ui.session import change_password_form

        change_password_form(User("ada", "civil_servant", ""))

    def submit(at: AppTest, old: str, new: str, again: str) -> AppTest:
        fields = {t.label: t for t in at.text_input}
        fields["Current password"].input(old)
        fields["New password (12 characters or more)"].input(new)
        fields["New password again"].input(again)
        return button(at, "Change password")

    at = AppTest.from_function(script, default_timeout=60).run()
    at = submit(at, PASSWORD, "password1234", "password1234")
    assert "common passwords" in texts(at) and svc.users.verify("ada", PASSWORD)
    at = submit(at, "not it at all", "staple gun lighthouse", "staple gun lighthouse")
    assert "current password is not right" in texts(at) and svc.users.verify("ada", PASSWORD)
    at = submit(at, PASSWORD, "staple gun lighthouse", "staple gun lighthouze")
    assert "differ" in texts(at)
    at = submit(at, PASSWORD, "staple gun lighthouse", "staple gun lighthouse")
    assert "Password changed." in texts(at) and svc.users.verify("ada", "staple gun lighthouse")
    for _ in range(6):  # guessing the current password is throttled as sign-in is (5 free, then a wait)
        at = submit(at, "a wrong guess", "another fine passphrase", "another fine passphrase")
    assert "Too many failed sign-ins" in texts(at)
    at = submit(at, "staple gun lighthouse", "another fine passphrase", "another fine passphrase")
    assert "Too many failed sign-ins" in texts(at) and svc.users.verify("ada", "staple gun lighthouse")


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
    assert [plain(e.label) for e in at.expander] == ["[1] Open Innovation Team › About"]
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


def test_an_abstention_shows_the_closest_passages_labelled_as_not_an_answer(svc: ui_services.Services) -> None:
    from assistant.prompts import NOT_COVERED
    from tests.fakes import DOC, make

    svc._pipeline = make(NOT_COVERED, rails=svc.pipeline.rails, strategy="cite")[0]
    at = signed_in("ada").chat_input[0].set_value("What is the team's annual budget?").run()
    shown = texts(at)
    assert "does not cover" in shown and "Closest passages, not an answer" in shown
    assert [plain(e.label) for e in at.expander] == ["Open Innovation Team › About"]  # one document, one entry
    [entry] = svc.audit.entries(user="ada")
    [ref] = entry.answer.closest  # what was shown is what the audit keeps
    assert ref.quote and ref.start is not None and DOC[ref.start:ref.end] == ref.quote and ref.quote in shown
    assert "characters" in shown


def test_an_answer_that_cannot_be_recorded_is_not_shown(svc: ui_services.Services,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's finding: the chat showed the answer, then recorded it; a failed write lost it."""
    import sqlite3

    def disk_full(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(svc.audit, "record", disk_full)
    at = signed_in("ada").chat_input[0].set_value("When was the Open Innovation Team set up?").run()
    assert "cannot record answers" in texts(at) and "set up in 2016" not in texts(at)
    assert svc.audit.entries(user="ada") == []
    asked = []
    monkeypatch.setattr(svc.audit, "writable", lambda: False)
    monkeypatch.setattr(svc.pipeline, "answer", lambda *a, **k: asked.append(a))
    at = signed_in("ada").chat_input[0].set_value("When was the Open Innovation Team set up?").run()
    assert "cannot record answers" in texts(at) and asked == []  # refused before any work


def button(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def editor(at: AppTest) -> Any:
    return next(t for t in at.text_area if t.label == "Draft policy (YAML)")


def test_a_champion_edits_validates_tries_and_activates_a_policy(svc: ui_services.Services) -> None:
    at = signed_in("cham").switch_page("pages/policy.py").run()
    good = editor(at).value.replace("gate: [rules, smoke]\n", "")  # the draft names no gate: the minimum runs
    at = editor(at).set_value(good.replace("input:", "inputs:", 1)).run()
    assert "inputs" in texts(at) and "Extra inputs are not permitted" in texts(at)  # the error, with its field
    at = editor(at).set_value(good).run()
    assert "Valid: default@1#" in texts(at) and "Gate suites: rules, smoke" in texts(at)
    terms = next(t for t in at.text_area if t.label.startswith("Banned topics"))
    terms.set_value("lobby*")
    at = button(at, "Apply to the draft")
    assert "lobby*" in at.session_state["draft"]
    at.text_input(key="drive-q").input("Can you help me with lobbying? Mail jo@example.org")
    at = button(at, "Answer under the draft")
    assert "**blocked**" in texts(at)
    [drive] = svc.audit.entries(test_drives=True)  # the test drive is in the audit record, marked, redacted
    assert drive.test_drive == Policy.from_yaml(at.session_state["draft"]).digest and drive.user == "cham"
    assert "jo@example.org" not in drive.answer.model_dump_json() and svc.audit.entries() == []
    at = at.text_input(key="reason").input("ban lobbying questions").run()  # the button waits for a reason
    at = button(at, "Activate")
    assert "Run the gate for this draft first." in texts(at) and svc.policies.active_id() == 1
    at = button(at, "Run the gate")
    assert "rules runs 1->2: no regression" in texts(at) and "smoke runs 3->4: no regression" in texts(at)
    at = button(at, "Activate")
    assert "(v2)" in texts(at)
    active = svc.policies.active()
    assert active is not None and "lobby*" in active.content and active.reason == "ban lobbying questions"


def test_a_champion_cannot_drop_a_required_rail_but_an_admin_can_with_a_recorded_reason(
        svc: ui_services.Services) -> None:
    at = signed_in("cham").switch_page("pages/policy.py").run()
    text = editor(at).value
    dropped = text.replace("  - rail: pii\n    action: redact\n", "", 1)
    assert dropped != text
    at = editor(at).set_value(dropped).run()
    assert "drops or stops enforcing required rails: pii" in texts(at)
    at = button(at.text_input(key="reason").input("fewer rails").run(), "Run the gate")
    at = button(at, "Activate")
    assert "only an admin can override" in texts(at) and svc.policies.active_id() == 1
    at = signed_in("root").switch_page("pages/policy.py").run()  # the admin, with the same draft text
    at = editor(at).set_value(dropped).run()
    at = at.text_input(key="required-override").input("pilot without the PII rail, agreed with the DPO").run()
    at = button(at.text_input(key="reason").input("fewer rails").run(), "Run the gate")
    at = button(at, "Activate")
    active = svc.policies.active()
    assert "(v2)" in texts(at) and active is not None
    assert "required rails dropped: pii; admin override: pilot without the PII rail" in active.reason


def test_a_draft_overtaken_by_another_activation_is_refused_kept_and_its_gate_result_is_void(
        svc: ui_services.Services) -> None:
    at = signed_in("cham").switch_page("pages/policy.py").run()
    mine = editor(at).value + "# mine\n"
    at = button(editor(at).set_value(mine).run(), "Run the gate")
    assert "no regression" in texts(at)
    other = svc.policies.get(1).content + "# another champion's\n"
    svc.policies.activate(other, "bob", "meanwhile")  # v2, by someone else, while this page is open
    at = button(at.text_input(key="reason").input("mine").run(), "Activate")
    assert "changed since this draft was started (from v1 to v2)" in texts(at)
    assert "for another draft or another policy in force" in texts(at)  # the cached gate result is void
    assert "Run the gate for this draft first." in texts(at) and svc.policies.active_id() == 2
    at = button(button(at, "Run the gate"), "Activate")  # a fresh gate, but the draft was made against v1
    assert "your draft is kept: the policy in force is now v2, not v1" in texts(at)
    assert svc.policies.active_id() == 2
    assert (svc.settings.data_dir / "drafts" / "cham.yaml").read_text(encoding="utf-8") == mine  # nothing lost
    at = button(at, "Rebase my draft on the policy in force")
    at = button(button(at, "Run the gate"), "Activate")
    active = svc.policies.active()
    assert "(v3)" in texts(at) and active is not None and active.content == mine


def test_a_rollback_in_the_studio_runs_the_gate_and_keeps_required_rails(svc: ui_services.Services) -> None:
    v1 = svc.policies.get(1).content
    weak = v1.replace("  - rail: pii\n    action: redact\n", "", 1)
    svc.policies.activate(weak, "root", "admin override earlier")  # v2: no pii rail
    svc.policies.activate(v1 + "# v3\n", "root", "back to full")  # v3
    at = signed_in("cham").switch_page("pages/policy.py").run()
    back = next(s for s in at.selectbox if s.label == "Roll back to version")
    at = back.set_value(2).run()
    at = at.text_input(key="rollback-reason").input("undo").run()
    assert "drops or stops enforcing required rails: pii" in texts(at)
    runs = len(svc.runs.list())
    at = button(at, "Roll back")
    assert "only an admin can override" in texts(at) and svc.policies.active_id() == 3
    back = next(s for s in at.selectbox if s.label == "Roll back to version")
    at = back.set_value(1).run()
    at = button(at.text_input(key="rollback-reason").input("undo").run(), "Roll back")
    assert "In force: default" in texts(at) and svc.policies.active_id() == 1
    assert len(svc.runs.list()) == runs + 4  # rules and smoke, under v3 and under v1


def test_an_evaluator_runs_the_smoke_suite_and_sees_its_trend(svc: ui_services.Services) -> None:
    at = signed_in("eve").switch_page("pages/evaluations.py").run()
    at = next(b for b in at.button if b.label == "Run").click().run()
    assert "smoke: run 1 stored" in texts(at)
    assert at.get("vega_lite_chart") and "band: its 95% interval" in texts(at)
    assert "Failing cases in run 1 (4)" in " ".join(s.value for s in at.subheader)


def test_an_admin_reads_the_audit_and_exports_it(svc: ui_services.Services) -> None:
    from tests.fakes import make

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


HOSTILE = ("![pixel](https://evil.example/q.png?d=1) <img src=https://evil.example/h.png> "
           "[click](https://evil.example/l) https://evil.example/bare www.evil.example "
           "<script>alert(1)</script> **bold** # heading")


def _markup_problems(at: AppTest) -> list[str]:
    """Every image, off-site link or raw HTML element that a page's markdown or HTML blocks would draw."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    found: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = " ".join(v or "" for _, v in attrs)
            if tag in ("img", "script", "iframe", "object", "embed", "style") or "evil.example" in values or \
                    any(k.startswith("on") for k, _ in attrs):
                found.append(f"<{tag} {values}>")

    md = MarkdownIt("commonmark", {"html": True})
    sources = [*(m.value for m in at.markdown), *(c.value for c in at.caption), *(t.value for t in at.title),
               *(h.value for h in at.header), *(s.value for s in at.subheader), *(e.label for e in at.expander),
               *(e.value for e in at.error), *(w.value for w in at.warning), *(i.value for i in at.info),
               *(s.value for s in at.success)]
    for source in sources:
        Tags().feed(md.render(source))
        if re.search(r"https?://|www\.", source):  # GitHub-flavoured markdown would make it a link
            found.append(f"autolink in {source[:80]!r}")
    for body in shown_html(at):
        Tags().feed(body)
    return found


def test_hostile_text_is_shown_as_text_on_every_page(svc: ui_services.Services) -> None:
    from guardrails.contracts import Answer

    hostile = Answer(question=HOSTILE, answer=HOSTILE, status="answered", language="en", model="m",
                     policy_version="p", trace_id="t1", reason=None)
    entry = svc.audit.record(hostile, "ada", "c1")
    svc.audit.rate(entry, "ada", "down", comment=HOSTILE, expected=HOSTILE)
    active = svc.policies.active()
    assert active is not None
    svc.policies.activate(active.content.replace("owner:", "# changed\nowner:", 1), HOSTILE[:60], HOSTILE)
    pages = [("ada", None), ("root", "pages/audit.py"), ("cham", "pages/policy.py"), ("eve", "pages/evaluations.py"),
             ("cham", "pages/knowledge.py")]
    for name, page in pages:
        at = signed_in(name)
        if page:
            at = at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert _markup_problems(at) == [], page
    at = signed_in("root").switch_page("pages/audit.py").run()
    assert "evil.example/q.png" in texts(at)  # not vacuous: the hostile text is there, as text


def test_the_shipped_streamlit_config_hides_errors_and_listens_on_loopback() -> None:
    import tomllib

    config = tomllib.loads((UI.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1" and config["server"]["enableXsrfProtection"] is True


def test_the_knowledge_page_lists_the_passages_translate_could_not_translate(svc: ui_services.Services,
                                                                             tmp_path: Path) -> None:
    from assistant.translation import TranslationStore

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lab.da.txt").write_text("Forvaltningslaboratoriet\n\nForvaltningslaboratoriet blev oprettet i 2019 "
                                     "af ministeriet.\n", encoding="utf-8")
    assert svc.kb.ingestor.ingest([docs]).ok
    assert not [d for d in page_as(svc, "knowledge", "champion").dataframe if "reason" in d.value.columns]
    store = TranslationStore(svc.settings.data_dir / "translations.sqlite")
    line = "Forvaltningslaboratoriet blev oprettet i 2019 af ministeriet."
    store.put_failure(line, "da", "the model failed: timeout")
    store.put_failure("A passage of a document since removed.", "da", "the model failed: timeout")
    at = page_as(svc, "knowledge", "champion")
    table = next(d for d in at.dataframe if "reason" in d.value.columns).value
    assert list(table["documents"]) == ["lab.da.txt"] and list(table["reason"]) == ["the model failed: timeout"]
    assert any("Passages not translated (1)" in h.value for h in at.subheader)


def test_a_damaged_store_stops_the_app_with_a_sentence_not_a_crash(svc: ui_services.Services, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault campaign's finding (docs/reliability.md): a truncated audit.sqlite made the app fail to
    start with no explanation."""
    from assistant.audit import AuditStore

    path = tmp_path / "audit.sqlite"
    path.write_bytes(path.read_bytes()[:1500])

    def build() -> ui_services.Services:
        return ui_services.Services(svc.settings, svc.users, svc.policies, AuditStore(path), svc.runs)

    monkeypatch.setattr(ui_services, "build", build)
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "Waymark cannot start: a store in the data directory could not be used" in texts(at)
    assert "restored from a backup" in texts(at) and not at.exception
