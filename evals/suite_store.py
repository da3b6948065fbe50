"""The data directory's own eval suites (SQLite, ``<data dir>/suites.sqlite``): added by evaluators and
admins, validated before they are kept, every version kept. A policy's gate may name these or the
shipped suites, never a file: ``waymark eval suites add FILE --name NAME``.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.sqlite_file import SqliteFile
from evals.suite import Suite, SuiteError, load, parse, shipped_names, shipped_path
from guardrails.policy import SUITE_NAME

_SCHEMA = """
CREATE TABLE IF NOT EXISTS suites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    content BLOB NOT NULL,
    jsonl INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    author TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (name, version)
);
"""

MAX_BYTES = 5_000_000
"""A suite file larger than this is refused (the shipped golden suite is 40 kB)."""


@dataclass(frozen=True)
class StoredSuite:
    name: str
    version: int
    sha256: str
    author: str
    created: str
    cases: int


class SuiteStore(SqliteFile):
    schema = _SCHEMA

    def __init__(self, path: Path, data_dir: Path) -> None:
        super().__init__(path)
        self.data_dir = data_dir

    def add(self, name: str, content: bytes, author: str, jsonl: bool = False) -> StoredSuite:
        """Validate ``content`` as a suite (its corpus must be one Waymark may read) and keep it as the next
        version of ``name``. Raises ``SuiteError`` and keeps nothing when it is not usable."""
        if not re.fullmatch(SUITE_NAME, name):
            raise SuiteError(f"{name!r} is not a suite name (lower-case letters, digits, - and _)")
        if name == "rules" or shipped_path(name) is not None:
            raise SuiteError(f"{name!r} is a shipped suite's name; choose another (shipped: "
                             f"{', '.join([*shipped_names(), 'rules'])})")
        if len(content) > MAX_BYTES:
            raise SuiteError(f"the suite file is {len(content):,} bytes; at most {MAX_BYTES:,} are kept")
        suite = parse(content, f"suite {name}", name, jsonl)
        suite.corpus_path(self.data_dir)  # refuses a corpus outside the allowed folders
        digest = hashlib.sha256(content).hexdigest()
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            db.execute("BEGIN IMMEDIATE")
            version = int(db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM suites WHERE name = ?",
                                     (name,)).fetchone()[0])
            db.execute("INSERT INTO suites (name, version, content, jsonl, sha256, author, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (name, version, content, int(jsonl), digest, author, created))
        return StoredSuite(name, version, digest, author, created, len(suite.cases))

    def get(self, name: str, version: int | None = None) -> tuple[Suite, str]:
        """(the suite, its sha256): the newest version of ``name``, or ``version``."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT content, jsonl, sha256 FROM suites WHERE name = ? "
                             + ("AND version = ? " if version is not None else "")
                             + "ORDER BY version DESC LIMIT 1",
                             (name, version) if version is not None else (name,)).fetchone()
        if row is None:
            raise SuiteError(f"no suite named {name!r} (shipped: {', '.join([*shipped_names(), 'rules'])}; "
                             f"stored: {', '.join(self.names()) or 'none'})")
        return parse(bytes(row[0]), f"suite {name}", name, bool(row[1])), str(row[2])

    def names(self) -> list[str]:
        with closing(self._connect()) as db:
            return [r[0] for r in db.execute("SELECT DISTINCT name FROM suites ORDER BY name")]

    def versions(self) -> list[StoredSuite]:
        """Every stored version, newest first."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT name, version, content, jsonl, sha256, author, created FROM suites "
                              "ORDER BY id DESC").fetchall()
        return [StoredSuite(n, v, sha, a, c, len(parse(bytes(raw), n, n, bool(j)).cases))
                for n, v, raw, j, sha, a, c in rows]


def suite_store(data_dir: Path) -> SuiteStore:
    return SuiteStore(data_dir / "suites.sqlite", data_dir)


def load_named(name: str, data_dir: Path) -> tuple[Suite, str]:
    """A suite by name only, as a policy's gate names it: a shipped one, else the data directory's."""
    found = shipped_path(name)
    if found is not None:
        raw = found.read_bytes()
        return parse(raw, found.name, found.stem, found.suffix == ".jsonl"), hashlib.sha256(raw).hexdigest()
    return suite_store(data_dir).get(name)


def load_any(name_or_path: str, data_dir: Path) -> tuple[Suite, str]:
    """The command line's lookup: a shipped suite, a stored one, else a file (the operator's own)."""
    if shipped_path(name_or_path) is None and re.fullmatch(SUITE_NAME, name_or_path):
        store = suite_store(data_dir)
        if name_or_path in store.names():
            return store.get(name_or_path)
    return load(name_or_path)


def available(data_dir: Path) -> list[str]:
    """Every suite name a gate or the evaluations page may use (``rules`` aside)."""
    return [*shipped_names(), *suite_store(data_dir).names()]
