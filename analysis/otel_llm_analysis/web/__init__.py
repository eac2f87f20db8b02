"""The HTML report (``otel-llm report``) and the live dashboard (``otel-llm serve``).

Both render the views of :mod:`.views` (each one call of the analysis package's
public API), so the page shows what the Python API and the CLI return:

* :mod:`.views` — the view registry (add a view: one entry) and ``Query``;
* :mod:`.choices` — the date ranges, projects and models the filters offer;
* :mod:`.static` — ``build_report(store, query)``: the self-contained page;
* :mod:`.server`, :mod:`.live` — the FastAPI app and the store it shares with
  the directory watcher (``otel-llm[web]``);
* :mod:`.cli` — the two commands; ``assets/`` — the page's HTML, CSS and script.

This package imports nothing at import time, so the CLI registers the commands
in an install without the extras.
"""
