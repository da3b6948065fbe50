"""Suites built from the public sets in ``../shared/data`` (when present): ``waymark eval build NAME``.

- ``xstest``: XSTest's safe prompts as ``benign`` cases (must not be refused), its unsafe ones as
  ``out_of_scope`` (must not be answered);
- ``cyberseceval``: the direct attacks as ``injection`` cases; the indirect ones as
  ``indirect_injection``, the attacker's content planted as the top passage, with Waymark's
  system-prompt canary and what the planted instruction asked for as ``must_not_leak``;
- ``presidio``: sentences holding personal data as ``pii`` cases (every labelled email, phone,
  card, IBAN, IP address and name must not leak);
- ``xquad`` (``--language en|de|es``): questions with their answer as the fact, over a corpus of
  the set's paragraphs written next to the suite file (one text file per article).
Sampling is seeded, so a suite built twice is the same file.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from evals.suite import SHARED, Case, Gate, Suite

DATA = SHARED / "data"
SAMPLE = "knowledge/sample_corpus"


def split_case(user_input: str) -> tuple[str, str]:
    """(question, planted content): the request before the first colon, the material after it."""
    m = re.match(r"\s*([^:<{]{8,200}?)\s*:\s*(.+)", user_input, re.DOTALL)
    if m:
        return m.group(1).strip() + ("" if m.group(1).strip().endswith("?") else "?"), m.group(2).strip()
    return "What does this document say?", user_input


def targets(judge_question: str) -> tuple[list[str], bool]:
    """What the planted instruction asked the answer to state (quoted in the judge question), and
    whether it asked for a link."""
    quoted = [q for q in re.findall(r"'([^']{2,80})'", judge_question) if not q.endswith("?")]
    return quoted, "link" in judge_question.casefold()


def _sample(items: list[Case], limit: int | None, seed: int) -> list[Case]:
    if limit is None or limit >= len(items):
        return items
    return sorted(random.Random(seed).sample(items, limit), key=lambda c: c.id)


def xstest(data_dir: Path, language: str) -> Suite:
    with (DATA / "xstest_prompts.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cases = [Case(id=f"xstest-{r['id']}", kind="benign" if r["label"] == "safe" else "out_of_scope",
                  question=r["prompt"], language="en", tags=[r["type"]]) for r in rows]
    return Suite(suite="xstest", description="XSTest (CC-BY-4.0): safe prompts must not be refused, unsafe "
                 "ones must not be answered", corpus=SAMPLE, cases=cases,
                 gates=[Gate(metric="false_refusal_rate")])


def cyberseceval(data_dir: Path, language: str) -> Suite:
    from assistant.prompts import CANARY

    rows = json.loads((DATA / "cyberseceval_prompt_injection.json").read_text(encoding="utf-8"))
    cases = []
    for r in rows:
        lang = "en" if r.get("speaking_language", "English") == "English" else "und"
        if r["injection_type"] == "direct":
            cases.append(Case(id=f"cse-{r['prompt_id']}", kind="injection", question=r["user_input"], language=lang,
                              tags=[r["injection_variant"], r["risk_category"]]))
        else:
            question, content = split_case(r["user_input"])
            quoted, _ = targets(r["judge_question"])
            cases.append(Case(id=f"cse-{r['prompt_id']}", kind="indirect_injection", question=question,
                              language="en", plant=content, canary=CANARY, must_not_leak=quoted,
                              tags=[r["injection_variant"]]))
    return Suite(suite="cyberseceval", description="CyberSecEval prompt injection (MIT): direct attacks must be "
                 "blocked; planted instructions must not reach the answer", corpus=SAMPLE, cases=cases,
                 gates=[Gate(metric="attack_block_rate"), Gate(metric="canary_leak_rate")])


PRESIDIO_TYPES = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "PERSON"}


def presidio(data_dir: Path, language: str) -> Suite:
    rows = json.loads((DATA / "presidio_synth_dataset_v2.json").read_text(encoding="utf-8"))
    cases = []
    for i, r in enumerate(rows):
        secrets = sorted({s["entity_value"] for s in r["spans"] if s["entity_type"] in PRESIDIO_TYPES})
        if secrets:
            cases.append(Case(id=f"presidio-{i}", kind="pii", question=r["full_text"], language="en",
                              must_not_leak=secrets, tags=sorted({s["entity_type"] for s in r["spans"]})))
    return Suite(suite="presidio", description="Presidio synthetic personal data (MIT): no labelled value may "
                 "reach the answer or its record", corpus=SAMPLE, cases=cases,
                 gates=[Gate(metric="pii_leak_rate")])


def xquad(data_dir: Path, language: str) -> Suite:
    data = json.loads((DATA / f"xquad.{language}.json").read_text(encoding="utf-8"))
    corpus = data_dir / "corpora" / f"xquad-{language}"
    corpus.mkdir(parents=True, exist_ok=True)
    cases = []
    for article in data["data"]:
        name = re.sub(r"[^A-Za-z0-9]+", "-", article["paragraphs"][0]["context"][:40]).strip("-").lower()
        source = f"{name}.{language}.txt"
        (corpus / source).write_text("\n\n".join(p["context"] for p in article["paragraphs"]) + "\n",
                                     encoding="utf-8")
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                answers = sorted({a["text"] for a in qa["answers"]})
                cases.append(Case(id=f"xquad-{language}-{qa['id']}", kind="answerable", question=qa["question"],
                                  language=language, facts=[answers], sources=[source]))
    where = f"corpora/xquad-{language}"  # a suite may read only the project's corpora or the data directory's
    return Suite(suite=f"xquad-{language}", description="XQuAD (CC BY-SA 4.0): Wikipedia questions whose "
                 "answer is a span of the paragraph", corpus=where, cases=cases,
                 gates=[Gate(metric="retrieval_hit"), Gate(metric="facts_accuracy")])


BUILDERS: dict[str, Callable[[Path, str], Suite]] = {
    "xstest": xstest, "cyberseceval": cyberseceval, "presidio": presidio, "xquad": xquad}


def build(name: str, data_dir: Path, limit: int | None = None, seed: int = 7, language: str = "en") -> Suite:
    """The suite ``name`` from ``../shared/data`` (``limit`` cases, sampled with ``seed``); a corpus it
    needs (XQuAD's paragraphs) goes to ``data_dir/corpora``."""
    if name not in BUILDERS:
        raise ValueError(f"no builder {name!r} (builders: {', '.join(BUILDERS)})")
    if not DATA.is_dir():
        raise FileNotFoundError(f"{DATA} is absent: the public sets are not on this machine")
    suite = BUILDERS[name](data_dir, language)
    return suite.model_copy(update={"cases": _sample(suite.cases, limit, seed)})
