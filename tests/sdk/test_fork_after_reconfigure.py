"""A process forked after ``configure()`` ran twice reports no loss it did not have.

The second ``configure()`` shuts the first one's providers down; their periodic
metric reader stays reachable through the meters the app already holds. In a
forked child (a gunicorn or multiprocessing worker) upstream's at-fork hook
restarted that reader's thread, whose "last collection" exported the parent's
points into the closed file exporter: every child printed "metric points lost".
Run in a subprocess: the hooks are process-wide.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent("""
    import os, sys, time
    import otel_llm
    from opentelemetry import metrics
    out = sys.argv[1]
    otel_llm.configure(output_dir=os.path.join(out, "a"), logs=False)
    counter = metrics.get_meter("app").create_counter("app.requests")  # kept, as apps keep their meters
    counter.add(1)
    otel_llm.configure(output_dir=os.path.join(out, "b"), logs=False)
    pid = os.fork()
    if pid == 0:
        time.sleep(0.5)  # the restarted reader's thread collects at once
        from otel_llm import _notices
        sys.stderr.write(f"child totals {sorted(_notices.totals().items())}\\n")
        os._exit(0)
    os.waitpid(pid, 0)
    otel_llm.shutdown()
""")


def test_a_child_forked_after_a_second_configure_reports_no_loss(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "child totals []\n"
    assert '"app.requests"' in (tmp_path / "a" / "metrics.jsonl").read_text()  # the parent delivered its point
