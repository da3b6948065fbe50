"""Studies: the figure scripts behind docs/benchmarks.md, docs/guardrails.md and the decision records.

Each runs as ``python -m evals.studies.NAME`` and prints its table: ``answer_quality`` (a suite through
each system), ``baseline`` (the plain LangChain chain it compares with), ``evidence_recall``,
``guardrail_figures``, ``direct_injection`` and ``indirect_injection``. Cases come from shipped suites
(``evals.suite.load``) or from ``../shared/data`` beside a checkout (``evals.suite.SHARED``); indexes are
kept in ``cache_dir(name)`` under the data directory, never in the source tree. Public names: ``cache_dir``.
"""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings


def cache_dir(name: str) -> Path:
    """Where a study keeps the index it builds for ``name`` (reused by later runs)."""
    return Settings().data_dir / "studies" / name
