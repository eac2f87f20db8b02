"""SDK runs whose traces a sampler keeps or drops, written to one directory (the default file exporter).

Each run is a process of its own (``configure()`` installs global providers)
making ``calls`` ``@llm_call`` calls with usage; ``OTEL_TRACES_SAMPLER`` is
``always_on`` or ``always_off`` for the whole run, so which calls have spans is
exact, while otel-llm's metric points count every call whatever the sampler.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_APP = """
import sys
import otel_llm

otel_llm.configure(output_dir=sys.argv[1], service_name="sampled")


@otel_llm.llm_call(model="gpt-4o", provider="openai")
def ask(i):
    return {"usage": {"prompt_tokens": 10, "completion_tokens": 5}}


for i in range(int(sys.argv[2])):
    ask(i)
"""


def sampled_runs(out: Path, kept: int, dropped: int, calls: int = 2) -> None:
    """``kept`` runs traced whole, then ``dropped`` runs whose traces the sampler drops, into ``out``."""
    for sampler in ["always_on"] * kept + ["always_off"] * dropped:
        env = {**os.environ, "OTEL_TRACES_SAMPLER": sampler}
        subprocess.run([sys.executable, "-c", _APP, str(out), str(calls)], check=True, env=env, timeout=120,
                       capture_output=True)
