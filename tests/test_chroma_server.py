"""Server mode: WAYMARK_CHROMA_URL against a real `chroma run` on 127.0.0.1 and a free port."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes import invoke


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]) -> Iterator[str]:
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail("the `chroma` command from the chromadb package is missing")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("chroma server did not start:\n" + (path / "server.log").read_text())
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_ingest_search_list_remove_through_a_chroma_server(
        chroma_url: str, tmp_path: Path, sample_corpus: Path) -> None:
    env = {"WAYMARK_CHROMA_URL": chroma_url, "WAYMARK_COLLECTION": "servertest"}
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("dpia-for-ai-projects.en.pdf", "evaluation-pilotes-ia.fr.docx"):
        shutil.copy(sample_corpus / name, folder)
    data = tmp_path / "local"  # the lexical cache stays local; the index lives on the server

    first = invoke(data, "ingest", str(folder), env=env)
    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stdout
    again = invoke(data, "ingest", str(folder), env=env)
    assert "2 unchanged" in again.stdout
    assert not (data / "chroma").exists(), "server mode must not create an embedded database"

    hits = json.loads(invoke(data, "search", "How long does an AI pilot last?", "--json", env=env).stdout)
    assert hits["results"][0]["source"] == "evaluation-pilotes-ia.fr.docx"

    listed = json.loads(invoke(data, "docs", "list", "--json", env=env).stdout)
    assert [d["source"] for d in listed] == ["dpia-for-ai-projects.en.pdf", "evaluation-pilotes-ia.fr.docx"]
    assert invoke(data, "docs", "remove", "evaluation-pilotes-ia.fr.docx", env=env).returncode == 0

    # a second client (a fresh process, fresh local dir) sees the same server-side state
    other = invoke(tmp_path / "other", "docs", "list", "--json", env=env)
    assert [d["source"] for d in json.loads(other.stdout)] == ["dpia-for-ai-projects.en.pdf"]
    after = json.loads(invoke(tmp_path / "other", "search", "pilot duration", "--json", env=env).stdout)
    assert {r["source"] for r in after["results"]} == {"dpia-for-ai-projects.en.pdf"}
