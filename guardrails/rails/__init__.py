"""The rails. Importing this package registers every rail by name (``guardrails.rail.registry``)."""

from guardrails.rails import hygiene, injection, output, pii, scope, terms

__all__ = ["hygiene", "injection", "output", "pii", "scope", "terms"]
