"""The embedded LLM: one ``xllamacpp.Server`` per process on 127.0.0.1 and a free port.

It serves an OpenAI-compatible API, so the embedded model goes through exactly the same
client code as OpenAI, Azure, vLLM or Ollama. The server starts on first use and is shut
down at interpreter exit (or by ``stop()``).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerSpec:
    model_path: Path
    context: int = 4096
    threads: int | None = None


class LocalServerError(RuntimeError):
    """The embedded model could not be started."""


class _Running:
    def __init__(self, spec: ServerSpec, server: Any) -> None:
        self.spec = spec
        self.server = server
        self.base_url = str(server.listening_address).rstrip("/") + "/v1"


_lock = threading.Lock()
_running: _Running | None = None


def start(spec: ServerSpec) -> str:
    """The ``/v1`` base URL of the embedded server for ``spec``, starting it if needed.

    One server per process: asking for a different model stops the previous one first.
    """
    global _running
    with _lock:
        if _running is not None and _running.spec == spec:
            return _running.base_url
        _stop_locked()
        if not spec.model_path.is_file():
            raise LocalServerError(f"model file not found: {spec.model_path}")
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - xllamacpp is a dependency
            raise LocalServerError(f"the embedded runtime is not installed: {exc}") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(spec.model_path)
        params.n_ctx = spec.context
        params.n_parallel = 1
        threads = spec.threads or max(1, os.cpu_count() or 1)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.port = 0  # a free port, chosen by the OS
        params.hostnames = ["127.0.0.1"]
        params.endpoint_metrics = False
        params.verbosity = -1
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:
            raise LocalServerError(f"the embedded model failed to start: {exc}") from None
        _running = _Running(spec, server)
        log.info("embedded model %s serving on %s", spec.model_path.name, _running.base_url)
        return _running.base_url


def _stop_locked() -> None:
    global _running
    if _running is not None:
        server, _running = _running.server, None
        del server  # xllamacpp stops its loop and frees the model when the object is released


def stop() -> None:
    with _lock:
        _stop_locked()


def running_url() -> str | None:
    return _running.base_url if _running else None


atexit.register(stop)
