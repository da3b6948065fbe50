"""Shared bits for the benchmark scripts."""

from __future__ import annotations

import resource
from pathlib import Path

from evals.suite import PROJECT_CORPORA, REPO, SHARED

__all__ = ["REPO", "SAMPLE", "SHARED", "peak_rss_mb", "replace_section", "table"]
SAMPLE = PROJECT_CORPORA["knowledge/sample_corpus"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def replace_section(path: Path, title: str, body: str) -> None:
    """Write ``## title`` with ``body`` into a Markdown file, replacing that section if present."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    heading = f"## {title}\n"
    block = f"{heading}\n{body.strip()}\n\n"
    if heading in text:
        start = text.index(heading)
        nxt = text.find("\n## ", start + len(heading))
        text = text[:start] + block + (text[nxt + 1:] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
