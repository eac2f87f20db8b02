"""genai-prices' table is loaded by configure(), not by the first call an app makes.

Loading it takes 60-230 ms once per process (importing the table's modules and
building its objects); paid inside the first priced call, it showed as that
call's latency in the app (and as a slow call, before spans ended ahead of
pricing). Checked in a fresh interpreter, where nothing has loaded it yet.
"""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys, tempfile
import otel_llm
from genai_prices import data_snapshot
assert 'genai_prices.data' not in sys.modules, 'loaded before configure()'
otel_llm.configure(service_name='probe', exporter='file', output_dir=tempfile.mkdtemp())
print('genai_prices.data' in sys.modules, data_snapshot._bundled_snapshot.cache_info().currsize)
otel_llm.shutdown()
"""

_OFF = _PROBE.replace("exporter='file', output_dir=tempfile.mkdtemp()", "exporter='none'")


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_configure_loads_the_price_table_so_the_first_call_does_not() -> None:
    assert _run(_PROBE) == "True 1"


def test_otel_llm_switched_off_does_not_load_it() -> None:
    assert _run(_OFF) == "False 0"
