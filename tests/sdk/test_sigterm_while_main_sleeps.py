"""A SIGTERM that CPython records but the sleeping main thread never runs the handler of still ends the process.

otel-llm flushes on SIGTERM (``_runtime._flush_then_terminate``) where the app
left SIGTERM at its default. CPython runs a Python handler on the main thread
only: at its next bytecode, or when a blocking call there returns EINTR. When
the kernel hands the signal to another thread (or it lands just before the main
thread blocks), the main thread sleeps on. A ``multiprocessing`` worker whose
``Pool.terminate()`` came while it entered the lock of its task queue -- a lock
the terminating parent holds for ever -- then never ended, and ``with Pool()``
waited for it for ever (seen in ``tests/collector/test_workers_otlp.py`` under
load: 1 run in ~50). At its default, SIGTERM ends a process whatever its threads
do; with otel-llm's handler it must too.

A real ``multiprocessing`` worker (forked from a configured app): its main
thread sleeps on a lock it already holds, and the SIGTERM is delivered to
another of its threads (``pthread_kill``: what the kernel may do with a
process-directed signal). The handler must still run (the worker's span is
written) and the worker end by SIGTERM.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

APP = textwrap.dedent("""
    import multiprocessing, signal, sys, threading, time
    import otel_llm

    otel_llm.configure(output_dir=sys.argv[1], service_name="sleeper")

    @otel_llm.llm_call(model="gpt-4o", provider="openai")
    def call():
        return {"usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    def signal_me():  # another thread gets the worker's SIGTERM while its main thread sleeps
        time.sleep(0.5)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        time.sleep(60)

    def worker(lock):
        call()
        threading.Thread(target=signal_me, daemon=True).start()
        lock.acquire()  # held by the parent for good: only a signal ends this
        print("worker woke up", flush=True)

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("fork")
        lock = ctx.Lock()
        lock.acquire()
        child = ctx.Process(target=worker, args=(lock,))
        child.start()
        child.join(15)
        if child.is_alive():
            child.kill()
            print("worker slept through its SIGTERM", flush=True)
        print("worker exit code", child.exitcode, flush=True)
""")


def test_a_sigterm_another_thread_received_ends_the_worker_after_its_flush(tmp_path: Path) -> None:
    try:
        done = subprocess.run([sys.executable, "-c", APP, str(tmp_path)], capture_output=True, text=True, timeout=40)
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"hung: {hung.stdout!r} {hung.stderr!r}") from None
    assert done.returncode == 0, done.stderr
    assert done.stdout == "worker exit code -15\n", done.stdout + done.stderr
    spans = [s for line in (tmp_path / "traces.jsonl").read_text().splitlines()
             for r in json.loads(line)["resourceSpans"] for ss in r["scopeSpans"] for s in ss["spans"]]
    assert len(spans) == 1, spans
