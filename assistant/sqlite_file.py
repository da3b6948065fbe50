"""A small SQLite file with its schema, opened for each operation (safe across threads and processes)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import ClassVar


class SqliteFile:
    schema: ClassVar[str] = ""
    """The ``CREATE ... IF NOT EXISTS`` statements run when the file is opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(self.schema)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)
