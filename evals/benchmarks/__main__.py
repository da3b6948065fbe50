"""``make bench``: print every benchmark; ``--out FILE`` also writes them as Markdown."""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from evals.benchmarks import abstain, latency, retrieval_xquad, seeds, throughput
from evals.benchmarks.common import REPO, peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="also write the figures to this Markdown file")
    parser.add_argument("--quick", action="store_true", help="smaller runs (200 XQuAD questions, up to 10k chunks)")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "uncommitted"
    parts = [
        "# Waymark benchmarks\n",
        f"Produced by `make bench` (`python -m evals.benchmarks{' --quick' if args.quick else ''}`) on "
        f"{datetime.now(UTC):%Y-%m-%d}, commit {commit}, {platform.processor() or platform.machine()}, "
        f"{_cores()} cores, Python {platform.python_version()}.\n",
    ]

    def section(title: str, body: str) -> None:
        block = f"## {title}\n\n{body}\n"
        print(block, flush=True)
        parts.append(block)

    t0 = time.time()
    section("Cross-lingual retrieval over ../shared/seeds (seeds suite, 90 own cases)", seeds.run())
    section("Retrieval on XQuAD", retrieval_xquad.run(200 if args.quick else None,
                                                       log=lambda s: print(s, file=sys.stderr)))
    section("Abstention threshold (retrieval confidence)", abstain.run())
    section("Ingestion throughput", throughput.run())
    section("Query latency", latency.run((1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)))
    section("Process", f"Peak RSS of the whole benchmark process: {peak_rss_mb():.0f} MB; "
                       f"wall time {time.time() - t0:.0f} s.")
    if args.out:  # sections other scripts recorded (e.g. answer quality) are kept
        kept = _other_sections(args.out, "\n".join(parts))
        args.out.write_text("\n".join(parts) + kept, encoding="utf-8")


def _other_sections(path: Path, new: str) -> str:
    if not path.exists():
        return ""
    old = path.read_text(encoding="utf-8").split("\n## ")[1:]
    return "".join(f"\n## {s.rstrip()}\n" for s in old if f"## {s.splitlines()[0]}\n" not in new)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
