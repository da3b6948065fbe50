"""The one direction of dependencies (docs/architecture.md), as ``make lint`` enforces it.

``lint-imports`` checks the layers contract in ``pyproject.toml``: ui -> evals -> assistant -> guardrails ->
knowledge. These tests show the contract has teeth (a copy of our packages with one import running up
the layers fails it) and that the shared contracts import nothing of ours but ``knowledge.models``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.fakes import REPO

PACKAGES = ["ui", "evals", "assistant", "guardrails", "knowledge"]


def _lint_copy(tmp_path: Path, bad_import: tuple[str, str] | None) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over a copy of our packages' Python files, optionally with one import added.

    It runs without ``site`` (``-S``) so the editable install's finder cannot point it back at the checkout;
    the installed libraries come from the site-packages folder on ``PYTHONPATH``."""
    for package in PACKAGES:
        for src in (REPO / package).rglob("*.py"):
            dest = tmp_path / src.relative_to(REPO)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contract = config["contracts"][0]
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in config["root_packages"]),
             "[importlinter:contract:layers]", f"name = {contract['name']}", "type = layers", "layers =",
             *(f"    {layer}" for layer in contract["layers"])]
    (tmp_path / ".importlinter").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if bad_import:
        module, statement = bad_import
        path = tmp_path / module
        path.write_text(path.read_text(encoding="utf-8") + f"\n{statement}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), sysconfig.get_paths()["purelib"]])}
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-S", "-c", code, "--no-cache"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_our_packages_keep_the_layers(tmp_path: Path) -> None:
    proc = _lint_copy(tmp_path, None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("module, statement, message", [
    ("guardrails/contracts.py", "from assistant.pipeline import Pipeline",
     "guardrails is not allowed to import assistant"),
    ("knowledge/models.py", "import ui.render", "knowledge is not allowed to import ui"),
    ("assistant/service.py", "def _late() -> None:\n    from evals import runner",  # inside a function too
     "assistant is not allowed to import evals"),
])
def test_an_import_up_the_layers_breaks_the_contract(tmp_path: Path, module: str, statement: str,
                                                     message: str) -> None:
    proc = _lint_copy(tmp_path, (module, statement))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert message in " ".join(proc.stdout.split())


def test_the_shared_contracts_import_nothing_of_ours_but_knowledge_models() -> None:
    tree = ast.parse((REPO / "guardrails" / "contracts.py").read_text(encoding="utf-8"))
    ours = set(PACKAGES)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {m for m in imported if m.split(".")[0] in ours} == {"knowledge.models"}
