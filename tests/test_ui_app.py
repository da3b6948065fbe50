"""The Streamlit app under AppTest: sign-in, roles enforced on every page, the chat's cited answer.

The pipeline is the real one over a scripted searcher and the scripted fake model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assistant.settings import Settings
from assistant.users import UserStore
from ui import services as ui_services

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
PASSWORD = "correct horse battery"


@pytest.fixture()
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UserStore]:
    from assistant.service import policy_store
    from tests.test_pipeline import make

    settings = Settings(data_dir=tmp_path)
    store = UserStore(tmp_path / "users.sqlite")
    for name, role in (("ada", "civil_servant"), ("cham", "champion")):
        store.add(name, role, PASSWORD)
    pipeline, _, _ = make("The team was set up in 2016 [1].", strategy="cite")
    monkeypatch.setattr(ui_services, "build",
                        lambda: ui_services.Services(settings, store, policy_store(settings), pipeline))
    st.cache_resource.clear()
    yield store
    st.cache_resource.clear()


def signed_in(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input(name)
    at.text_input[1].input(PASSWORD)
    return at.button[0].click().run()


def texts(at: AppTest) -> str:
    return " ".join([*(t.value for t in at.title), *(m.value for m in at.markdown), *(e.value for e in at.error)])


def test_a_wrong_password_is_refused(users: UserStore) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input("ada")
    at.text_input[1].input("not the password")
    at = at.button[0].click().run()
    assert "do not match" in texts(at) and "Ask Waymark" not in texts(at)


def test_a_civil_servant_asks_and_reads_a_cited_answer(users: UserStore) -> None:
    at = signed_in("ada")
    assert "Ask Waymark" in texts(at) and "Signed in as **ada** (civil servant)" in texts(at)
    at = at.chat_input[0].set_value("When was the Open Innovation Team set up?").run()
    assert "The team was set up in 2016 [1]." in texts(at)
    assert [e.label for e in at.expander] == ["[1] Open Innovation Team › About"]


def test_a_civil_servant_cannot_reach_the_policy_page(users: UserStore) -> None:
    at = signed_in("ada")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered for the role
        at.switch_page("pages/policy.py")
    # and the page itself refuses, should it ever be run for them (defence in depth)
    page = AppTest.from_file(str(Path(APP).parent / "pages" / "policy.py"), default_timeout=60)
    page.session_state["user"] = users.get("ada")
    page = page.run()
    assert "You do not have access to this page." in texts(page) and "Guardrail policy" not in texts(page)
    page.session_state["user"] = None
    assert "You do not have access to this page." in texts(page.run())


def test_a_champion_sees_the_policy_in_force(users: UserStore) -> None:
    at = signed_in("cham")
    at = at.switch_page("pages/policy.py").run()
    assert "Guardrail policy" in texts(at)
    assert any("In force: default@1#" in h.value for h in at.subheader)
