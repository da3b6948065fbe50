"""Local users and roles: the embedded sign-in for the app (``waymark users add NAME --role ROLE``).

Passwords are kept as scrypt hashes with a random salt per user, compared in constant time. A role
decides which pages and actions a user reaches; the app checks it on every page and every action,
server-side (``allowed``), never by hiding menu entries alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

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
        if password is None:
            password = secrets.token_urlsafe(12)
        if len(password) < 10:
            raise UserError("a password needs at least 10 characters")
        salt = secrets.token_bytes(16)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with closing(self._connect()) as db, db:
                db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                           (name, role, salt, _hash(password, salt), created))
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} exists already") from None
        return User(name, role, created), password

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
