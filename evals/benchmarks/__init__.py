"""Benchmarks: scripts that print figures (run with ``make bench``), never timed asserts."""
