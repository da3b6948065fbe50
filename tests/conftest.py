"""Shared fixtures. Network is off in tests: only loopback and unix sockets may connect."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "knowledge" / "sample_corpus"
SHARED = REPO.parent / "shared"

for key in [k for k in os.environ if k.startswith(("WAYMARK_", "OPENAI_", "AZURE_OPENAI_"))]:
    del os.environ[key]
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise OSError(f"network is off in tests: refused a connection to {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def sample_corpus() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"needs the shared material at {SHARED} (seeds/ and data/), which is absent")
    return SHARED


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose index holds the sample corpus (read-only; shared by the session)."""
    return tmp_path_factory.mktemp("sample-kb")


@pytest.fixture(scope="session")
def sample_kb(sample_data_dir: Path) -> Any:
    """A knowledge base holding the sample corpus, ingested once for the session (read-only)."""
    from knowledge.base import KnowledgeBase

    kb = KnowledgeBase.open(sample_data_dir)
    report = kb.ingestor.ingest([SAMPLE])
    assert report.ok, [o.line() for o in report.outcomes]
    return kb


def sample_texts() -> dict[str, str]:
    """Each sample document's ingested text (what citation offsets point into)."""
    from knowledge.loaders import load_document

    return {p.name: load_document(p, 50_000_000).text for p in sorted(SAMPLE.iterdir()) if p.is_file()}


def waymark_cmd() -> list[str]:
    """The installed console script, run as users run it."""
    exe = Path(sys.executable).with_name("waymark")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant.cli"]
