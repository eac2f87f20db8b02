"""``python -m otel_llm`` is the ``otel-llm`` command (for environments without the script on PATH)."""

from otel_llm.cli import main

main()
