"""Every version of every policy, and which one is in force (SQLite).

AI champions activate a policy file; the store keeps its text with author, time, reason and
content hash, and records the activation. Rolling back activates an earlier version again: the
history only grows. A policy that does not validate is never stored or activated, so the last
good one stays in force. ``LiveRails`` serves the active version to the answer path and picks up
a newly activated one on the next question, keeping the last good one if the new one fails.
"""

from __future__ import annotations

import difflib
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from guardrails.contracts import Citation, PassageResult, StageResult
from guardrails.engine import PolicyRails
from guardrails.policy import Policy, PolicyError
from knowledge.models import SearchHit

log = logging.getLogger(__name__)

ANY = object()
"""``expected=ANY``: activate whatever is in force now (no check that it did not move); else ``expected``
is a version id, or None for "no policy in force"."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, label TEXT NOT NULL, digest TEXT NOT NULL,
    content TEXT NOT NULL, author TEXT NOT NULL, reason TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS activations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL REFERENCES versions(id),
    author TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Version:
    id: int
    name: str
    label: str
    digest: str
    content: str
    author: str
    reason: str
    created: str
    active: bool = False

    def policy(self) -> Policy:
        return Policy.from_yaml(self.content, f"version {self.id}")


class PolicyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    # --- reading ------------------------------------------------------------------------------
    def active_id(self) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT version FROM activations ORDER BY id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else None

    def get(self, version: int) -> Version:
        with self._db() as db:
            row = db.execute("SELECT * FROM versions WHERE id = ?", (version,)).fetchone()
        if row is None:
            raise PolicyError(f"no policy version {version} (see `waymark policy history`)")
        return Version(**dict(row), active=version == self.active_id())

    def active(self) -> Version | None:
        version = self.active_id()
        return self.get(version) if version is not None else None

    def history(self) -> list[Version]:
        """Every version, newest first."""
        active = self.active_id()
        with self._db() as db:
            rows = db.execute("SELECT * FROM versions ORDER BY id DESC").fetchall()
        return [Version(**dict(r), active=r["id"] == active) for r in rows]

    def activations(self) -> list[tuple[int, str, str, str]]:
        """(version, author, reason, time) of every activation, newest first."""
        with self._db() as db:
            rows = db.execute("SELECT version, author, reason, at FROM activations ORDER BY id DESC").fetchall()
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def diff(self, a: int, b: int) -> str:
        va, vb = self.get(a), self.get(b)
        return "".join(difflib.unified_diff(va.content.splitlines(keepends=True), vb.content.splitlines(keepends=True),
                                            f"v{a} {va.label}", f"v{b} {vb.label}"))

    # --- changing -----------------------------------------------------------------------------
    def activate(self, content: str, author: str, reason: str, source: str = "<policy>",
                 check: Callable[[Policy], object] | None = None, expected: object = ANY) -> Version:
        """Validate ``content`` (and ``check`` it, e.g. that its rails start), store it as a new version
        unless it is the active one already, and put it in force. Raises ``PolicyError`` and changes
        nothing when it is invalid, and ``StaleDraft`` when ``expected`` (the version in force the
        caller checked it against) is no longer in force: one of two racing activations wins."""
        policy = _checked(Policy.from_yaml(content, source), reason, check)
        now = _now()
        with closing(self._db()) as db, db:
            current = _in_force(db, expected)
            if current is not None and current["content"] == content:
                return self.get(int(current["id"]))
            cur = db.execute("INSERT INTO versions (name, label, digest, content, author, reason, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (policy.name, policy.label, policy.digest, content, author, reason, now))
            version = int(cur.lastrowid or 0)
            _activation(db, version, author, reason, now)
        return self.get(version)

    def rollback(self, version: int, author: str, reason: str,
                 check: Callable[[Policy], object] | None = None, expected: object = ANY) -> Version:
        """Put an earlier version in force again (recorded as a new activation); ``expected`` as for
        ``activate``."""
        _checked(self.get(version).policy(), reason, check)
        with closing(self._db()) as db, db:
            _in_force(db, expected)
            _activation(db, version, author, reason, _now())
        return self.get(version)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _checked(policy: Policy, reason: str, check: Callable[[Policy], object] | None) -> Policy:
    """``policy``, or ``PolicyError`` unless there is a reason and the policy passes ``check``."""
    if not reason.strip():
        raise PolicyError("say why (a reason is recorded with every activation)")
    if check is not None:
        check(policy)
    return policy


def _in_force(db: sqlite3.Connection, expected: object) -> sqlite3.Row | None:
    """The version in force (id, content), in a write transaction taken now; ``StaleDraft`` unless it is
    ``expected``."""
    db.execute("BEGIN IMMEDIATE")  # no other activation can slip in between this check and the write
    current: sqlite3.Row | None = db.execute(
        "SELECT v.id, v.content FROM activations a JOIN versions v ON v.id = a.version "
        "ORDER BY a.id DESC LIMIT 1").fetchone()
    now = int(current["id"]) if current is not None else None
    if expected is not ANY and now != expected:
        raise StaleDraft(expected if isinstance(expected, int) else None, now)
    return current


class StaleDraft(PolicyError):
    """The policy in force moved since the caller looked: nothing was changed."""

    def __init__(self, expected: int | None, now: int | None) -> None:
        self.expected, self.now = expected, now
        def name(v: int | None) -> str:
            return f"v{v}" if v is not None else "no policy"

        super().__init__(f"the policy in force is now {name(now)}, not {name(expected)} as when this draft was "
                         "prepared; nothing was changed and the draft is kept: review what changed, then try again")


def _activation(db: sqlite3.Connection, version: int, author: str, reason: str, at: str) -> None:
    db.execute("INSERT INTO activations (version, author, reason, at) VALUES (?, ?, ?, ?)",
               (version, author, reason, at))


class LiveRails:
    """The ``Rails`` of the store's active policy, reloaded when another version is activated; if
    the new one cannot be used, the last good one stays in force (and the failure is logged)."""

    def __init__(self, store: PolicyStore, build: Callable[[Policy], PolicyRails]) -> None:
        self.store = store
        self.build = build
        self._lock = threading.Lock()
        self._version: int | None = None
        self._rails: PolicyRails | None = None
        try:
            self.current()
        except PolicyError:
            raise PolicyError(f"no usable active policy in {store.path} (activate one: "
                              "`waymark policy activate`)") from None

    def current(self) -> PolicyRails:
        with self._lock:
            version = self.store.active_id()
            if version != self._version and version is not None:
                try:
                    self._rails = self.build(self.store.get(version).policy())
                except Exception:
                    log.exception("policy version %s cannot be used; keeping %s", version,
                                  self._rails.policy_version if self._rails else "none")
                self._version = version
            if self._rails is None:
                raise PolicyError("no usable policy is in force")
            return self._rails

    @property
    def policy_version(self) -> str:
        return self.current().policy_version

    def snapshot(self) -> PolicyRails:
        """The policy in force now, for one whole answer."""
        return self.current()

    def check_input(self, question: str, language: str) -> StageResult:
        return self.current().check_input(question, language)

    def check_passages(self, passages: Sequence[SearchHit], language: str) -> PassageResult:
        return self.current().check_passages(passages, language)

    def check_partial(self, answer: str, cited: Collection[int], passages: Sequence[SearchHit],
                      language: str) -> StageResult:
        return self.current().check_partial(answer, cited, passages, language)

    def check_output(self, answer: str, citations: Sequence[Citation], passages: Sequence[SearchHit],
                     language: str) -> StageResult:
        return self.current().check_output(answer, citations, passages, language)
