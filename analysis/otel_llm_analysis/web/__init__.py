"""The HTML report (``otel-llm report``) and the live dashboard (``otel-llm serve``).

Both render the views of :mod:`otel_llm_analysis.web.views`, each one call of the
analysis package's public API, so the page shows what the Python API and the CLI
return. The static report needs only the ``[analysis]`` extra; the dashboard's
web server comes with ``otel-llm[web]``. Importing this package imports nothing
heavy, so the CLI can register the commands in an SDK-only install.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Query", "VIEWS", "build_report", "create_app", "write_report"]

_LAZY = {
    "Query": "otel_llm_analysis.web.views",
    "VIEWS": "otel_llm_analysis.web.views",
    "build_report": "otel_llm_analysis.web.static",
    "write_report": "otel_llm_analysis.web.static",
    "create_app": "otel_llm_analysis.web.server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_llm_analysis.web' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
