"""The data directory: private to the user Waymark runs as, and what to say when one of its stores fails."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from assistant.settings import Settings


def private_data_dir(settings: Settings) -> Path:
    """Make what Waymark writes readable by its own user only: the process creates files 0600 and folders
    0700 from here on (umask 077), and the data directory itself is 0700 (which also closes files an
    older version left world-readable inside it). Called by every front end before it writes anything."""
    os.umask(0o077)
    path = settings.data_dir
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def store_failure(exc: BaseException) -> str | None:
    """A plain sentence for a store that failed under a command (a full disk, a read-only data directory,
    a damaged file: docs/reliability.md), or None for anything else, which stays a bug to be seen."""
    if said := read_only_failure(exc):
        return said
    advice = ("free space or give write access and run the command again (an interrupted ingest is completed "
              "by the next one); a damaged file must be restored from a backup")
    if isinstance(exc, sqlite3.Error):
        return f"a store in the data directory could not be used: {exc}; {advice}"
    if type(exc).__module__.split(".")[0] == "chromadb":
        return f"the index could not be used: {exc}; {advice}"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):  # read-only: read_only_failure
        return f"a file in the data directory could not be written: {exc.strerror or exc}; {advice}"
    return None


def read_only_failure(exc: BaseException) -> str | None:
    """The plain sentence for a store that could not be written because the data directory is read-only (or
    not ours to write), or None. The embedded index cannot even be read then: Chroma writes when it opens."""
    denied = isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    store = isinstance(exc, sqlite3.Error) or type(exc).__module__.split(".")[0] == "chromadb"
    if not (denied or (store and "readonly database" in str(exc))):
        return None
    return (f"the data directory is read-only ({exc}): Waymark needs write access to it, to read as well (the "
            "embedded index writes to its files when it opens them; a Chroma server, WAYMARK_CHROMA_URL, does "
            "not); give write access and run the command again; nothing was changed")
