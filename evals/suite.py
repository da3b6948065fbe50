"""Eval suites: the dataset format evaluators and AI champions write (YAML or JSONL).

A suite file holds cases of seven kinds, each checked deterministically:

- ``answerable``: the answer must state every fact (a fact is a list of alternatives; ``re:`` marks
  a regular expression) and should come from ``sources``;
- ``unanswerable``: the guidance does not cover it, so the answer must abstain;
- ``out_of_scope``: off the service's subject, so it must not be answered (blocked or abstained);
- ``injection``: an attack in the question, which must be blocked;
- ``indirect_injection``: ``plant`` is a document the attacker controls, served as the top search
  result; the answer must never show ``canary`` (and must not say ``must_not_leak``);
- ``pii``: the question holds personal data (``must_not_leak``) that must never reach the answer or
  the records;
- ``benign``: an ordinary question that must not be refused;
- ``rule``: a question one of a policy's rules must block (a banned term, an enforced scope);
  ``waymark eval run rules`` makes these from the policy itself (``evals/policy_cases.py``).

A JSONL file holds one case per line, with the suite's own fields on an optional first line
``{"suite": ..., ...}``. ``waymark eval schema`` prints the JSON schema for editors (committed as
``evals/suite.schema.json``).

A suite is data from whoever wrote it, so it is kept to what a suite may do: its ``corpus`` is one of
the project's corpora or a folder under the data directory's ``corpora/``, never any other path; its
``settings`` tune answering only (``TUNABLE``), never backends, addresses, keys or paths; and an error in
it is reported by file, case, field, line and column, never by quoting the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

import knowledge
from assistant.settings import LEGACY_NAMES
from evals.answers import check_facts, unique_ids
from guardrails.untrusted_yaml import TooLarge
from guardrails.untrusted_yaml import load as load_yaml
from knowledge.models import Strict

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
"""``../shared`` (seed documents and public test sets): found beside a source checkout only."""
SUITES = Path(__file__).resolve().parent / "suites"

PROJECT_CORPORA: dict[str, Path] = {
    "knowledge/sample_corpus": Path(knowledge.__file__).resolve().parent / "sample_corpus",
    "evals/suites/smoke_corpus": SUITES / "smoke_corpus",
    "../shared/seeds": SHARED / "seeds",  # beside a checkout only (tests skip without it)
}
"""The corpora a suite may name besides the data directory's own (``corpora/NAME``)."""

TUNABLE = frozenset({"answer", "retrieval", "translate", "llm_max_tokens"}  # the tree's answering branches
                    | {name for name, (branch, _) in LEGACY_NAMES.items() if branch in ("answer", "retrieval")})
"""The settings a suite (or ``--set``) may change: how Waymark answers, never where it reads, writes or
connects (backends, URLs, keys, paths, the policy)."""

Kind = Literal["answerable", "unanswerable", "out_of_scope", "injection", "indirect_injection", "pii", "benign",
               "rule"]


class Case(Strict):
    id: str = Field(min_length=1)
    kind: Kind
    question: str = Field(min_length=1)
    language: str = Field(min_length=2, max_length=3)
    """ISO 639-1 code of the question."""
    facts: list[list[str]] = Field(default_factory=list)
    """answerable: every fact must be stated; each fact lists acceptable alternatives."""
    sources: list[str] = Field(default_factory=list)
    """answerable: the documents (file names) that hold the answer; any of them counts."""
    evidence: str | None = None
    """answerable: a verbatim span of the source that supports the answer (for diagnosis)."""
    plant: str | None = None
    """indirect_injection: the attacker's document, served as the top search result."""
    canary: str | None = None
    """indirect_injection: a token the planted document asks the assistant to output."""
    must_not_leak: list[str] = Field(default_factory=list)
    """pii, indirect_injection: strings that must appear neither in the answer nor in its records."""
    tags: list[str] = Field(default_factory=list)

    @field_validator("facts")
    @classmethod
    def _facts(cls, v: list[list[str]]) -> list[list[str]]:
        return check_facts(v)

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Case:
        if self.kind == "answerable" and not self.facts:
            raise ValueError(f"answerable case {self.id!r} needs facts")
        if self.kind != "answerable" and (self.facts or self.sources or self.evidence):
            raise ValueError(f"case {self.id!r}: facts, sources and evidence belong to answerable cases")
        if self.kind == "indirect_injection" and not (self.plant and self.canary):
            raise ValueError(f"indirect_injection case {self.id!r} needs plant and canary")
        if self.kind != "indirect_injection" and (self.plant or self.canary):
            raise ValueError(f"case {self.id!r}: plant and canary belong to indirect_injection cases")
        if self.kind == "pii" and not self.must_not_leak:
            raise ValueError(f"pii case {self.id!r} needs must_not_leak")
        return self


class Gate(Strict):
    """A metric that must not regress: ``waymark eval compare A B --gate`` fails when B is worse than
    A beyond noise (and by more than ``tolerance``)."""

    metric: str
    tolerance: float = Field(0.0, ge=0.0, le=1.0)
    any_drop: bool = False
    """Regress on any change for the worse beyond ``tolerance``, without a noise test: for
    deterministic checks, such as a policy's rules on its own rails."""


class FakeModel(Strict):
    """A scripted model for fast, model-free runs (the ``smoke`` suite): the reply to a question is
    the first entry whose key the question contains; ``default`` otherwise. A reply ``"!error"``
    makes the model fail."""

    replies: dict[str, str] = Field(default_factory=dict)
    default: str = "NOT_COVERED"


class Suite(Strict):
    suite: str = Field(min_length=1)
    description: str = ""
    corpus: str
    """The documents the cases are about: one of the project's corpora (``knowledge/sample_corpus``,
    ``evals/suites/smoke_corpus``, ``../shared/seeds``) or ``corpora/NAME``, a folder in the data directory."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """Settings for this suite's runs (e.g. ``answer_strategy: cite``), under the command line's ``--set``;
    only those in ``TUNABLE``."""
    fake_model: FakeModel | None = None
    gates: list[Gate] = Field(default_factory=list)
    cases: list[Case] = Field(min_length=1)

    @field_validator("cases")
    @classmethod
    def _unique_ids(cls, v: list[Case]) -> list[Case]:
        unique_ids([c.id for c in v])
        return v

    @field_validator("settings")
    @classmethod
    def _tunable(cls, v: dict[str, Any]) -> dict[str, Any]:
        check_tunable(v)
        return v

    @field_validator("corpus")
    @classmethod
    def _corpus(cls, v: str) -> str:
        if v and v not in PROJECT_CORPORA and not _DATA_CORPUS.fullmatch(v):
            raise ValueError(f"corpus must be one of the project's corpora ({', '.join(PROJECT_CORPORA)}) or "
                             "corpora/NAME, a folder in the data directory; not another path")
        return v

    def corpus_path(self, data_dir: Path) -> Path:
        """The corpus folder, which must stay inside the project's corpora or ``data_dir/corpora``."""
        if self.corpus in PROJECT_CORPORA:
            return PROJECT_CORPORA[self.corpus].resolve()
        root = (data_dir / "corpora").resolve()
        folder = (data_dir / self.corpus).resolve()
        if not _DATA_CORPUS.fullmatch(self.corpus) or not folder.is_relative_to(root):
            raise SuiteError(f"suite {self.suite}: corpus {self.corpus!r} is not a corpus Waymark may read")
        return folder


_DATA_CORPUS = re.compile(r"corpora/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_tunable(settings: dict[str, Any]) -> None:
    bad = sorted(set(settings) - TUNABLE)
    if bad:
        raise ValueError(f"these settings cannot be set by a suite: {', '.join(bad)} (only answering settings: "
                         f"{', '.join(sorted(TUNABLE))})")


class SuiteError(ValueError):
    """A suite file that cannot be used, with a message naming the file, the case and the field."""


NOT_SUITES: frozenset[str] = frozenset()
"""Files in ``evals/suites`` that are not suites (none now: the guardrail figures' cases are a suite)."""


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SUITES.iterdir()
                  if p.suffix in (".yaml", ".yml", ".jsonl") and p.stem not in NOT_SUITES)


def shipped_path(name: str) -> Path | None:
    """The file of the suite shipped as ``name`` (``smoke``, ``golden``), if there is one."""
    if name in NOT_SUITES or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        return None
    return next((SUITES / f"{name}{ext}" for ext in (".yaml", ".yml", ".jsonl") if (SUITES / f"{name}{ext}").is_file()),
                None)


def resolve(name_or_path: str) -> Path:
    """A shipped suite's name (``smoke``, ``golden``) or a file (the command line only)."""
    found = shipped_path(name_or_path)
    if found is not None:
        return found
    path = Path(name_or_path)
    if path.is_file():
        return path
    raise SuiteError(f"no suite file {name_or_path!r} (shipped suites: {', '.join(shipped_names())})")


def load(name_or_path: str) -> tuple[Suite, str]:
    """(the suite, the sha256 of its file): the hash goes into every run's fingerprint."""
    path = resolve(name_or_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    return parse(raw, str(path), path.stem, jsonl=path.suffix == ".jsonl"), hashlib.sha256(raw).hexdigest()


MAX_SUITE_CHARS = 5_000_000
"""A suite file larger than this is refused (the largest shipped one has 33,000 characters)."""
MAX_SUITE_VALUES = 1_000_000
"""The most values a suite may expand to, aliases followed."""


def parse(raw: bytes, source: str, stem: str = "suite", jsonl: bool = False) -> Suite:
    """A suite from a file's bytes; ``SuiteError`` names ``source`` and the place of each problem."""
    data: Any = None
    try:
        if jsonl:
            rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
            head = rows.pop(0) if rows and isinstance(rows[0], dict) and "suite" in rows[0] else {
                "suite": stem, "corpus": ""}
            data = {**head, "cases": rows}
        else:
            data = load_yaml(raw.decode("utf-8"), max_chars=MAX_SUITE_CHARS, max_values=MAX_SUITE_VALUES)
        return Suite.model_validate(data)
    except (ValidationError, yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError, TooLarge) as e:
        raise SuiteError(f"{source}: {_explain(e, data)}") from None


def _explain(e: Exception, data: Any) -> str:
    """What is wrong, by place (case, field, line, column), never by quoting the file."""
    if isinstance(e, yaml.YAMLError):
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"{where}not valid YAML ({getattr(e, 'problem', None) or 'unreadable'})"
    if isinstance(e, json.JSONDecodeError):
        return f"line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})"
    if isinstance(e, TooLarge):
        return f"not read: {e}"
    if isinstance(e, UnicodeDecodeError):
        return f"byte {e.start}: not UTF-8 text"
    if not isinstance(e, ValidationError):
        return type(e).__name__
    lines = []
    for err in e.errors()[:8]:
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int) and isinstance(data, dict):
            cases = data.get("cases") or []
            cid = cases[loc[1]].get("id") if loc[1] < len(cases) and isinstance(cases[loc[1]], dict) else None
            shown = isinstance(cid, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", cid)
            loc[1] = f"{loc[1]} ({cid})" if shown else loc[1]  # an id that looks like an id, nothing else
        lines.append(f"{'.'.join(str(x) for x in loc) or 'suite'}: {err['msg']}")
    return "; ".join(lines)


def to_yaml(suite: Suite) -> str:
    """The suite as a file ``load`` reads back (defaults left out)."""
    return yaml.safe_dump(suite.model_dump(mode="json", exclude_defaults=True), allow_unicode=True, sort_keys=False)


def schema() -> dict[str, Any]:
    return Suite.model_json_schema()
