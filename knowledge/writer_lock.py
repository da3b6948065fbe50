"""One writer at a time per index: an advisory file lock held for a whole ingestion or removal.

The lock is ``fcntl.flock`` on a file in the data directory, named for the collection. The kernel drops it
when its process ends, however it ends (kill -9 included), so a pending record found while holding the
lock belongs to a writer that is gone, and only then is it recovered. It covers the processes of one
machine; several app servers writing one Chroma server need the database's guarantee (issue 20).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class NoSpace(Exception):
    """The index's disk has less free space than an ingest keeps as its floor (``Ingestor``); nothing written."""


class IndexBusy(Exception):
    """Another ingestion or removal is writing this index now; ``str(err)`` says so in one sentence."""


@contextmanager
def writer_lock(path: Path | None) -> Iterator[None]:
    """Hold the index's writer lock (``path`` None: no lock, for a store without a data directory)."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise IndexBusy(f"another ingestion is running on this index (process {holder}); "
                            "try again when it has finished") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def opening_lock(path: Path) -> Iterator[None]:
    """Wait for, then hold, the lock that makes processes open (and so first create) one embedded index one at a
    time: two processes creating a new Chroma directory at once race in its schema migrations ("table collections
    already exists"). A data directory where the lock file cannot be made (read-only) is opened without it: no
    one can be creating the index there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # opening takes a second or two; the kernel drops it if the process dies
        yield
    finally:
        os.close(fd)
