"""Guardrails: the shared contracts every package uses (``contracts``: ``Answer``, ``Citation``,
``GuardrailRecord``, the ``Rails`` interface), policies (YAML, validated: ``policy``), the rails behind
one ``Guardrail`` Protocol (``rail``, ``rails/``), the engine that runs them fail-closed (``engine``),
the versioned policy store (``store``), and the checks they share (``markdown``, ``facts``,
``numbers``, ``redaction``). It may import only ``knowledge``."""
