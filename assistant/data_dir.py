"""The data directory, private to the user Waymark runs as."""

from __future__ import annotations

import os
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
