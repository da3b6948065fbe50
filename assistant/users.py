"""Local users and roles: the embedded sign-in for the app (``waymark users add NAME --role ROLE``).

Passwords are kept as scrypt hashes with a random salt per user, compared in constant time, and must pass
``assistant.passwords.weakness`` (12 characters or more, not a common one) whenever they are set. A role
decides which pages and actions a user reaches; the app checks it on every page and every action,
server-side (``allowed``), never by hiding menu entries alone.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from assistant.passwords import weakness
from assistant.sqlite_file import SqliteFile

Role = Literal["civil_servant", "champion", "evaluator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
Page = Literal["chat", "knowledge", "policy", "evaluations", "audit"]

ACCESS: dict[Page, frozenset[Role]] = {
    "chat": frozenset(ROLES),
    "knowledge": frozenset({"champion", "admin"}),
    "policy": frozenset({"champion", "admin"}),
    "evaluations": frozenset({"evaluator", "champion", "admin"}),
    "audit": frozenset({"admin"}),
}
"""Who may open each page and use its actions (champions run the gate suites of their policies)."""

_NAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def allowed(role: Role | None, page: Page) -> bool:
    return role is not None and role in ACCESS[page]


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created: str
    label: str = ""
    """What the app shows for the user (a verified e-mail for an organisation account); else ``name``."""

    @property
    def shown(self) -> str:
        return self.label or self.name


DEMO: dict[Role, str] = {"civil_servant": "demo-civil-servant", "champion": "demo-champion",
                         "evaluator": "demo-evaluator", "admin": "demo-admin"}
"""The demo accounts ``make run`` creates once (``waymark users demo``; removed by ``--remove``)."""


class UserError(ValueError):
    """A user that cannot be added or changed, with a message for the person at the keyboard."""


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


class UserStore(SqliteFile):
    schema = ("CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
              "salt BLOB NOT NULL, hash BLOB NOT NULL, created TEXT NOT NULL);")

    def add(self, name: str, role: str, password: str | None = None) -> tuple[User, str]:
        """Add a user; returns the user and the password (a generated one when none is given)."""
        if not _NAME.match(name):
            raise UserError("a user name is 2-64 letters, digits or . _ @ -")
        if role not in ROLES:
            raise UserError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        password = self._acceptable(name, password)
        salt = secrets.token_bytes(16)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with closing(self._connect()) as db, db:
                db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                           (name, role, salt, _hash(password, salt), created))
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} exists already") from None
        return User(name, role, created), password

    @staticmethod
    def _acceptable(name: str, password: str | None) -> str:
        """``password``, or a generated one for None; a weak one is refused with the reason."""
        if password is None:
            return secrets.token_urlsafe(15)
        why = weakness(password, name)
        if why:
            raise UserError(why)
        return password

    def set_password(self, name: str, password: str | None = None) -> str:
        """Give ``name`` a new password (a generated one for None) and return it."""
        password = self._acceptable(name, password)
        salt = secrets.token_bytes(16)
        with closing(self._connect()) as db, db:
            if not db.execute("UPDATE users SET salt = ?, hash = ? WHERE name = ?",
                              (salt, _hash(password, salt), name)).rowcount:
                raise UserError(f"no user {name!r}")
        return password

    def change_password(self, name: str, old: str, new: str) -> None:
        """A user changes their own password: the old one must be right."""
        if self.verify(name, old) is None:
            raise UserError("the current password is not right")
        self.set_password(name, new)

    def set_role(self, name: str, role: str) -> None:
        if role not in ROLES:
            raise UserError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        with closing(self._connect()) as db, db:
            if not db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name)).rowcount:
                raise UserError(f"no user {name!r}")

    def verify(self, name: str, password: str) -> User | None:
        """The user, if the password is theirs; None otherwise (same work either way)."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT role, salt, hash, created FROM users WHERE name = ?", (name,)).fetchone()
        salt, expected = (row[1], row[2]) if row else (b"\0" * 16, b"\0" * 32)
        ok = hmac.compare_digest(_hash(password, salt), expected)
        return User(name, row[0], row[3]) if row and ok else None

    def get(self, name: str) -> User | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT role, created FROM users WHERE name = ?", (name,)).fetchone()
        return User(name, row[0], row[1]) if row else None

    def list(self) -> list[User]:
        with closing(self._connect()) as db:
            return [User(n, r, c) for n, r, c in db.execute("SELECT name, role, created FROM users ORDER BY name")]

    def remove(self, name: str) -> bool:
        with closing(self._connect()) as db, db:
            return db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def demo_accounts(self) -> builtins.list[str]:
        """The demo accounts that exist (``DEMO``)."""
        return [u.name for u in self.list() if u.name in DEMO.values()]


def oidc_user(claims: Mapping[str, Any], users: UserStore) -> User:
    """Who an organisation sign-in is: the provider's stable subject (``sub`` within ``iss``), never the
    e-mail. The e-mail counts only when the provider says it is verified (``email_verified``); then the
    role is the one the user store gives that address, else the least one. Without a subject: refused."""
    issuer, subject = str(claims.get("iss") or "").strip(), str(claims.get("sub") or "").strip()
    if not issuer or not subject:
        raise UserError("Your organisation's sign-in did not say who you are (no subject or issuer), so Waymark "
                        "cannot keep your conversations apart from anyone else's. Ask your administrator.")
    verified = claims.get("email_verified") in (True, "true", "True")
    email = str(claims.get("email") or "").strip() if verified else ""
    known = users.get(email) if email else None
    return User(f"{subject}@{issuer}"[:300], known.role if known else "civil_servant", known.created if known else "",
                label=email or str(claims.get("name") or "") or "organisation account")
