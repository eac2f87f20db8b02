"""``otel_llm.shutdown()`` from the app's own signal handler, the signal landing while the spool's lock is held.

A signal handler runs on the main thread, between two bytecodes of whatever
it interrupted. When that was the main thread's own metric flush appending to
the spool (the collector down), the handler's shutdown exported to the same
spool and waited for the lock its own thread held: the process hung for ever.
Now a shutdown that finds a delivery lock held by its own thread runs in a
helper thread, waited for within the shutdown budget; once the handler returns
the interrupted flush ends, lets the lock go, and the helper finishes.

A real process: the hook sends SIGUSR1 from inside the locked section.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from otel_llm.exporters._spool_segments import segment_files
from tests.support.ports import closed_port

from ._spooled import app_env

APP = textwrap.dedent("""
    import os, signal, sys, threading, otel_llm
    from opentelemetry import metrics
    from otel_llm.exporters import _spool_segments

    append, fired = _spool_segments.SegmentStore.append, []

    def append_then_signal(self, *args, **kwargs):  # the test hook: the signal lands in the locked section
        if threading.current_thread() is threading.main_thread() and not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGUSR1)
        return append(self, *args, **kwargs)

    _spool_segments.SegmentStore.append = append_then_signal

    def on_usr1(signum, frame):  # the app's own handler
        otel_llm.shutdown()
        print("handler: shut down", flush=True)

    signal.signal(signal.SIGUSR1, on_usr1)
    otel_llm.configure(exporter="otlp", endpoint=sys.argv[1], spool_dir=sys.argv[2], service_name="signalled",
                       logs=False, shutdown_timeout_s=2)
    metrics.get_meter("app").create_counter("app.requests").add(1)
    otel_llm.flush(2)  # on the main thread: the collector is down, the points go to the spool
    print("app: flushed", fired, flush=True)
""")


def test_shutdown_from_a_signal_handler_that_interrupted_the_spools_locked_section(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    try:
        done = subprocess.run([sys.executable, "-c", APP, f"http://127.0.0.1:{closed_port()}", str(spool)],
                              env=app_env(), capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"deadlocked: {hung.stdout!r} {hung.stderr!r}") from None
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["handler: shut down", "app: flushed [True]"], (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert segment_files(spool / "metrics"), ("the interrupted flush's points are kept", done.stderr)


NOTICES_APP = textwrap.dedent("""
    import os, signal, sys, threading, otel_llm
    from opentelemetry import metrics
    from otel_llm import _notices

    class SignalledIncident(_notices._Incident):  # the test hook: built while the notices' lock is held
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if threading.current_thread() is threading.main_thread():
                os.kill(os.getpid(), signal.SIGUSR1)

    _notices._Incident = SignalledIncident

    def on_usr1(signum, frame):  # the app's own handler
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        otel_llm.shutdown()
        print("handler: shut down", flush=True)

    signal.signal(signal.SIGUSR1, on_usr1)
    otel_llm.configure(exporter="otlp", endpoint=sys.argv[1], spool_max_bytes=0, service_name="signalled",
                       logs=False, shutdown_timeout_s=2)
    metrics.get_meter("app").create_counter("app.requests").add(1)
    otel_llm.flush(3)  # on the main thread; nothing listens, nothing spools: counted lost under the notices' lock
    print("app: flushed", flush=True)
""")


def test_shutdown_from_a_signal_handler_that_interrupted_the_loss_count(tmp_path: Path) -> None:
    """The same with the lock that counts losses: the handler's shutdown sums them up under it."""
    try:
        done = subprocess.run([sys.executable, "-c", NOTICES_APP, f"http://127.0.0.1:{closed_port()}"],
                              env=app_env(), capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"deadlocked: {hung.stdout!r} {hung.stderr!r}") from None
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["handler: shut down", "app: flushed"], (done.stdout, done.stderr)
    assert "1 metric point lost" in done.stderr, done.stderr
