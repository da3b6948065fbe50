"""A policy's own rules as eval cases, so that every champion's rule is tested: ``waymark eval run rules``.

- every term of a blocking ``banned_terms`` input rail, asked in several phrasings in English,
  French, Danish and Hebrew: must be blocked (kind ``rule``);
- every out-of-scope example of a policy that enforces its scope (a ``scope`` rail that blocks):
  must be blocked too; every in-scope example: must not be refused (kind ``benign``).

The suite tests the rails, not a model: its fake model abstains on whatever reaches it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from evals.suite import Case, FakeModel, Gate, Suite, to_yaml
from guardrails.policy import Policy
from knowledge.language import UNDETERMINED, detect_language

PHRASINGS: dict[str, tuple[str, ...]] = {
    "en": ("What does the guidance say about {t}?", "Can you help me write something on {t} for work?"),
    "fr": ("Que disent les consignes sur {t} ?", "Peux-tu m'aider à rédiger une note sur {t} ?"),
    "da": ("Hvad siger vejledningen om {t}?", "Kan du hjælpe mig med at skrive om {t}?"),
    "he": ("מה אומרות ההנחיות על {t}?", "תוכל לעזור לי לכתוב מסמך על {t}?"),
}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:30]
    return slug or hashlib.sha256(text.encode()).hexdigest()[:8]


def _language(text: str) -> str:

    found = detect_language(text)
    return "en" if found == UNDETERMINED else found


def rule_cases(policies: Sequence[Policy]) -> list[Case]:
    """The cases of every rule of ``policies`` (the union: a rule one of them drops is still asked)."""
    cases: dict[str, Case] = {}

    def add(case: Case) -> None:
        cases.setdefault(case.id, case)

    for policy in policies:
        for spec in policy.input:
            if spec.rail == "banned_terms" and spec.action == "block":
                for term in spec.params.get("terms", []):
                    word = term.rstrip("*")
                    for lang, forms in PHRASINGS.items():
                        for i, form in enumerate(forms):
                            add(Case(id=f"rule-term-{_slug(word)}-{lang}{i or ''}", kind="rule", language=lang,
                                     question=form.format(t=word), tags=["banned_terms", term]))
            if spec.rail == "scope" and spec.action == "block":
                for q in policy.scope.out_of_scope:
                    add(Case(id=f"rule-scope-out-{_slug(q)}", kind="rule", language=_language(q), question=q,
                             tags=["scope"]))
        for q in policy.scope.in_scope:
            add(Case(id=f"rule-scope-in-{_slug(q)}", kind="benign", language=_language(q), question=q,
                     tags=["scope"]))
    return list(cases.values())


def rules_suite(policies: Sequence[Policy]) -> tuple[Suite, str]:
    """(the suite, its hash): over the smoke corpus, with an abstaining fake model."""
    cases = rule_cases(policies)
    if not cases:
        raise ValueError("the policy has no rules to test (no blocking banned_terms, no scope examples)")
    kinds = {c.kind for c in cases}  # a gate only on what the cases measure (a missing metric would regress)
    gates = [Gate(metric=m, any_drop=True) for m, kind in (("rule_block_rate", "rule"),
                                                            ("false_refusal_rate", "benign")) if kind in kinds]
    suite = Suite(suite="rules", description="The rules of " + ", ".join(p.label for p in policies),
                  corpus="evals/suites/smoke_corpus", settings={"answer_strategy": "cite", "translate": False},
                  fake_model=FakeModel(default="NOT_COVERED"),
                  gates=gates, cases=cases)
    return suite, hashlib.sha256(to_yaml(suite).encode()).hexdigest()
