"""Evaluation: the one case and suite format (``suite``), registered metrics (``metrics``, and ``retrieval``
for ranked hits), the runner, stored runs (``history``) and comparison, the policy gate and the one
activation path (``gate``, ``activation``), the suite store and HTML reports; the figure scripts are
``studies`` and ``benchmarks``. It may import ``assistant``, ``guardrails`` and ``knowledge``, never ``ui``."""
