"""A champion's or evaluator's files cannot read the server, redirect the model or get around the gate.

Each test performs the attack the review found (a gate naming a file, a suite indexing a server folder
or sending prompts elsewhere, an error quoting a file, two activations racing, a required rail
dropped) and checks it now fails to get through.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.settings import Settings
from evals.activation import ActivationRefused, Request, activate
from evals.suite import PROJECT_CORPORA, SuiteError, parse
from evals.suite_store import load_any, load_named, suite_store
from guardrails.policy import Policy, PolicyError
from guardrails.store import PolicyStore, StaleDraft

SECRET = "db_password=hunter2-do-not-show"

SUITE = """\
suite: {name}
corpus: {corpus}
{settings}
cases:
  - {{id: c1, kind: benign, language: en, question: "Who approves a new AI tool?"}}
"""


def suite_text(name: str = "mine", corpus: str = "corpora/mine", settings: str = "") -> bytes:
    return SUITE.format(name=name, corpus=corpus, settings=settings).encode()


# --- a gate names suites, never files -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["/etc/passwd", "../uploads/notes.yaml", "evals/suites/smoke.yaml", "a b"])
def test_a_policy_gate_may_not_name_a_path(name: str) -> None:
    policy = f'name: p\nversion: "1"\nowner: o\ngate: ["{name}"]\n'
    with pytest.raises(PolicyError, match="gate"):
        Policy.from_yaml(policy)


def test_a_gate_name_finds_only_shipped_or_stored_suites_never_a_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "upload.yaml").write_bytes(suite_text("upload"))  # a "document" a champion uploaded
    (tmp_path / "upload").write_bytes(suite_text("upload"))
    with pytest.raises(SuiteError, match="no suite named 'upload'"):
        load_named("upload", tmp_path)
    assert load_named("smoke", tmp_path)[0].suite == "smoke"


# --- corpora stay inside the project's or the data directory's -----------------------------------------------
@pytest.mark.parametrize("corpus", ["/etc", "/work", "../shared/data", "corpora/../../etc", "corpora/a/b",
                                    "knowledge/../../..", "~/secrets"])
def test_a_suite_corpus_outside_the_allowed_folders_is_refused(corpus: str) -> None:
    with pytest.raises(SuiteError, match="corpus"):
        parse(suite_text(corpus=corpus), "suite.yaml")


def test_a_data_directory_corpus_that_links_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    data = tmp_path / "data"
    (data / "corpora").mkdir(parents=True)
    (data / "corpora" / "mine").symlink_to(outside, target_is_directory=True)
    suite = parse(suite_text(), "suite.yaml")
    with pytest.raises(SuiteError, match="not a corpus Waymark may read"):
        suite.corpus_path(data)
    (data / "corpora" / "real").mkdir()
    assert parse(suite_text(corpus="corpora/real"), "s.yaml").corpus_path(data) == (data / "corpora" / "real").resolve()
    assert parse(suite_text(corpus="knowledge/sample_corpus"), "s.yaml").corpus_path(data) == \
        PROJECT_CORPORA["knowledge/sample_corpus"].resolve()


# --- suite settings tune answering, never backends ---------------------------------------------------------
@pytest.mark.parametrize("setting", ["llm: openai", "llm_base_url: http://attacker.example/v1",
                                     "chroma_url: http://attacker.example:8000", "llm_api_key: sk-x",
                                     "data_dir: /etc", "policy: none", "llm_model: /etc/passwd"])
def test_suite_settings_may_not_set_a_backend_url_key_path_or_policy(setting: str) -> None:
    with pytest.raises(SuiteError, match="cannot be set by a suite"):
        parse(suite_text(corpus="knowledge/sample_corpus", settings=f"settings: {{{setting}}}"), "s.yaml")
    ok = parse(suite_text(corpus="knowledge/sample_corpus", settings="settings: {k: 3, answer_strategy: cite}"),
               "s.yaml")
    assert ok.settings == {"k": 3, "answer_strategy": "cite"}


def test_errors_name_the_place_and_never_quote_the_file(tmp_path: Path) -> None:
    """A server file named as a suite: the error says it is not a suite, and shows none of it."""
    secret = tmp_path / "config.yaml"
    secret.write_text(f"{SECRET}\nother: [{SECRET}]\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"suite: x\ncorpus: '{SECRET}\n")
    binary = tmp_path / "key.bin"
    binary.write_bytes(b"\xff\xfe" + SECRET.encode())
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"suite": "x", "corpus": "corpora/x"}\n{"id": "' + SECRET + '", "kind": 3}\n')
    for path in (secret, broken, binary, jsonl):
        with pytest.raises(SuiteError) as info:
            load_any(str(path), tmp_path)
        assert "hunter2" not in str(info.value), str(info.value)


# --- the suite store -------------------------------------------------------------------------------------
def test_the_suite_store_validates_versions_and_refuses_shipped_names(tmp_path: Path) -> None:
    store = suite_store(tmp_path)
    with pytest.raises(SuiteError, match="shipped suite"):
        store.add("smoke", suite_text("smoke", "knowledge/sample_corpus"), "eve")
    with pytest.raises(SuiteError, match="not a suite name"):
        store.add("../x", suite_text(), "eve")
    with pytest.raises(SuiteError, match="corpus"):
        store.add("mine", suite_text(corpus="/etc"), "eve")
    first = store.add("mine", suite_text(), "eve")
    second = store.add("mine", suite_text().replace(b"Who approves", b"Who signs off"), "eve")
    assert (first.version, second.version) == (1, 2) and store.names() == ["mine"]
    assert load_named("mine", tmp_path)[0].cases[0].question.startswith("Who signs off")
    assert store.get("mine", 1)[0].cases[0].question.startswith("Who approves")


# --- activation: one at a time, required rails kept ----------------------------------------------------------
POLICY = """\
name: team
version: "{v}"
owner: champions
input:
  - rail: max_length
    params: {{max_chars: {chars}}}
"""


def test_two_racing_activations_end_with_one_in_force_and_the_other_refused(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "p.sqlite")
    store.activate(POLICY.format(v=1, chars=100), "ada", "initial")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def champion(n: int) -> None:
        start.wait()
        try:
            store.activate(POLICY.format(v=n, chars=100 + n), f"c{n}", "mine", expected=1)
            outcomes.append("won")
        except StaleDraft as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=champion, args=(n,)) for n in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
    assert len(store.history()) == 2 and store.active_id() == 2
    assert "not v1" in next(o for o in outcomes if o.startswith("refused"))


def test_a_champion_cannot_drop_a_required_rail_and_an_admin_must_say_why(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gate_suites=(), required_rails=("pii", "max_length"))
    store = PolicyStore(tmp_path / "p.sqlite")
    base = 'name: team\nversion: "1"\nowner: o\ninput:\n  - rail: pii\n    action: redact\n' \
           '  - rail: max_length\n    action: block\n'
    store.activate(base, "ada", "initial")
    dropped = base.replace("  - rail: pii\n    action: redact\n", "")
    logged = base.replace("action: redact", "action: log")  # kept, but no longer enforcing
    for draft in (dropped, logged):
        with pytest.raises(ActivationRefused, match=r"required rails \(pii\); only an admin"):
            activate(settings, store, draft, Request("cham", "fewer rails", based_on=1), "d", check=lambda p: None)
    with pytest.raises(ActivationRefused, match="give the override's reason"):
        activate(settings, store, dropped, Request("root", "fewer rails", 1, admin=True), "d", check=lambda p: None)
    with pytest.raises(ActivationRefused, match="say why"):
        activate(settings, store, base.replace('"1"', '"2"'), Request("root", " ", 1), "d", check=lambda p: None)
    assert store.active_id() == 1
    v = activate(settings, store, dropped, Request("root", "fewer rails", 1, required_override="DPO agreed",
                                                   admin=True), "d", check=lambda p: None)
    assert v.id == 2 and "[required rails dropped: pii; admin override: DPO agreed]" in v.reason
