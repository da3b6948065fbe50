"""Guardrail figures: injection recall, false refusals, personal-data recall and precision, latency.

    python -m evals.studies.guardrail_figures [--policy default] [--out docs/guardrails-figures.md]

Runs a policy's input rails (no model, no index) over:
- Waymark's own cases (``evals/suites/guardrails.yaml``): attacks and ordinary civil-service
  questions in English, French, Danish and Hebrew;
- ``../shared/data``: CyberSecEval's direct prompt injections, XSTest's safe prompts, Presidio's
  synthetic personal data; and UK identifiers generated here (NI, NHS, postcode).
Every rate carries n and a 95% Wilson interval; a case whose rails raise counts as an error
(and the engine blocks it: fail closed). Prints Markdown; ``--out`` also writes it.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from evals.stats import Rate
from evals.suite import REPO, SHARED, load
from guardrails.engine import PolicyRails
from guardrails.policy import Policy, shipped_or_file
from guardrails.rails.injection import Injection, InjectionParams, pattern_hits
from guardrails.rails.pii import find
from knowledge.language import UNDETERMINED, detect_language

DATA = SHARED / "data"
HELD_OUT = REPO / "evals" / "data" / "benign_heldout.yaml"
MARKERS = REPO / "evals" / "data" / "cyberseceval_markers.yaml"


Check = Callable[[str, str], bool]
"""(text, language) -> blocked."""


def blocked_rate(check: Check, items: Iterable[tuple[str, str]]) -> tuple[Rate, int]:
    ok = n = errors = 0
    for text, language in items:
        n += 1
        try:
            ok += check(text, language)
        except Exception:
            errors += 1
    return Rate(ok, n), errors


# --- personal data ---------------------------------------------------------------------------
PRESIDIO_TYPES = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card", "IBAN_CODE": "iban",
                  "IP_ADDRESS": "ip_address", "PERSON": "person", "US_DRIVER_LICENSE": "driving_licence"}


def pii_scores(samples: list[tuple[str, list[tuple[str, int, int]]]]) -> dict[str, tuple[Rate, Rate]]:
    """Per entity: (recall over gold spans, precision over findings), overlap-matched."""

    found_gold: Counter[str] = Counter()
    gold_n: Counter[str] = Counter()
    right: Counter[str] = Counter()
    found_n: Counter[str] = Counter()
    for text, gold in samples:
        findings = find(text)
        for entity, s, e in gold:
            gold_n[entity] += 1
            found_gold[entity] += any(f.entity == entity and f.start < e and s < f.end for f in findings)
        for f in findings:
            found_n[f.entity] += 1
            right[f.entity] += any(g == f.entity and f.start < e and s < f.end for g, s, e in gold)
    return {k: (Rate(found_gold[k], gold_n[k]), Rate(right[k], found_n[k])) for k in sorted(gold_n | found_n)}


def presidio() -> list[tuple[str, list[tuple[str, int, int]]]]:
    rows = json.loads((DATA / "presidio_synth_dataset_v2.json").read_text(encoding="utf-8"))
    return [(r["full_text"], [(PRESIDIO_TYPES[s["entity_type"]], s["start_position"], s["end_position"])
                              for s in r["spans"] if s["entity_type"] in PRESIDIO_TYPES]) for r in rows]


def uk_identifiers(n: int, seed: int = 7) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """Sentences holding valid NI numbers, NHS numbers and postcodes in the usual spellings, and as
    many sentences with look-alikes that are not (bad NHS check digits, never-issued NI prefixes)."""
    rng = random.Random(seed)
    first, second = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    out: list[tuple[str, list[tuple[str, int, int]]]] = []

    def nhs(valid: bool) -> str:
        while True:
            d = [rng.randint(0, 9) for _ in range(9)]
            check = 11 - sum(x * w for x, w in zip(d, range(10, 1, -1), strict=True)) % 11
            if check == 10:
                continue
            check %= 11
            last = check if valid else (check + rng.randint(1, 9)) % 10
            s = "".join(map(str, [*d, last]))
            return rng.choice([s, f"{s[:3]} {s[3:6]} {s[6:]}", f"{s[:3]}-{s[3:6]}-{s[6:]}"])

    def ni(valid: bool) -> str:
        while True:
            pre = rng.choice(first) + rng.choice(second) if valid else rng.choice(["BG", "GB", "NK", "TN", "ZZ",
                                                                                   "DA", "FO", "QQ"])
            if pre not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"} or not valid:
                break
        digits = "".join(str(rng.randint(0, 9)) for _ in range(6))
        s = f"{pre}{digits}{rng.choice('ABCD')}"
        return rng.choice([s, f"{s[:2]} {s[2:4]} {s[4:6]} {s[6:8]} {s[8]}", s.lower()])

    def postcode() -> str:
        area = rng.choice(["SW1A", "M1", "B33", "CR2", "DN55", "EC1A", "W1A", "LS10", "G2", "CF10", "BT7", "EH1"])
        return f"{area} {rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"

    templates = ["My {} is {}, can you help?", "Patient {} ({}) asked about the service.",
                 "Please update the record for {} {} before Friday.", "Is it fine to paste {} {} into a chatbot?"]
    for _ in range(n):
        for label, entity, value in (("NHS number", "nhs", nhs(True)), ("NI number", "uk_ni", ni(True)),
                                     ("postcode", "uk_postcode", postcode())):
            t = rng.choice(templates)
            text = t.format(label, value)
            start = text.index(value)
            out.append((text, [(entity, start, start + len(value))]))
        for value in (nhs(False), ni(False)):  # no cue: a named identifier is redacted whatever its checksum
            out.append((rng.choice(templates).format("reference", value), []))
    return out


# --- the report ------------------------------------------------------------------------------
def main() -> None:
    from assistant.service import rail_tools
    from assistant.settings import Settings
    from knowledge.embeddings import E5Embedder

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", default="default", help="a shipped policy name or a YAML file")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    policy = Policy.from_path(shipped_or_file(args.policy))
    embedder = E5Embedder(Settings().embed_threads)
    tools = rail_tools(embedder)
    rails = PolicyRails(policy, tools)  # the same as service.policy_rails, with the tools kept for Injection
    latencies: dict[str, list[float]] = defaultdict(list)
    blocked: dict[str, bool] = {}
    out_of_scope: Counter[str] = Counter()
    current = ["own"]

    def check(text: str, language: str) -> bool:
        t0 = time.perf_counter()
        result = rails.check_input(text, language)
        latencies[current[0]].append((time.perf_counter() - t0) * 1000)
        out_of_scope[current[0]] += any(r.rail == "scope" and r.verdict == "fail" for r in result.records)
        blocked[text] = result.blocked
        return result.blocked

    lines = [f"Policy `{policy.label}`, input rails: "
             f"{', '.join(r.rail + ' (' + r.action + ')' for r in policy.input)}. Rates: value [95% Wilson] (n).", ""]
    suite = load("guardrails")[0]
    held_out = [(str(q["text"]), str(q["language"])) for q in
                yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))["questions"]]
    def by_language(label: str, total: str, items: list[tuple[str, str]]) -> None:
        """A row per language of ``items`` (text, language) blocked, then the total."""
        ok = n = all_errors = 0
        for lang in ("en", "fr", "da", "he"):
            if part := [(t, lg) for t, lg in items if lg == lang]:
                rate, errors = blocked_rate(check, part)
                lines.append(f"| {label} | {lang} | {rate} | {errors} |")
                ok, n, all_errors = ok + rate.successes, n + rate.n, all_errors + errors
        lines.append(f"| **{total}, all** | | {Rate(ok, n)} | {all_errors} |")

    lines += ["| own cases | language | blocked | errors |", "|---|---|---|---|"]
    current[0] = "own cases"
    for kind in ("injection", "benign"):
        by_language(kind, kind, [(c.question, c.language) for c in suite.cases if c.kind == kind])
    current[0] = "held-out ordinary"
    by_language("held-out ordinary questions (evals/data/benign_heldout.yaml)", "held-out ordinary", held_out)

    if not DATA.is_dir():
        lines.append(f"\nSkipped the public sets: {DATA} is absent.")
    else:

        def language_of(t: str) -> str:
            d = detect_language(t)
            return "en" if d == UNDETERMINED else d

        cse = json.loads((DATA / "cyberseceval_prompt_injection.json").read_text(encoding="utf-8"))
        direct = [c for c in cse if c["injection_type"] == "direct"]
        current[0] = "CyberSecEval"
        rate, errors = blocked_rate(check, [(c["user_input"], language_of(c["user_input"])) for c in direct])
        with (DATA / "xstest_prompts.csv").open(encoding="utf-8") as f:
            safe = [r["prompt"] for r in csv.DictReader(f) if r["label"] == "safe"]
        current[0] = "XSTest"
        fr_rate, fr_errors = blocked_rate(check, [(t, "en") for t in safe])
        lines += ["", "| public set | measure | rate | errors | scope rail fails (recorded) |", "|---|---|---|---|---|",
                  f"| CyberSecEval direct injections | blocked (recall) | {rate} | {errors} | "
                  f"{Rate(out_of_scope['CyberSecEval'], len(direct))} |",
                  f"| XSTest safe prompts | blocked (false refusals) | {fr_rate} | {fr_errors} | "
                  f"{Rate(out_of_scope['XSTest'], len(safe))} |"]
        by_variant: dict[str, list[bool]] = defaultdict(list)
        for c in direct:
            if c["user_input"] in blocked:  # a case whose rails raised is counted in the errors above
                by_variant[c["injection_variant"]].append(blocked[c["user_input"]])
        markers = {c["index"]: c["marker"] for c in
                   yaml.safe_load(MARKERS.read_text(encoding="utf-8"))["cases"]}
        for marked, label in ((True, "with an attack marker"), (False, "context-only (an attack only under its "
                                                                          "own system prompt)")):
            part = [blocked[c["user_input"]] for i, c in enumerate(cse)
                    if markers.get(i) is marked and c["user_input"] in blocked]
            lines.append(f"| CyberSecEval direct, {label} (evals/data/cyberseceval_markers.yaml) | blocked | "
                         f"{Rate(sum(part), len(part))} | | |")
        lines += ["", "CyberSecEval direct, blocked by variant: " + "; ".join(
            f"{v} {sum(b)}/{len(b)}" for v, b in sorted(by_variant.items(), key=lambda kv: -len(kv[1])))]

        # the injection rail alone, each signal swept: patterns with the trained classifier (its threshold chosen
        # on its validation split, decision 0011), and with the nearest-example margin (chosen on the own cases)
        rail = Injection(InjectionParams(trained=True), tools)
        assert rail.model is not None and tools.embed is not None
        sets = {"own attacks": [c.question for c in suite.cases if c.kind == "injection"],
                "own ordinary": [c.question for c in suite.cases if c.kind == "benign"],
                "held-out ordinary": [t for t, _ in held_out],
                "CSE marked": [c["user_input"] for i, c in enumerate(cse) if markers.get(i) is True],
                "CSE context-only": [c["user_input"] for i, c in enumerate(cse) if markers.get(i) is False],
                "XSTest safe": safe}
        scored = {name: [(bool(pattern_hits(t)), rail.model.probability(tools.embed([t])[0], t), rail.margin(t))
                         for t in texts] for name, texts in sets.items()}
        head = ["", "| " + " | ".join(sets) + " |", "|---" * (len(sets) + 1) + "|"]
        lines += [*head[:1], "| patterns + trained classifier, threshold" + head[1], head[2]]
        for t in (0.3, 0.5, 0.7, rail.model.threshold, 0.9, 0.95):
            lines.append(f"| {t:.2f}{' (trained)' if t == rail.model.threshold else ''} | " + " | ".join(
                str(Rate(sum(pat or pr >= t for pat, pr, _ in v), len(v))) for v in scored.values()) + " |")
        lines += [*head[:1], "| patterns + trained + nearest-example, margin" + head[1], head[2]]
        for m in (-0.01, 0.0, 0.01, 0.02, 0.04):
            lines.append(f"| {m:+.2f} | " + " | ".join(str(Rate(sum(
                pat or pr >= rail.model.threshold or mg > m for pat, pr, mg in v), len(v))) for v in scored.values())
                + " |")

        lines += ["", "| personal data | recall | precision |", "|---|---|---|"]
        for entity, (recall, precision) in pii_scores(presidio()).items():
            lines.append(f"| Presidio {entity} | {recall} | {precision} |")
        uk = pii_scores(uk_identifiers(200))
        for entity in ("uk_ni", "nhs", "uk_postcode"):
            recall, precision = uk[entity]
            lines.append(f"| generated UK {entity} (200, plus look-alikes) | {recall} | {precision} |")

    lines += ["", "| all input rails, per text | n | p50 ms | p95 ms |", "|---|---|---|---|"]
    for name, values in latencies.items():
        q = statistics.quantiles(values, n=20) if len(values) > 1 else [values[0]] * 19
        lines.append(f"| {name} | {len(values)} | {statistics.median(values):.1f} | {q[18]:.1f} |")
    lines.append("\nTimes are after the embedder's first load, one process on this machine; CyberSecEval's inputs "
                 "run to thousands of characters (the classifier rails read at most RAIL_EMBED_TOKENS of a text, "
                 "head and tail).")
    body = "\n".join(lines)
    print(body)
    if args.out:
        args.out.write_text(body + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
