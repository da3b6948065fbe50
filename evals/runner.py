"""Run a suite through the real answer path and score it: ``waymark eval run``.

The suite's corpus is ingested into an index of its own under the data folder (kept between runs,
re-read only when a file changes); each case goes through the full pipeline (the configured model,
or the suite's fake model, and the policy's rails); answerable questions are also searched directly
for the retrieval metrics. A case that raises is kept as an error, with its message. The report
carries a fingerprint of everything the figures depend on.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from assistant.llm import ChatClient, RetryPolicy
from evals.metrics import CaseResult, MetricValue, compute, failures
from evals.suite import REPO, Case, Gate, Suite, check_tunable
from guardrails.contracts import Answer
from guardrails.redaction import redact_personal_data
from knowledge.loaders import load_document
from knowledge.models import SearchHit

if TYPE_CHECKING:
    from assistant.llm import ChatClient
    from assistant.pipeline import Pipeline
    from assistant.settings import Settings
    from guardrails.policy import Policy
    from knowledge.base import KnowledgeBase
    from knowledge.models import SearchHit

Progress = Callable[[int, int, CaseResult], None]


class Fingerprint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    policy: str
    index: str
    """sha256 (first 16) of the indexed chunks' ids and texts."""
    suite: str
    """sha256 of the suite file."""
    commit: str
    settings: dict[str, Any]
    judge: str | None = None
    """The judge model of the LLM-judge metrics, if any."""


class CaseRecord(BaseModel):
    """One case in the report: enough to drill down without rerunning."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    language: str
    tags: list[str]
    question: str
    status: str
    error: str | None = None
    wall_ms: float
    retrieved: list[str] | None = None
    answer: Answer | None = None
    failed: list[str] = []
    """The case-level metrics this case failed."""


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int | None = None
    suite: str
    created: str
    seconds: float
    fingerprint: Fingerprint
    statuses: dict[str, int]
    gates: list[Gate] = []
    """The suite's gates when it ran: what ``compare --gate`` checks."""
    metrics: dict[str, MetricValue]
    cases: list[CaseRecord]


def planted_hit(text: str) -> SearchHit:
    """A document the attacker controls, as the top search result (source ``planted.html``)."""

    return SearchHit(source="planted.html", title="Submitted content", section=None, language="en", text=text,
                     start=0, end=len(text), page=None, rank=1, chunk_id="planted", score=1.0, similarity=0.95,
                     dense_rank=1, lexical_rank=None)


class PlantedFirst:
    """A searcher that serves a planted document as the top hit, before the real ones."""

    def __init__(self, searcher: Any, text: str) -> None:
        self.searcher = searcher
        self.hit = planted_hit(text)

    def search(self, query: str, k: int | None = None, *, also: Sequence[str] = ()) -> list[SearchHit]:
        return [self.hit, *self.searcher.search(query, k, also=also)][: k or None]


def settings_for(base: Settings, suite: Suite, sets: Sequence[str] = (), policy: str | None = None) -> Settings:
    """A run's settings: the suite's, then ``KEY=VALUE`` overrides, then ``policy``. The suite's corpus
    gets a collection of its own in the same data folder (same policy store and translations)."""
    from pydantic import ValidationError

    from assistant.settings import Settings

    overrides: dict[str, Any] = dict(suite.settings)
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"--set wants KEY=VALUE, got {item!r}")
        overrides[key.strip()] = value
    check_tunable(overrides)
    if policy is not None:
        overrides["policy"] = policy
    corpus = hashlib.sha256(str(suite.corpus_path(base.data_dir)).encode()).hexdigest()[:10]
    overrides |= {"data_dir": base.data_dir, "collection": f"eval-{corpus}", "user": base.user}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def index_for(suite: Suite, settings: Settings, log: Callable[[str], None]) -> tuple[KnowledgeBase, str]:
    """The suite corpus's own index (ingested if new or changed) and its hash."""
    from assistant.service import open_knowledge_base

    folder = suite.corpus_path(settings.data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"the suite's corpus {suite.corpus!r} is not a folder ({folder})")
    kb = open_knowledge_base(settings)
    report = kb.ingestor.ingest([folder])
    if not report.ok:
        log(report.summary())
    translated = 0
    if settings.translate:  # as in the product: translations made by `waymark translate` are searched too
        from assistant.service import translations_path
        from assistant.translation import TranslationStore, index_translations

        translated = index_translations(kb.store, kb.embedder, TranslationStore(translations_path(settings)))
    digest = hashlib.sha256(f"translated:{translated}".encode())
    for c in sorted(kb.store.chunk_records(), key=lambda c: c.id):
        digest.update(c.id.encode() + b"\0" + c.text.encode() + b"\0")
    return kb, digest.hexdigest()[:16]


def documents(folder: Path) -> dict[str, str]:
    from knowledge.ingest import collect_files

    texts: dict[str, str] = {}
    for path in collect_files([folder]):
        try:
            texts[path.name] = load_document(path, 50_000_000).text
        except Exception:  # a file ingestion refused has no citations to check either
            continue
    return texts


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def model_client(suite: Suite, settings: Settings) -> ChatClient:
    from assistant.backends import chat_client
    from assistant.fake_llm import KeyedChatModel

    if suite.fake_model is None:
        return chat_client(settings)
    fake = KeyedChatModel(replies=suite.fake_model.replies, default=suite.fake_model.default)
    return ChatClient(fake, "fake:keyed", RetryPolicy(retries=0), sleep=lambda s: None)


def run(suite: Suite, suite_hash: str, settings: Settings, workers: int = 1, progress: Progress | None = None,
        log: Callable[[str], None] = lambda m: None, judge: ChatClient | None = None,
        judge_repeats: int = 3, policy: Policy | None = None) -> Report:
    """``policy``: judge every case by this policy (the gate's two runs), instead of the settings' policy."""
    from assistant.service import build_pipeline, load_policy, policy_rails

    started = time.perf_counter()
    kb, index_hash = index_for(suite, settings, log)
    texts = documents(suite.corpus_path(settings.data_dir))
    llm = model_client(suite, settings)
    base = build_pipeline(settings, kb, llm, policy_rails(policy, kb.embedder) if policy else None)
    policy = policy or load_policy(settings)

    def pipeline_for(case: Case) -> Pipeline:
        if case.plant is None:
            return base
        return base.replace(searcher=PlantedFirst(kb.retriever, case.plant))

    def one(case: Case) -> CaseResult:
        docs = {**texts, "planted.html": case.plant} if case.plant else texts
        retrieved = None
        t0 = time.perf_counter()
        try:
            if case.kind == "answerable":
                retrieved = [h.source for h in kb.retriever.search(case.question, settings.retrieval.k)]
            t0 = time.perf_counter()
            answer = pipeline_for(case).answer(case.question)
            return CaseResult(case, answer, None, _ms(t0), retrieved, docs)
        except Exception as exc:  # the case is an error in the report, never a silent 0
            return CaseResult(case, None, f"{type(exc).__name__}: {exc}", _ms(t0), retrieved, docs)

    results: list[CaseResult] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i, result in enumerate(pool.map(one, suite.cases), 1):
            results.append(result)
            if progress:
                progress(i, len(suite.cases), result)
    metrics = compute(results)
    if judge is not None:
        from evals.judge import judge_metrics

        log(f"judging the answers with {judge.name} ({judge_repeats} times each)...")
        metrics |= judge_metrics(judge, results, judge_repeats)
    failed = failures(metrics)
    fingerprint = Fingerprint(
        model=llm.name, policy=policy.label if policy else "none", index=index_hash, suite=suite_hash,
        commit=git_commit(), settings=settings.model_dump(mode="json", exclude={"llm_api_key", "user", "data_dir"}),
        judge=judge.name if judge else None)
    return Report(
        suite=suite.suite, created=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 1), fingerprint=fingerprint,
        statuses=dict(Counter(r.status for r in results)), gates=suite.gates, metrics=metrics,
        cases=[CaseRecord(id=r.case.id, kind=r.case.kind, language=r.case.language, tags=r.case.tags,
                          question=_stored_question(r), status=r.status, error=r.error, wall_ms=r.wall_ms,
                          retrieved=r.retrieved, answer=r.answer, failed=failed.get(r.case.id, []))
               for r in results])


def _stored_question(r: CaseResult) -> str:
    """The question as a stored run keeps it: as the input rails passed it (personal data redacted)."""

    return r.answer.question if r.answer is not None else redact_personal_data(r.case.question).text


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)
