"""The audit record: every answer the app gives, with who asked, when, the conversation it belongs
to, the policy that judged it, and the asker's thumbs up or down (SQLite, ``<data dir>/audit.sqlite``).

What is stored is the ``Answer`` as given: its question is the one the input rails passed (personal
data redacted), so the record holds no more than the model saw. Comments and "what should it have
said" are redacted on the way in. Answers given in the policy studio's test drive are recorded too,
marked with the draft's digest, and kept out of the asker's chat history.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from assistant.sqlite_file import SqliteFile
from guardrails.contracts import Answer
from guardrails.redaction import redact_personal_data

Rating = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    conversation TEXT NOT NULL,
    status TEXT NOT NULL,
    policy TEXT NOT NULL,
    answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_user ON answers (user, conversation);
CREATE TABLE IF NOT EXISTS feedback (
    answer INTEGER PRIMARY KEY REFERENCES answers (id),
    at TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT NOT NULL,
    expected TEXT
);
"""


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    user: str
    conversation: str
    answer: Answer
    rating: Rating | None = None
    comment: str = ""
    expected: str | None = None
    test_drive: str | None = None
    """The digest of the draft policy that judged it, for an answer given in the studio's test drive."""


def new_conversation() -> str:
    return uuid.uuid4().hex[:12]


class AuditStore(SqliteFile):
    schema = _SCHEMA

    def __init__(self, path: Path, redact: Callable[[str], str] | None = None) -> None:
        super().__init__(path)
        self.redact = redact or _redact
        with closing(self._connect()) as db, db:  # files made before test drives were recorded
            columns = {r[1] for r in db.execute("PRAGMA table_info(answers)")}
            if "test_drive" not in columns:
                db.execute("ALTER TABLE answers ADD COLUMN test_drive TEXT")

    def writable(self) -> bool:
        """Whether an answer could be recorded now (a write transaction opens and is rolled back)."""
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            return True
        except sqlite3.Error:
            return False

    def record(self, answer: Answer, user: str, conversation: str, test_drive: str | None = None) -> int:
        """Keep ``answer``; ``test_drive``: the digest of the draft that judged it (the studio's test drive)."""
        with closing(self._connect()) as db, db:
            cur = db.execute("INSERT INTO answers (at, user, conversation, status, policy, answer, test_drive) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (_now(), user, conversation, answer.status, answer.policy_version,
                              answer.model_dump_json(), test_drive))
        return int(cur.lastrowid or 0)

    def rate(self, answer_id: int, user: str, rating: Rating, comment: str = "", expected: str | None = None) -> None:
        """The asker's feedback on their own answer (a later rating replaces an earlier one)."""
        with closing(self._connect()) as db, db:
            row = db.execute("SELECT user FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if row is None or row[0] != user:
                raise PermissionError("only the person who asked can rate an answer")
            db.execute("INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?)",
                       (answer_id, _now(), rating, self.redact(comment.strip()),
                        self.redact((expected or "").strip()) or None))

    def entries(self, user: str | None = None, conversation: str | None = None, status: str | None = None,
                rating: Rating | None = None, limit: int = 200, test_drives: bool = False) -> list[Entry]:
        """Newest first, filtered; test-drive answers only with ``test_drives``."""
        where, args = [] if test_drives else ["a.test_drive IS NULL"], []
        for column, value in (("a.user", user), ("a.conversation", conversation), ("a.status", status),
                              ("f.rating", rating)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = ("SELECT a.id, a.at, a.user, a.conversation, a.answer, f.rating, f.comment, f.expected, a.test_drive "
               "FROM answers a LEFT JOIN feedback f ON f.answer = a.id"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.id DESC LIMIT ?")
        with closing(self._connect()) as db:
            rows = db.execute(sql, (*args, limit)).fetchall()
        return [Entry(i, at, u, c, Answer.model_validate_json(a), r, cm or "", ex, td)
                for i, at, u, c, a, r, cm, ex, td in rows]

    def conversations(self, user: str, limit: int = 20) -> list[tuple[str, str, str]]:
        """The user's conversations, newest first: (id, started, first question)."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT c.conversation, c.started, json_extract(a.answer, '$.question') FROM "
                "(SELECT conversation, MIN(at) AS started, MIN(id) AS first, MAX(id) AS last FROM answers "
                " WHERE user = ? AND test_drive IS NULL GROUP BY conversation) c JOIN answers a ON a.id = c.first "
                "ORDER BY c.last DESC LIMIT ?", (user, limit)).fetchall()
        return [(conv, started, question) for conv, started, question in rows]

    def csv(self, entries: list[Entry]) -> str:
        """Entries as CSV for export (questions as recorded: personal data already redacted)."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["id", "at", "user", "conversation", "status", "policy", "question", "answer", "sources",
                    "rails_failed", "rating", "comment", "expected", "test_drive"])
        for e in entries:
            a = e.answer
            w.writerow([e.id, *map(inert, [
                e.at, e.user, e.conversation, a.status, a.policy_version, a.question, a.answer,
                "; ".join(sorted({c.source for c in a.citations})),
                "; ".join(f"{g.rail}:{g.action}" for g in a.guardrails if g.verdict != "pass"),
                e.rating or "", e.comment, e.expected or "", e.test_drive or ""])])
        return buf.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: str) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading quote (OWASP's advice
    against CSV injection; the quote is visible, the text is kept)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _redact(text: str) -> str:

    return redact_personal_data(text).text


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
