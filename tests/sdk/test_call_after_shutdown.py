"""A decorated call after ``otel_llm.shutdown()`` leaves the application's log as it was.

After shutdown the runtime falls back to the global providers, which are the
ones otel-llm made and just shut down; the SDK's shut-down MeterProvider logs
"A shutdown `MeterProvider` can not provide a `Meter`" as a WARNING through
the app's logging on the first call -- a line the app never wrote. (The call's
span cannot be exported any more; otel-llm's own notice on stderr says so.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(level=logging.DEBUG, format="APPLOG %(name)s %(message)s")
    import otel_llm
    otel_llm.configure(output_dir=sys.argv[1], service_name="after")

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def call():
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    call()
    otel_llm.shutdown()
    print("result", call()["usage"]["prompt_tokens"])
    logging.getLogger("app").info("the app's own line")
""")


def test_a_call_after_shutdown_adds_nothing_to_the_apps_log(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "result 3" in done.stdout
    logged = [line for line in done.stderr.splitlines() if line.startswith("APPLOG")]
    assert logged == ["APPLOG app the app's own line"], done.stderr


def test_the_span_of_a_call_after_shutdown_is_counted_lost_for_that_reason(tmp_path: Path) -> None:
    """The notice said "1 span lost: writing failed at the in-memory traces queue": nothing was written,
    nothing failed; the span ended after otel-llm was shut down."""
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120)
    said = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:") and "1 span lost" in line]
    assert said and "after otel_llm.shutdown()" in said[0] and "writing failed" not in said[0], done.stderr


def test_the_spans_lost_after_shutdown_are_summed_up_at_exit_as_the_notice_promises(tmp_path: Path) -> None:
    """The first notice says later losses "are counted and summed up at exit": the sum must come."""
    app = APP.replace('print("result", call()', 'call(); call(); print("result", call()')
    done = subprocess.run([sys.executable, "-c", app, str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    notices = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:")]
    assert "summed up at exit" in notices[0], done.stderr
    last = notices[-1]
    assert last.startswith("otel-llm: in total 3 spans lost at ") and "after otel_llm.shutdown()" in last, done.stderr


def test_the_span_lost_after_shutdown_is_not_said_to_be_lost_at_a_full_queue(tmp_path: Path) -> None:
    """The place said "the in-memory traces queue (max 32,768; OTEL_BSP/BLRP_MAX_QUEUE_SIZE)", which reads
    as a full queue to be enlarged; the span was lost because the pipeline was already shut down."""
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120)
    said = [line for line in done.stderr.splitlines() if line.startswith("otel-llm:") and "1 span lost" in line]
    assert said, done.stderr
    assert "QUEUE_SIZE" not in said[0] and "queue" not in said[0], said[0]
    assert "shut down" in said[0].split(" at ", 1)[1], said[0]
