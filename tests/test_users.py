"""The app's local users: hashed passwords, roles, and who may open which page."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.signin import LOCK_S, SignIns
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
    good = "Tr0ub4dor&3xyz"
    for name, role, pw, why in [("ada", "admin", good, "exists already"), ("a b", "admin", good, "user name"),
                                ("cy", "boss", good, "unknown role"), ("cy", "admin", "short", "12 characters")]:
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


@pytest.mark.parametrize(("password", "why"), [
    ("aaaaaaaaaa", "12 characters"),  # the review's admin password
    ("aaaaaaaaaaaa", "5 different characters"), ("abababababab", "5 different characters"),
    ("password1234", "common passwords"), ("Password2024!", "common passwords"), ("q1w2e3r4t5y6", "common"),
    ("demo-admin-secret", "user name"),
])
def test_weak_passwords_are_refused_wherever_a_password_is_set(tmp_path: Path, password: str, why: str) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    with pytest.raises(UserError, match=why):
        store.add("demo-admin", "admin", password)
    store.add("demo-admin", "admin", "correct horse battery")
    with pytest.raises(UserError, match=why):
        store.set_password("demo-admin", password)
    with pytest.raises(UserError, match=why):
        store.change_password("demo-admin", "correct horse battery", password)
    assert store.verify("demo-admin", "correct horse battery") is not None  # nothing changed


def test_a_user_changes_their_password_and_an_admin_resets_it(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.sqlite")
    store.add("ada", "champion", "correct horse battery")
    with pytest.raises(UserError, match="current password"):
        store.change_password("ada", "wrong horse battery", "staple gun lighthouse")
    store.change_password("ada", "correct horse battery", "staple gun lighthouse")
    assert store.verify("ada", "correct horse battery") is None and store.verify("ada", "staple gun lighthouse")
    generated = store.set_password("ada")
    assert store.verify("ada", generated) is not None and store.verify("ada", "staple gun lighthouse") is None
    with pytest.raises(UserError, match="no user"):
        store.set_password("nobody")


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_thirty_wrong_passwords_lock_the_account_then_the_right_one_is_refused(tmp_path: Path) -> None:
    """The review's attack: 30 wrong passwords, then the right one. Before, the right one worked."""
    users = UserStore(tmp_path / "users.sqlite")
    users.add("root", "admin", "correct horse battery")
    clock = Clock()
    log = SignIns(tmp_path / "users.sqlite", users, clock)
    checked = 0
    real_verify = users.verify

    def counting(name: str, password: str) -> object:
        nonlocal checked
        checked += 1
        return real_verify(name, password)

    users.verify = counting  # type: ignore[method-assign]
    messages = []
    for i in range(30):
        messages.append(log.sign_in("root", f"guess number {i}", "10.0.0.9").message)
        clock.t += 1
    assert messages[:5] == ["That user name and password do not match."] * 5
    assert messages[5].startswith("Too many failed sign-ins. Try again in")
    assert checked < 12  # the password is not even checked while the attempt must wait
    right = log.sign_in("root", "correct horse battery", "10.0.0.9")
    assert right.user is None and right.message and right.message.startswith("Too many failed")
    while checked < 10:  # a patient attacker waits out every delay: after 10 checked failures, a lock
        clock.t += log.wait("root", "10.0.0.9", clock.t)
        log.sign_in("root", f"patient guess {checked}", "10.0.0.9")
    right = log.sign_in("root", "correct horse battery", "10.0.0.9")
    assert right.user is None and right.message and "15 minutes" in right.message
    elsewhere = log.sign_in("root", "correct horse battery", "10.0.0.77")  # the lock is on the account
    assert elsewhere.user is None
    clock.t += LOCK_S + 1
    assert log.sign_in("root", "correct horse battery", "10.0.0.9").user is not None
    attempts = log.recent()
    assert {a.outcome for a in attempts} == {"ok", "failed", "throttled"}
    assert sum(a.outcome == "failed" for a in attempts) == checked - 1 == 10  # every attempt is recorded
    assert sum(a.outcome == "throttled" for a in attempts) == len(attempts) - 11
    stored = (tmp_path / "users.sqlite").read_bytes()
    assert b"guess number" not in stored and b"correct horse" not in stored  # never a password


def test_backoff_grows_and_a_success_or_an_unlock_resets_the_account(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "users.sqlite")
    users.add("ada", "champion", "correct horse battery")
    clock = Clock()
    log = SignIns(tmp_path / "users.sqlite", users, clock)
    for i in range(5):
        assert log.sign_in("ada", f"wrong {i}", "c1").message == "That user name and password do not match."
    waits = []
    for _ in range(4):  # each further failure doubles the wait
        waits.append(log.wait("ada", "c1", clock.t))
        clock.t += waits[-1]
        log.sign_in("ada", "still wrong", "c1")
    assert waits == [2.0, 4.0, 8.0, 16.0]
    clock.t += 32
    assert log.sign_in("ada", "correct horse battery", "c1").user is not None
    assert log.wait("ada", "c1", clock.t) == 0.0  # the account's count starts again after a success
    for _ in range(10):
        clock.t += log.wait("ada", "c2", clock.t)
        log.sign_in("ada", "wrong again", "c2")
    assert log.wait("ada", "c2", clock.t) > 60
    log.unlock("ada")
    assert log.wait("ada", "c3", clock.t) == 0.0


def test_unknown_names_are_throttled_alike_and_a_client_guessing_many_accounts_is_slowed(tmp_path: Path) -> None:
    users = UserStore(tmp_path / "users.sqlite")
    clock = Clock()
    log = SignIns(tmp_path / "users.sqlite", users, clock)
    for _ in range(6):
        last = log.sign_in("nobody", "x", "c1")
    assert last.message and last.message.startswith("Too many failed")  # same answer as for a real account
    assert b"nobody" not in (tmp_path / "users.sqlite").read_bytes()  # typed names are kept as a digest
    for i in range(25):  # one failure per account, many accounts, from one client
        clock.t += log.wait(f"user{i}", "c9", clock.t)
        log.sign_in(f"user{i}", "password guess", "c9")
    assert log.wait("user99", "c9", clock.t) > 0 and log.wait("user99", "c8", clock.t) == 0


def test_an_organisation_sign_in_is_its_subject_and_an_unverified_email_gives_no_role(tmp_path: Path) -> None:
    """The review's finding: without an e-mail claim everyone became "unknown" and shared one history,
    and an unverified e-mail claim gave that address's role."""
    from assistant.users import oidc_user

    users = UserStore(tmp_path / "users.sqlite")
    users.add("boss@dept.gov.uk", "admin", "correct horse battery")
    iss = "https://login.dept.gov.uk"
    one = oidc_user({"iss": iss, "sub": "a1"}, users)
    two = oidc_user({"iss": iss, "sub": "b2"}, users)
    assert one.name != two.name and one.role == two.role == "civil_servant"  # apart, with no e-mail at all
    other_idp = oidc_user({"iss": "https://evil.example", "sub": "a1"}, users)
    assert other_idp.name != one.name  # the same subject at another issuer is someone else
    forged = oidc_user({"iss": iss, "sub": "c3", "email": "boss@dept.gov.uk", "email_verified": False}, users)
    assert forged.role == "civil_servant" and "boss" not in forged.shown
    real = oidc_user({"iss": iss, "sub": "d4", "email": "boss@dept.gov.uk", "email_verified": True}, users)
    assert real.role == "admin" and real.shown == "boss@dept.gov.uk" and real.name == f"d4@{iss}"
    for claims in ({"iss": iss}, {"sub": "a1"}, {"iss": iss, "sub": " "}):
        with pytest.raises(UserError, match="did not say who you are"):
            oidc_user(claims, users)


def test_demo_accounts_are_made_once_and_removed_and_production_refuses_them(tmp_path: Path) -> None:
    first = invoke(tmp_path, "users", "demo")
    assert first.returncode == 0 and first.stdout.count("password (shown once)") == 4
    again = invoke(tmp_path, "users", "demo")
    assert again.returncode == 0 and "password" not in again.stdout and "demo accounts active" in again.stdout
    assert len(UserStore(tmp_path / "users.sqlite").demo_accounts()) == 4
    refused = invoke(tmp_path, "users", "demo", env={"WAYMARK_PRODUCTION": "true"})
    assert refused.returncode == 1 and "production" in refused.stderr
    removed = invoke(tmp_path, "users", "demo", "--remove")
    assert removed.returncode == 0 and "removed 4" in removed.stdout
    assert UserStore(tmp_path / "users.sqlite").demo_accounts() == []


def test_admin_commands_reset_a_password_change_a_role_and_unlock(tmp_path: Path) -> None:
    weak = invoke(tmp_path, "users", "add", "ada", "--role", "admin", "--password-stdin", stdin="aaaaaaaaaa\n")
    assert weak.returncode == 1 and "12 characters" in weak.stderr
    assert invoke(tmp_path, "users", "add", "ada", "--role", "champion").returncode == 0
    reset = invoke(tmp_path, "users", "passwd", "ada")
    new = reset.stdout.split("new password (shown once): ")[1].split()[0]
    store = UserStore(tmp_path / "users.sqlite")
    assert store.verify("ada", new) is not None
    assert invoke(tmp_path, "users", "passwd", "ada", "--password-stdin", stdin="password1234\n").returncode == 1
    assert invoke(tmp_path, "users", "role", "ada", "evaluator").returncode == 0
    assert getattr(store.get("ada"), "role", None) == "evaluator"
    assert "unknown role" in invoke(tmp_path, "users", "role", "ada", "boss").stderr
    clock = Clock()
    log = SignIns(tmp_path / "users.sqlite", store, clock)
    for _ in range(5):
        log.sign_in("ada", "wrong guess", "c1")
    assert log.wait("ada", "c1", clock.t) > 0
    assert invoke(tmp_path, "users", "unlock", "ada").returncode == 0
    assert log.sign_in("ada", new, "c2").user is not None
    assert invoke(tmp_path, "users", "unlock", "nobody").returncode == 1


def test_the_client_is_the_address_your_own_proxies_saw_never_what_the_client_wrote() -> None:
    from assistant.signin import client_key

    assert client_key("10.0.0.5", "1.2.3.4", 0) == "10.0.0.5"  # no proxy configured: the header is not believed
    assert client_key("10.0.0.5", "6.6.6.6, 198.51.100.7", 1) == "198.51.100.7"  # the forged entry is left of it
    assert client_key("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9", 2) == "198.51.100.7"
    assert client_key("10.0.0.5", None, 1) == "10.0.0.5" and client_key(None, "", 1) == "unknown"
    assert client_key("10.0.0.5", "198.51.100.7", 2) == "10.0.0.5"  # fewer hops than proxies: the peer
