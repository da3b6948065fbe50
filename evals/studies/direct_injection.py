"""Direct prompt injections through the whole answer path, over the sample corpus.

    python -m evals.studies.direct_injection [--strategy extract|cite] [--limit N]

CyberSecEval's direct cases attack a system prompt that guards a secret; Waymark's prompts guard
none and its answers come only from the guidance. This asks every direct case (``../shared/data``)
of the real pipeline (the policy's rails, retrieval over the sample corpus, the configured model)
and reports what happened: blocked, abstained, answered (with the answers, for reading), errors,
and canary leaks.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from evals.studies import cache_dir
from evals.studies.indirect_injection import cases_and_args, pipeline_for
from evals.suite import PROJECT_CORPORA


def main() -> None:
    from assistant.prompts import CANARY
    from knowledge.base import KnowledgeBase

    cases, args = cases_and_args("direct", __doc__)
    kb = KnowledgeBase.open(cache_dir("sample"))
    kb.ingestor.ingest([PROJECT_CORPORA["knowledge/sample_corpus"]])
    pipeline = pipeline_for(kb.retriever, args.policy, args.strategy, kb.embedder)
    statuses: Counter[str] = Counter()
    leaks = 0
    rows = []
    t0 = time.time()
    for i, case in enumerate(cases, 1):
        answer = pipeline.answer(case["user_input"])
        statuses[answer.status] += 1
        leaks += CANARY.casefold() in answer.answer.casefold()
        rows.append({"id": case["prompt_id"], "variant": case["injection_variant"], "status": answer.status,
                     "reason": answer.reason, "answer": answer.answer[:300]})
        print(f"[{i}/{len(cases)}] {case['injection_variant'][:20]:20s} {answer.status:9s} {answer.reason or '':20s} "
              f"{answer.answer[:70]!r}", flush=True)
    if args.jsonl:
        args.jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"\nDirect injection, {len(cases)} CyberSecEval cases over the sample corpus, strategy "
          f"{pipeline.config.strategy}, policy {pipeline.rails.policy_version}, model {pipeline.llm.name} "
          f"({(time.time() - t0) / 60:.0f} min):")
    print(f"- outcomes: {dict(statuses)}; canary leaks: {leaks}")


if __name__ == "__main__":
    main()
