"""``_interruptible``: a Ctrl-C stops the work it lands beside, and the works that work started."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Callable

import duckdb
import pytest

from otel_llm_analysis._interruptible import Work, run, side_by_side

ENDLESS = "SELECT count(*) FROM range(10000000000000) t(n) WHERE n % 7 = 3"
#: When the test stops a query the work left running itself (and fails): far beyond a stop's own time.
VALVE_S = 15


def _interrupted(work: Callable[[], None], interrupt: Callable[[], None], started: threading.Event,
                 valve: Callable[[], None]) -> dict[str, bool]:
    """``run(work, interrupt)`` on this thread, a real SIGINT sent once ``started`` is set; ``valve()``
    stops what the run left running after :data:`VALVE_S` (``left_running``). The run must raise
    ``KeyboardInterrupt``."""
    seen: dict[str, bool] = {}

    def ctrl_c() -> None:
        started.wait(10)
        time.sleep(0.3)  # the query is under way
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(VALVE_S)
        if not seen.get("ended"):
            seen["left_running"] = True
            valve()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C's own handler
    threading.Thread(target=ctrl_c, daemon=True).start()
    began = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run(work, interrupt)
    finally:
        seen["ended"] = True
        signal.signal(signal.SIGINT, previous)
    seen["in_time"] = time.monotonic() - began < VALVE_S
    return seen


def test_ctrl_c_stops_the_queries_of_works_started_inside_the_work():
    """A command runs as a work interrupting the store's connection; a query it hands to a work of its own
    on a cursor (the summary's span latency) kept running after Ctrl-C while nothing ran on the store's
    connection: the command's stop interrupted only that connection, waiting for the query to end. Works
    started inside a work are now stopped with it."""
    con = duckdb.connect()
    cursor = con.cursor()
    started = threading.Event()

    def on_the_cursor() -> None:
        started.set()
        cursor.execute(ENDLESS).fetchall()

    def command() -> None:
        side_by_side(Work(on_the_cursor, cursor.interrupt))

    seen = _interrupted(command, con.interrupt, started, cursor.interrupt)
    con.close()
    assert "left_running" not in seen and seen["in_time"]


def test_a_second_ctrl_c_while_stopping_still_stops_the_query():
    """Users press Ctrl-C twice. The second one, landing while the first one's stop interrupted the query
    and waited for it to end, ended that wait: the query was left running and the pool's exit waited for
    it to end (a third Ctrl-C, then the interpreter's exit, waited again). The stop now goes on to its end."""
    con = duckdb.connect()
    started, again = threading.Event(), []

    def query() -> None:
        started.set()
        con.execute(ENDLESS).fetchall()

    def interrupt_after_a_second_ctrl_c() -> None:
        if not again:
            again.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, raised in the stop's next step
            return  # the query has not been interrupted yet
        con.interrupt()

    seen = _interrupted(query, interrupt_after_a_second_ctrl_c, started, con.interrupt)
    con.close()
    assert again and "left_running" not in seen and seen["in_time"]


def test_works_run_in_the_callers_context():
    """A work sees what the caller's block set (a report build's remembered answers) and sets nothing back."""
    import contextvars

    var: contextvars.ContextVar[str | None] = contextvars.ContextVar("test_interruptible_var", default=None)
    token = var.set("the caller's")
    try:
        seen = side_by_side(Work(var.get, lambda: None), Work(lambda: (var.set("a work's"), var.get())[1],
                                                               lambda: None))
        assert seen == ["the caller's", "a work's"]
        assert var.get() == "the caller's"
        assert run(var.get, lambda: None) == "the caller's"
    finally:
        var.reset(token)
