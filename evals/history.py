"""Stored eval runs (SQLite, ``<data dir>/evals.sqlite``): every run's report with its fingerprint,
for trends and comparisons. A run is written once, whole, in one transaction."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass

from assistant.sqlite_file import SqliteFile
from evals.runner import Report

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    suite TEXT NOT NULL,
    report TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class RunSummary:
    id: int
    created: str
    suite: str
    model: str
    policy: str
    commit: str
    cases: int
    errors: int


class RunStore(SqliteFile):
    schema = _SCHEMA

    def save(self, report: Report) -> int:
        with closing(self._connect()) as db, db:
            cur = db.execute("INSERT INTO runs (created, suite, report) VALUES (?, ?, '')",
                             (report.created, report.suite))
            run_id = int(cur.lastrowid or 0)
            report.run_id = run_id
            db.execute("UPDATE runs SET report = ? WHERE id = ?", (report.model_dump_json(), run_id))
        return run_id

    def get(self, ref: str | int) -> Report:
        """A run by id, or ``latest`` / ``latest:SUITE``, or ``previous`` / ``previous:SUITE`` (the one before)."""
        run_id = self._resolve(str(ref))
        with closing(self._connect()) as db:
            row = db.execute("SELECT report FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no eval run {ref} (see `waymark eval list`)")
        return Report.model_validate_json(row[0])

    def _resolve(self, ref: str) -> int:
        if ref.isdigit():
            return int(ref)
        which, _, suite = ref.partition(":")
        if which not in ("latest", "previous"):
            raise KeyError(f"{ref!r} is not a run id, latest[:SUITE] or previous[:SUITE]")
        sql = "SELECT id FROM runs" + (" WHERE suite = ?" if suite else "") + " ORDER BY id DESC LIMIT 2"
        with closing(self._connect()) as db:
            ids = [r[0] for r in db.execute(sql, (suite,) if suite else ())]
        index = 0 if which == "latest" else 1
        if len(ids) <= index:
            raise KeyError(f"no {which} eval run{' of ' + suite if suite else ''} (see `waymark eval list`)")
        return int(ids[index])

    def reports(self, suite: str, limit: int = 20) -> list[Report]:
        """The suite's last ``limit`` runs, oldest first (for trends)."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT report FROM runs WHERE suite = ? ORDER BY id DESC LIMIT ?",
                              (suite, limit)).fetchall()
        return [Report.model_validate_json(raw) for (raw,) in reversed(rows)]

    def list(self, suite: str | None = None, limit: int = 50) -> list[RunSummary]:
        """Newest first; read from the stored reports' JSON without parsing each report whole."""
        sql = ("SELECT id, created, suite, json_extract(report, '$.fingerprint.model'), "
               "json_extract(report, '$.fingerprint.policy'), json_extract(report, '$.fingerprint.commit'), "
               "json_array_length(report, '$.cases'), coalesce(json_extract(report, '$.statuses.error'), 0) "
               "FROM runs" + (" WHERE suite = ?" if suite else "") + " ORDER BY id DESC LIMIT ?")
        with closing(self._connect()) as db:
            rows = db.execute(sql, (suite, limit) if suite else (limit,)).fetchall()
        return [RunSummary(*row) for row in rows]
