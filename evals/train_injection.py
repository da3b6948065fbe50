"""Train the injection classifier (``guardrails/injection_model.py``) from ``../shared/data/injection-train``.

    python -m evals.train_injection [--write] [--seed 7] [--cache DIR]

Reproducible from its seed: the same files give the same rows, the same split, the same weights. Steps:
1. rows: S-Labs and neuralchemy ``core`` (their train and validation splits for training, their test splits for
   validation), yanismiraoui's multilingual injections and Waymark's in-domain rows, written for it in six
   languages (ordinary questions: ``guardrails/data/benign_questions.yaml`` and ``benign_hard_negatives.yaml``;
   attacks: ``attack_examples.yaml``), each split 80/20 by a seeded hash of its text;
2. deduplicated: within the pool (normalised text; a text with both labels is dropped), then against every
   set the figures are reported on (XSTest, CyberSecEval, Presidio, Waymark's suites and held-out questions):
   equal normalised text, equal normalised 60-character prefix, or cosine > 0.95 of the rail embeddings;
3. features: the rails' own embedding (``service.rail_tools``: e5-small query, head and tail of 48 tokens)
   and two cheap ones (``injection_model.features``); cached by text under ``--cache``;
4. an L2-regularised logistic regression fitted by Newton's method, classes balanced, in-domain rows weighted;
5. the threshold: the lowest (so the highest recall) with, on the validation split, in-domain ordinary
   questions refused <= 2% and other ordinary rows refused <= 3%; of the grid ``IN_DOMAIN_WEIGHTS`` x ``L2S``,
   the model whose threshold blocks most validation attacks.
Prints the figures; ``--write`` writes the artefact, pins its sha256 in ``guardrails/injection_model.py`` and
draws the validation precision/recall curve to ``docs/injection-classifier-pr.svg``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from evals.plots import curve_svg
from evals.suite import REPO, SHARED
from guardrails.injection_model import ARTEFACT, FEATURES, InjectionModel, Validation, features

TRAIN = SHARED / "data" / "injection-train"
BENIGN = REPO / "guardrails" / "data" / "benign_questions.yaml"
HARD_NEGATIVES = REPO / "guardrails" / "data" / "benign_hard_negatives.yaml"
"""In-domain ordinary questions that mention prompts, rules, administrators or injections."""
ATTACKS = REPO / "guardrails" / "data" / "attack_examples.yaml"
"""In-domain attacks in six languages (the public sets have few in Hebrew or Danish)."""
HELD_OUT = REPO / "evals" / "data" / "benign_heldout.yaml"
CURVE = REPO / "docs" / "injection-classifier-pr.svg"
MODULE = REPO / "guardrails" / "injection_model.py"

IN_DOMAIN_WEIGHTS = (5.0, 20.0, 40.0, 80.0)
"""In-domain ordinary questions are a few hundred rows among thousands; weighted so that they count. The weight
and the L2 penalty are chosen on the validation split: the pair whose threshold (below) blocks most attacks."""
L2S = (0.01, 0.03, 0.1, 1.0)
MAX_IN_DOMAIN_REFUSED, MAX_GENERAL_REFUSED = 0.02, 0.03
RULE = (f"of a grid of in-domain weights and L2 penalties, the model blocking most validation attacks at its "
        f"lowest threshold with validation in-domain ordinary questions refused <= {MAX_IN_DOMAIN_REFUSED:.0%} "
        f"and other ordinary rows refused <= {MAX_GENERAL_REFUSED:.0%}")


@dataclass(frozen=True)
class Row:
    text: str
    label: int
    """1: an attack (injection or jailbreak); 0: ordinary."""
    source: str
    split: str
    """``train`` or ``validation``."""

    @property
    def in_domain(self) -> bool:
        return self.source == "waymark"


# --- rows ----------------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())


def hashed_split(text: str, seed: int, validation: float = 0.2) -> str:
    h = int(hashlib.sha256(f"{seed}\x00{text}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "validation" if h < validation else "train"


def raw_rows(seed: int) -> list[Row]:
    import pyarrow.parquet as pq

    rows: list[Row] = []
    for name, split in (("train", "train"), ("validation", "train"), ("test", "validation")):
        with (TRAIN / "s-labs" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            rows += [Row(r["text"], int(r["label"]), "s-labs", split) for r in csv.DictReader(f)]
        for r in pq.read_table(TRAIN / "neuralchemy" / f"core-{name}.parquet").to_pylist():
            rows.append(Row(str(r["text"]), int(r["label"]), "neuralchemy", split))
    with (TRAIN / "yanismiraoui" / "prompt_injections.csv").open(encoding="utf-8", newline="") as f:
        rows += [Row(r["prompt_injections"], 1, "yanismiraoui", hashed_split(r["prompt_injections"], seed))
                 for r in csv.DictReader(f)]
    for path, key, label in ((BENIGN, "questions", 0), (HARD_NEGATIVES, "questions", 0), (ATTACKS, "attacks", 1)):
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))[key]:
            rows.append(Row(str(q["text"]), label, "waymark", hashed_split(str(q["text"]), seed)))
    return [r for r in rows if r.text and r.text.strip()]


def reported_texts() -> dict[str, list[str]]:
    """Every text a figure is reported on, by set: no training row may be (nearly) one of them."""
    data = SHARED / "data"
    with (data / "xstest_prompts.csv").open(encoding="utf-8", newline="") as f:
        xstest = [r["prompt"] for r in csv.DictReader(f)]
    cse = [c["user_input"] for c in json.loads((data / "cyberseceval_prompt_injection.json").read_text("utf-8"))]
    presidio = [s["full_text"] for s in json.loads((data / "presidio_synth_dataset_v2.json").read_text("utf-8"))]
    suites = [str(c["question"]) for p in sorted((REPO / "evals" / "suites").glob("*.yaml"))
              for c in (yaml.safe_load(p.read_text(encoding="utf-8")) or {}).get("cases", []) if c.get("question")]
    held = [str(q["text"]) for q in yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["questions"]]
    return {"xstest": xstest, "cyberseceval": cse, "presidio": presidio, "suites": suites, "held-out": held}


def within_pool(rows: list[Row]) -> tuple[list[Row], Counter[str]]:
    """One row per normalised text; a text seen with both labels is dropped (its label is unclear)."""
    labels: dict[str, set[int]] = {}
    for r in rows:
        labels.setdefault(normalise(r.text), set()).add(r.label)
    seen: set[str] = set()
    kept: list[Row] = []
    dropped: Counter[str] = Counter()
    for r in rows:
        key = normalise(r.text)
        if len(labels[key]) > 1:
            dropped["both labels"] += 1
        elif key in seen:
            dropped["duplicate"] += 1
        else:
            seen.add(key)
            kept.append(r)
    return kept, dropped


def against_reported(rows: list[Row], vectors: NDArray[np.float32], reported: dict[str, list[str]],
                     reported_vectors: NDArray[np.float32]) -> tuple[NDArray[np.bool_], Counter[str]]:
    """Which rows to keep: none equal to, sharing a 60-character prefix with, or nearer than 0.95 (cosine) to a
    reported text."""
    texts = [t for group in reported.values() for t in group]
    full = {normalise(t) for t in texts}
    prefixes = {normalise(t)[:60] for t in texts if len(normalise(t)) >= 20}
    keep = np.ones(len(rows), dtype=bool)
    why: Counter[str] = Counter()
    for i, r in enumerate(rows):
        key = normalise(r.text)
        if key in full:
            keep[i], why["equal text"] = False, why["equal text"] + 1
        elif len(key) >= 20 and key[:60] in prefixes:
            keep[i], why["same 60-character prefix"] = False, why["same 60-character prefix"] + 1
    for start in range(0, len(rows), 2048):
        near = (vectors[start:start + 2048] @ reported_vectors.T).max(axis=1) > 0.95
        for j in np.nonzero(near & keep[start:start + 2048])[0]:
            keep[start + j] = False
            why["cosine > 0.95"] += 1
    return keep, why


# --- features ----------------------------------------------------------------------------------------------
class Embeddings:
    """The rails' embedding of each text, cached on disk by text (an ``.npz`` per ``FEATURES``)."""

    def __init__(self, cache: Path, threads: int | None) -> None:
        from assistant.service import rail_tools
        from knowledge.embeddings import E5Embedder

        self.path = cache / f"injection-train-{hashlib.sha256(FEATURES.encode()).hexdigest()[:12]}.npz"
        self.embed = rail_tools(E5Embedder(threads)).embed
        self.memory: dict[str, NDArray[np.float32]] = {}
        if self.path.exists():
            with np.load(self.path) as saved:
                self.memory = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))

    def __call__(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> NDArray[np.float32]:
        key = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        todo = sorted({k: t for k, t in zip(key, texts, strict=True) if k not in self.memory}.items())
        for i in range(0, len(todo), 64):
            part = todo[i:i + 64]
            assert self.embed is not None
            for (k, _), v in zip(part, self.embed([t for _, t in part]), strict=True):
                self.memory[k] = np.asarray(v, dtype=np.float32)
            if progress:
                progress(min(i + 64, len(todo)), len(todo))
        if todo:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = sorted(self.memory)
            np.savez(self.path, keys=np.asarray(keys), vectors=np.stack([self.memory[k] for k in keys]))
        return np.stack([self.memory[k] for k in key]) if key else np.zeros((0, 384), dtype=np.float32)


def design(rows: list[Row], vectors: NDArray[np.float32]) -> NDArray[np.float64]:
    return np.stack([features(v, r.text) for r, v in zip(rows, vectors, strict=True)])


# --- fitting -------------------------------------------------------------------------------------------------
def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
    return out


def fit(x: NDArray[np.float64], y: NDArray[np.float64], weight: NDArray[np.float64], l2: float = 1.0,
        steps: int = 30) -> tuple[NDArray[np.float64], float]:
    """Weighted, L2-regularised logistic regression by Newton's method (deterministic; the bias unpenalised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = sigmoid(xb @ w)
        grad = xb.T @ (weight * (p - y)) + penalty * w
        hess = (xb * (weight * p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return w[:-1], float(w[-1])


def balanced(rows: list[Row], in_domain_weight: float) -> NDArray[np.float64]:
    y = np.asarray([r.label for r in rows])
    w = np.where(y == 1, len(y) / (2 * max(1, int(y.sum()))), len(y) / (2 * max(1, int((1 - y).sum()))))
    out: NDArray[np.float64] = w * np.asarray([in_domain_weight if r.in_domain else 1.0 for r in rows])
    return out


def choose_threshold(p: NDArray[np.float64], rows: list[Row]) -> float:
    y = np.asarray([r.label for r in rows])
    domain = np.asarray([r.in_domain for r in rows])
    best = 0.99
    for t in np.round(np.arange(0.99, 0.009, -0.01), 2):
        if refused(p, y, domain, t) <= MAX_IN_DOMAIN_REFUSED and refused(p, y, ~domain, t) <= MAX_GENERAL_REFUSED:
            best = float(t)
        else:
            break
    return best


def refused(p: NDArray[np.float64], y: NDArray[Any], mask: NDArray[np.bool_], t: float) -> float:
    sel = (y == 0) & mask
    return float((p[sel] >= t).mean()) if sel.any() else 0.0


# --- the curve ---------------------------------------------------------------------------------------------
def svg_curve(p: NDArray[np.float64], y: NDArray[Any], chosen: float) -> str:
    """Precision against recall on the validation split."""
    points = []
    for t in np.round(np.arange(0.01, 1.0, 0.01), 2):
        hit = p >= t
        tp = int((hit & (y == 1)).sum())
        if hit.sum():
            points.append((tp / max(1, int((y == 1).sum())), tp / int(hit.sum()), float(t)))
    return curve_svg(points, chosen, "Injection classifier, validation split", "recall (validation attacks)")


# --- the command ----------------------------------------------------------------------------------------------
def digest(rows: Iterable[Row]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r.label}\x00{r.text}\x01".encode())
    return h.hexdigest()


def pin(sha256: str, module: Path = MODULE) -> None:
    """Write ``sha256`` into ``module``'s ``PINNED_SHA256 = "…"`` line (a shipped artefact's pin)."""
    text = module.read_text(encoding="utf-8")
    new, n = re.subn(r'^PINNED_SHA256 = "[0-9a-f]{64}"$', f'PINNED_SHA256 = "{sha256}"', text, count=1, flags=re.M)
    if n != 1:
        raise SystemExit(f"cannot find the PINNED_SHA256 line in {module}")
    module.write_text(new, encoding="utf-8")


def train(seed: int, cache: Path, threads: int | None, say: Callable[[str], None] = print,
          ) -> tuple[InjectionModel, NDArray[np.float64], NDArray[Any]]:
    started = time.monotonic()
    rows, dropped = within_pool(raw_rows(seed))
    say(f"rows: {len(rows)} after removing {sum(dropped.values())} within the pool ({dict(dropped)})")
    embeddings = Embeddings(cache, threads)
    reported = reported_texts()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 15 or done == total:
            last[0] = time.monotonic()
            say(f"  embedded {done}/{total} new texts ({time.monotonic() - started:.0f} s)")

    vectors = embeddings([r.text for r in rows], progress)
    reported_vectors = embeddings([t for group in reported.values() for t in group], progress)
    keep, why = against_reported(rows, vectors, reported, reported_vectors)
    say(f"removed {int((~keep).sum())} rows near a reported set ({dict(why)})")
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    vectors = vectors[keep]
    x = design(rows, vectors)
    y = np.asarray([r.label for r in rows], dtype=np.float64)
    train_mask = np.asarray([r.split == "train" for r in rows])
    train_rows = [r for r, t in zip(rows, train_mask, strict=True) if t]
    val_rows = [r for r, t in zip(rows, train_mask, strict=True) if not t]
    yv = y[~train_mask]
    best: tuple[float, float, float, float, NDArray[np.float64], float, NDArray[np.float64]] | None = None
    for in_domain_weight in IN_DOMAIN_WEIGHTS:
        for l2 in L2S:
            w, b = fit(x[train_mask], y[train_mask], balanced(train_rows, in_domain_weight), l2)
            pv = sigmoid(x[~train_mask] @ w + b)
            t = choose_threshold(pv, val_rows)
            recall = float((pv[yv == 1] >= t).mean())
            say(f"  in-domain weight {in_domain_weight:g}, L2 {l2:g}: threshold {t:.2f}, validation attacks "
                f"blocked {recall:.3f}")
            if best is None or recall > best[0]:
                best = (recall, in_domain_weight, l2, t, w, b, pv)
    assert best is not None
    _, in_domain_weight, l2, threshold, weights, bias, p = best
    domain = np.asarray([r.in_domain for r in val_rows])
    validation = Validation(
        attacks_blocked=round(float((p[yv == 1] >= threshold).mean()), 4),
        in_domain_refused=round(refused(p, yv, domain, threshold), 4),
        general_refused=round(refused(p, yv, ~domain, threshold), 4),
        n_attacks=int((yv == 1).sum()), n_in_domain=int(((yv == 0) & domain).sum()),
        n_general=int(((yv == 0) & ~domain).sum()))
    counts = Counter(f"{r.source}/{r.split}/{'attack' if r.label else 'ordinary'}" for r in rows)
    model = InjectionModel(
        version=datetime.now(UTC).strftime("%Y-%m-%d") + f".seed{seed}", trained_at=datetime.now(UTC).isoformat(
            timespec="seconds"), seed=seed, features=FEATURES, weights=[round(float(w), 6) for w in weights],
        bias=round(bias, 6), threshold=threshold, rule=RULE, l2=l2, in_domain_weight=in_domain_weight,
        training_digest=digest(train_rows),
        rows=dict(sorted(counts.items())), validation=validation)
    say(f"trained on {len(train_rows)} rows, validated on {len(val_rows)} in {time.monotonic() - started:.0f} s; "
        f"in-domain weight {in_domain_weight:g}, L2 {l2:g}, threshold {threshold:.2f} ({RULE})")
    say(f"validation: attacks blocked {validation.attacks_blocked:.3f} (n={validation.n_attacks}), in-domain "
        f"ordinary refused {validation.in_domain_refused:.3f} (n={validation.n_in_domain}), other ordinary "
        f"refused {validation.general_refused:.3f} (n={validation.n_general})")
    return model, p, yv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "waymark")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--write", action="store_true", help="write the artefact, pin it, draw the curve")
    args = parser.parse_args(argv)
    if not TRAIN.is_dir():
        raise SystemExit(f"no training data at {TRAIN} (../shared/data/injection-train beside the checkout)")
    model, p, yv = train(args.seed, args.cache, args.threads)
    if args.write:
        raw = (model.model_dump_json(indent=1) + "\n").encode()
        ARTEFACT.write_bytes(raw)
        pin(hashlib.sha256(raw).hexdigest())
        CURVE.write_text(svg_curve(p, yv, model.threshold), encoding="utf-8")
        print(f"wrote {ARTEFACT.relative_to(REPO)} ({len(raw)} bytes, sha256 pinned) and {CURVE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
