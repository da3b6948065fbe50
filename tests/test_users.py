"""The app's local users: hashed passwords, roles, and who may open which page."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.users import ACCESS, ROLES, UserError, UserStore, allowed
from tests.fakes import invoke


def test_passwords_are_hashed_and_checked(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    user, password = store.add("ada", "champion", "correct horse battery")
    assert user.role == "champion" and password == "correct horse battery"
    assert store.verify("ada", "correct horse battery") == user
    assert store.verify("ada", "correct horse batterz") is None and store.verify("bob", "x" * 12) is None
    assert b"correct horse" not in (tmp_path / "users.sqlite").read_bytes()
    _, generated = store.add("bob", "evaluator")
    assert len(generated) >= 16 and store.verify("bob", generated) is not None
    for name, role, pw, why in [("ada", "admin", "x" * 12, "exists already"), ("a b", "admin", "x" * 12, "user name"),
                                ("cy", "boss", "x" * 12, "unknown role"), ("cy", "admin", "short", "10 characters")]:
        with pytest.raises(UserError, match=why):
            store.add(name, role, pw)
    assert store.remove("bob") and not store.remove("bob") and [u.name for u in store.list()] == ["ada"]


def test_roles_reach_only_their_pages() -> None:
    assert all(allowed(r, "chat") for r in ROLES)
    assert not any(allowed("civil_servant", p) for p in ACCESS if p != "chat")
    assert allowed("champion", "policy") and not allowed("champion", "audit")
    assert allowed("evaluator", "evaluations") and not allowed("evaluator", "policy")
    assert all(allowed("admin", p) for p in ACCESS) and not allowed(None, "chat")


def test_users_command(tmp_path: Path) -> None:
    added = invoke(tmp_path, "users", "add", "ada", "--role", "champion")
    assert added.returncode == 0 and "password (shown once): " in added.stdout
    password = added.stdout.split("password (shown once): ")[1].split()[0]
    assert UserStore(tmp_path / "users.sqlite").verify("ada", password) is not None
    listed = invoke(tmp_path, "users", "list").stdout
    assert "ada" in listed and password not in listed
    bad = invoke(tmp_path, "users", "add", "ada", "--role", "champion")
    assert bad.returncode == 1 and "exists already" in bad.stderr
    assert invoke(tmp_path, "users", "remove", "ada").returncode == 0
