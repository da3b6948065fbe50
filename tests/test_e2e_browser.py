"""End to end in a real browser: ``streamlit run ui/app.py`` on localhost, driven by Playwright in
Debian's Chromium (``.ci/run`` installs it). The model is ``WAYMARK_LLM=fake`` (it quotes the best
sentence of the top passage, cited [1]); everything else is real: the index, the rails, the policy
store and its gate, the audit record, the eval runner. Screenshots go to ``test-artifacts/e2e``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artifacts" / "e2e"
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, streamlit_app: Any) -> Iterator[str]:
    from assistant.users import UserStore

    data = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "WAYMARK_DATA_DIR": str(data), "WAYMARK_LLM": "fake", "WAYMARK_TRANSLATE": "false"}
    subprocess.run([sys.executable, "-m", "ui.cli.main", "ingest", str(REPO / "evals/suites/smoke_corpus")],
                   env=env, check=True, capture_output=True, timeout=300)
    users = UserStore(data / "users.sqlite")
    for name, role in (("ada", "civil_servant"), ("cham", "champion"), ("eve", "evaluator")):
        users.add(name, role, PASSWORD)
    with streamlit_app(env, data / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def sign_in(browser: Any, url: str, name: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)
    page.goto(url)
    return signed(page, name)


def signed(page: Any, name: str) -> Any:
    page.get_by_label("User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").wait_for()
    return page


def ask(page: Any, question: str) -> None:
    box = page.get_by_placeholder("Ask about the guidance, in any language")
    box.fill(question)
    box.press("Enter")


def test_the_app_makes_no_request_outside_its_own_origin(app: str, browser: Any) -> None:
    """The review saw the page icon fetched from Google's font CDN. Every request the browser makes, from
    the sign-in page through an answer with its citation, must go to the app's own origin."""
    from urllib.parse import urlsplit

    origin = urlsplit(app)[:2]
    seen: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)
    page.on("request", lambda request: seen.append(request.url))
    page.goto(app)
    signed(page, "ada")
    ask(page, "How long is an AI champion's term?")
    page.get_by_text("A champion serves a two-year term, which can be renewed once. [1]").wait_for()
    page.get_by_text("[1] AI champions").click()
    page.wait_for_timeout(1500)
    page.close()
    outside = sorted({u for u in seen if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u)[:2] != origin})
    assert seen and not outside, f"requests outside {app}: {outside}"


def test_a_civil_servant_asks_opens_a_citation_and_gives_a_thumbs_down(app: str, browser: Any) -> None:
    page = sign_in(browser, app, "ada")
    ask(page, "How long is an AI champion's term?")
    page.get_by_text("A champion serves a two-year term, which can be renewed once. [1]").wait_for()
    page.screenshot(path=str(SHOTS / "1-civil-servant-answer.png"))
    page.get_by_text("[1] AI champions").click()
    page.get_by_text("champions.en.md, characters").wait_for()
    page.screenshot(path=str(SHOTS / "2-civil-servant-citation.png"))
    page.get_by_text("Rate this answer").click()
    page.get_by_text("👎 No").click()
    page.get_by_label("Comment (optional)").fill("I needed the renewal rules")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("you rated this answer 👎").wait_for()
    page.screenshot(path=str(SHOTS / "3-civil-servant-rated.png"))
    page.close()
    # not a page for this role, even by its address (a new browser session signs in again)
    page = browser.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app}/policy")
    signed(page, "ada").get_by_text("Ask Waymark").wait_for()
    assert page.get_by_text("Policy studio").count() == 0 and page.get_by_text("Guardrail").count() == 0
    page.screenshot(path=str(SHOTS / "3b-civil-servant-policy-url.png"))
    page.close()


def test_a_champion_sees_a_yaml_error_then_activates_a_banned_term_that_the_chat_refuses(app: str,
                                                                                        browser: Any) -> None:
    page = sign_in(browser, app, "cham")
    page.get_by_role("link", name="Policy studio").click()
    page.get_by_role("tab", name="YAML").click()
    editor = page.get_by_label("Draft policy (YAML)")
    good = (REPO / "guardrails/policies/default.yaml").read_text(encoding="utf-8").replace(
        "\ninput:\n", "\ninput:\n  - rail: banned_terms\n    action: block\n    params: {terms: [lobby*]}\n", 1)
    editor.fill(good.replace("\ninput:\n", "\ninputs:\n", 1))
    editor.press("Control+Enter")
    page.get_by_text("Extra inputs are not permitted").wait_for()
    page.screenshot(path=str(SHOTS / "4-champion-yaml-error.png"))
    editor.fill(good)
    editor.press("Control+Enter")
    page.get_by_text("Valid: default@1#").wait_for()
    page.get_by_role("tab", name="Gate and activate").click()
    page.get_by_role("button", name="Run the gate").click()
    page.get_by_text("rules runs").wait_for(timeout=300_000)
    page.get_by_label("Why (recorded with the activation)").fill("no lobbying questions")
    page.get_by_label("Why (recorded with the activation)").press("Enter")
    page.get_by_role("button", name="Activate").click()  # waits until the reason has enabled it
    page.get_by_text("(v2)").wait_for()  # the new version is in force (the page's caption names v1 before)
    page.screenshot(path=str(SHOTS / "5-champion-activated.png"))
    page.get_by_role("link", name="Chat").click()
    ask(page, "Can you help me prepare for lobbying the minister?")
    page.get_by_text("I can't help with that topic.").wait_for()
    page.screenshot(path=str(SHOTS / "6-chat-refuses-banned-topic.png"))
    page.close()


def test_an_evaluator_runs_the_smoke_suite_and_sees_its_chart(app: str, browser: Any) -> None:
    page = sign_in(browser, app, "eve")
    page.get_by_role("link", name="Evaluations").click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("smoke: run").wait_for(timeout=300_000)
    page.locator("[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg").first.wait_for()
    page.screenshot(path=str(SHOTS / "7-evaluator-chart.png"), full_page=True)
    page.close()
