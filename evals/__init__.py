"""Evaluation: the suite format (``suite``), registered metrics (``metrics``), the runner, stored runs
(``history``) and comparison, the policy gate and the one activation path (``gate``, ``activation``),
the suite store, HTML reports, and benchmark and figure scripts. It may import ``assistant``,
``guardrails`` and ``knowledge``, never ``ui``."""
