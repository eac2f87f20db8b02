"""Test and benchmark support shared by the suites and ``benchmarks/`` (not shipped)."""
