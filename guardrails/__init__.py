"""Guardrail policies and rails. Empty until the guardrails issue lands; nothing here is used yet."""
