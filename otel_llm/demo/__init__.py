"""The ``otel-llm demo`` main job: a small deterministic RAG chat app.

Why it lives in the package: a newcomer runs one command on a fresh machine and
gets real traces, metrics and logs on disk (no network, no API key, no model
download), which the analysis commands then read back. The modules are the app
(``app``), its fake dependencies (``fake_llm``, ``vector_store``, ``corpus``)
and the command (``cli``).
"""

from __future__ import annotations
