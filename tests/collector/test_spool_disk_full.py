"""The spool's disk fills up mid-record: every span is either kept whole or counted as lost.

A real app process with ``RLIMIT_FSIZE`` (files may not grow past a size: the
write that crosses it is cut short, later ones fail with EFBIG), as on a disk
that fills up in the middle of a record. The collector is down, so everything
goes to the spool. What the spool holds as whole lines is what replay can ever
deliver; the rest must be in the loss count the app printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from otel_llm.exporters._spool_segments import segment_files

from . import _otlp
from .conftest import free_port

APP = r"""
import resource, signal, sys, otel_llm
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))
otel_llm.configure(service_name="full-disk", exporter="otlp", endpoint=sys.argv[1], spool_dir=sys.argv[2],
                   logs=False, shutdown_timeout_s=1)

@otel_llm.tool("lookup")
def lookup(i):
    return i

for batch in range(12):
    for i in range(50):
        lookup(i)
    otel_llm.flush(5)
otel_llm.shutdown()
"""


def test_a_record_cut_short_by_a_full_disk_is_counted_not_kept(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    app = subprocess.run([sys.executable, "-c", APP, f"http://127.0.0.1:{free_port()}", str(spool), "30000"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert app.returncode == 0, app.stderr
    kept = sum(len(_otlp.spans([m])) for path in segment_files(spool / "traces") for m in _whole_lines(path))
    lost = sum(int(n.replace(",", "")) for n in re.findall(r"in total ([\d,]+) spans? lost", app.stderr))
    assert lost > 0, app.stderr  # the limit was reached
    assert kept + lost == 12 * 50, f"{kept} kept + {lost} reported lost of 600\n{app.stderr}"


def _whole_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    """The records replay reads: complete lines (a line without its newline is torn)."""
    data = path.read_bytes()
    return [json.loads(line) for line in data.split(b"\n")[:-1] if line.strip()]
