"""Sign-in with backoff: every attempt recorded, repeated failures slowed down and then locked out.

Counted per account and per client (the browser's address as the app sees it), over the last 15 minutes
and since the account's last success: up to 5 failures are free; each further one makes the next attempt
wait 2, 4, 8, 16, 32 seconds; from the 10th the account (or the client) is locked for 15 minutes. A
client gets four times the allowance, since many people may share one address. While an attempt must
wait, the password is not checked at all (no scrypt work is spent on it) and the attempt is recorded
as ``throttled``. Unknown names are throttled alike, so the answer never tells whether a name exists.

A record holds the time, the account (a known user's name, else ``unknown:`` and a digest of what was
typed, since people type passwords into the name field), the client and the outcome: never a password.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from assistant.sqlite_file import SqliteFile
from assistant.users import User, UserError, UserStore

Outcome = Literal["ok", "failed", "throttled", "unlocked"]
WINDOW_S = 15 * 60
FREE = 5
LOCK_AFTER = 10
LOCK_S = 15 * 60
CLIENT_FACTOR = 4


def delay_after(failures: int, factor: int = 1) -> float:
    """Seconds the next attempt waits after ``failures`` recent failures (``factor`` scales the allowance)."""
    free, lock = FREE * factor, LOCK_AFTER * factor
    if failures < free:
        return 0.0
    if failures >= lock:
        return float(LOCK_S)
    return float(2 ** (1 + (failures - free) // factor))


@dataclass(frozen=True)
class Attempt:
    at: str
    account: str
    client: str
    outcome: Outcome


@dataclass(frozen=True)
class Result:
    user: User | None
    message: str | None
    """What to tell the person at the keyboard when ``user`` is None."""


WRONG = "That user name and password do not match."


class SignIns(SqliteFile):
    schema = """
CREATE TABLE IF NOT EXISTS sign_ins (at REAL NOT NULL, account TEXT NOT NULL, client TEXT NOT NULL,
                                     outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sign_ins_account ON sign_ins (account, at);
CREATE INDEX IF NOT EXISTS sign_ins_client ON sign_ins (client, at);
"""

    def __init__(self, path: Path, users: UserStore, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path)
        self.users, self.clock = users, clock

    def sign_in(self, name: str, password: str, client: str) -> Result:
        """Check ``password`` for ``name`` unless recent failures make this attempt wait; record it."""
        name, client = name.strip()[:200], (client or "unknown")[:100]
        account = name if self.users.get(name) else "unknown:" + hashlib.sha256(name.encode()).hexdigest()[:12]
        now = self.clock()
        wait = self.wait(account, client, now)
        if wait > 0:
            self._record(now, account, client, "throttled")
            minutes = math.ceil(wait / 60)
            when = f"{math.ceil(wait)} seconds" if wait < 60 else f"{minutes} minute{'s' * (minutes > 1)}"
            return Result(None, f"Too many failed sign-ins. Try again in {when}.")
        user = self.users.verify(name, password)
        self._record(now, account, client, "ok" if user else "failed")
        return Result(user, None if user else WRONG)

    def change_password(self, name: str, old: str, new: str, client: str) -> str | None:
        """A signed-in user changes their own password; the current one is checked (and throttled, and
        recorded) as a sign-in is. Returns what went wrong, or None when it is changed."""
        checked = self.sign_in(name, old, client)
        if checked.user is None:
            return "The current password is not right." if checked.message == WRONG else checked.message
        try:
            self.users.set_password(name, new)
        except UserError as exc:
            return str(exc)
        return None

    def wait(self, account: str, client: str, now: float) -> float:
        """Seconds until ``account`` from ``client`` may try again (0: now)."""
        since = now - WINDOW_S
        with closing(self._connect()) as db:
            last_ok = db.execute("SELECT MAX(rowid) FROM sign_ins WHERE account = ? AND outcome IN "
                                 "('ok', 'unlocked')", (account,)).fetchone()[0] or 0
            by_account = db.execute("SELECT COUNT(*), MAX(at) FROM sign_ins WHERE account = ? AND outcome = "
                                    "'failed' AND at > ? AND rowid > ?", (account, since, last_ok)).fetchone()
            by_client = db.execute("SELECT COUNT(*), MAX(at) FROM sign_ins WHERE client = ? AND outcome = "
                                   "'failed' AND at > ?", (client, since)).fetchone()
        waits = [(last or now) + delay_after(n, factor) - now
                 for (n, last), factor in ((by_account, 1), (by_client, CLIENT_FACTOR))]
        return max(0.0, *waits)

    def unlock(self, name: str) -> None:
        """An admin lifts the account's backoff (``waymark users unlock NAME``); recorded like an attempt."""
        self._record(self.clock(), name, "admin", "unlocked")

    def _record(self, at: float, account: str, client: str, outcome: Outcome) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT INTO sign_ins VALUES (?, ?, ?, ?)", (at, account, client, outcome))

    def recent(self, limit: int = 200) -> list[Attempt]:
        """The newest attempts first, for the Audit page."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT at, account, client, outcome FROM sign_ins ORDER BY at DESC LIMIT ?",
                              (limit,)).fetchall()
        return [Attempt(datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds"), a, c, o)
                for at, a, c, o in rows]


def client_key(peer: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The address sign-in throttling counts a client by. Behind ``trusted_proxies`` proxies of yours, the
    nearest address they saw (what they appended to ``X-Forwarded-For``, counted from the right: what a client
    writes into the header itself sits to the left and is ignored); otherwise the connection's peer."""
    if trusted_proxies and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies][:64]
    return (peer or "unknown")[:64]
