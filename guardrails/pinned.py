"""Files shipped with their sha256 pinned in the code (trained artefacts): read whole, or refused in one sentence."""

from __future__ import annotations

import hashlib
from pathlib import Path


def read_pinned(path: Path, sha256: str, what: str, error: type[Exception], remedy: str) -> bytes:
    """The bytes of ``path`` if their sha256 is ``sha256``; else ``error`` saying that ``what`` cannot be read or is
    not the one shipped, and ``remedy``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{what} cannot be read ({path.name}: {exc.strerror or exc}); {remedy}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise error(f"{what} is not the one shipped (sha256 {digest[:12]}…, expected {sha256[:12]}…); {remedy}")
    return raw
