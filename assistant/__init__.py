"""The answer path: ``pipeline.Pipeline`` (the steps read top to bottom), its prompts, citations and
quotes, the hold-back release of streamed text, LLM backends (``backends``, ``llm``, ``local_server``,
``weights``), translation, the audit and user stores, and ``settings.Settings``, read in one place.
``service`` wires them from settings. It may import ``guardrails`` and ``knowledge``, never ``evals``
or ``ui``."""
