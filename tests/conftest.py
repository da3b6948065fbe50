"""Shared fixtures. Network is off in tests: only loopback and unix sockets may connect."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import REPO, SAMPLE, SHARED

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A port nothing listens on, on 127.0.0.1."""
    return _free_port


@contextmanager
def _streamlit_app(env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = _free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "ui/app.py"),
                                   "--server.address", "127.0.0.1", "--server.port", str(port),
                                   "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                  env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError("streamlit did not start: " + log_path.read_text()[-2000:])
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture(scope="session")
def streamlit_app() -> Callable[[dict[str, str], Path], AbstractContextManager[str]]:
    """``with streamlit_app(env, log_path) as url``: the app as `make run` serves it (loopback, a free
    port), started in ``env`` and stopped afterwards; its output goes to ``log_path``."""
    return _streamlit_app
