"""What an installed Waymark needs without a checkout: the shipped suites, their corpora and the shipped
policies are package data, resolved from the packages' own folders.

(Checked by hand too, 2026-12-03: `pip wheel --no-deps .`, the wheel unpacked into an empty folder and run
with `python -S` so the checkout could not be found; `waymark eval run smoke` ran from it.)
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from evals.suite import PROJECT_CORPORA, SUITES, shipped_names
from tests.fakes import REPO


def _declared(path: Path) -> bool:
    """``path`` (a file in the repository) is package data or a module of one of our packages."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    rel = path.resolve().relative_to(REPO)
    package, inside = rel.parts[0], Path(*rel.parts[1:]).as_posix()
    globs = config["package-data"].get(package, [])
    return rel.suffix == ".py" or any(fnmatch.fnmatch(inside, g) and "/" not in inside[len(g.split("*")[0]):]
                                      for g in globs)


def test_every_shipped_suite_and_its_corpus_is_package_data() -> None:
    names = shipped_names()
    assert {"smoke", "golden"} <= set(names)
    for name in names:
        suite = next(p for p in SUITES.iterdir() if p.stem == name)
        assert _declared(suite), f"{suite} is not package data"
    for key, folder in PROJECT_CORPORA.items():
        if key.startswith("../"):  # the shared data beside a checkout; tests that need it skip without it
            continue
        assert folder.resolve().is_relative_to(REPO), folder
        files = [p for p in folder.iterdir() if p.is_file()]
        assert files and all(_declared(p) for p in files), f"{key}: not every file is package data"


def test_the_shipped_policies_and_schemas_are_package_data() -> None:
    for path in [*(REPO / "guardrails" / "policies").glob("*.yaml"), REPO / "guardrails" / "policy.schema.json",
                 REPO / "evals" / "suite.schema.json", REPO / "guardrails" / "data" / "injection_model.json",
                 REPO / "assistant" / "data" / "answer_decision.json"]:
        assert _declared(path), f"{path} is not package data"


def test_the_check_itself_refuses_an_undeclared_file() -> None:
    assert not _declared(REPO / "evals" / "suites" / "smoke_corpus" / "nested" / "x.md")
    assert not _declared(REPO / "evals" / "notes.txt")
