"""Wake the main thread for a signal CPython recorded but the main thread sleeps through.

CPython runs a Python signal handler on the main thread only: at its next
bytecode, or when a blocking call there returns EINTR. When the kernel hands a
process-directed signal to another thread, or the signal lands between the
interpreter's last check and the main thread's blocking call, the handler waits
until the main thread wakes -- for ever, when nothing else wakes it. That is a
``multiprocessing`` worker ended by ``Pool.terminate()`` while it enters the
lock of its task queue: the terminating parent holds that lock for good, the
worker never runs otel-llm's SIGTERM flush (nor ends), and ``with Pool()``
waits for it for ever. At its default a SIGTERM ends the process whatever its
threads do; with otel-llm's handler it must too.

:func:`watch` sets a wakeup fd (CPython writes each caught signal's number to
it, from whichever thread caught it) and reads it on a thread of its own: after
the signal, while the handler has not started and is still the signal's
handler, it sends the signal to the main thread again every
:data:`POKE_INTERVAL_S`, so that a blocking call there returns EINTR and the
handler runs. A wakeup fd set by someone else (asyncio's, inherited) is left
alone, and then nothing is watched: there is one per process.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from otel_llm._guard import internal_error

POKE_INTERVAL_S = 0.05

_own_wakeup_fd = -1  # the write end this process (or the one it was forked from) set


def watch(signum: int, handler: Callable[[int, Any], None], started: Callable[[], bool]) -> bool:
    """On the main thread: make sure ``handler``, ``signum``'s handler, runs once ``signum`` came.

    ``started()`` tells whether the handler has begun (it must say so first
    thing). Returns whether the watch was set up: not off the main thread, nor
    where another wakeup fd is set.
    """
    global _own_wakeup_fd
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.set_wakeup_fd(-1)
    if previous not in (-1, _own_wakeup_fd):  # someone else's: theirs to read
        signal.set_wakeup_fd(previous)
        return False
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _own_wakeup_fd = write_fd
    main = threading.main_thread().ident
    threading.Thread(target=_read_wakeups, args=(read_fd, signum, handler, started, main),
                     name="otel-llm-signal-wakeup", daemon=True).start()
    return True


def _read_wakeups(read_fd: int, signum: int, handler: Callable[[int, Any], None], started: Callable[[], bool],
                  main: int | None) -> None:
    try:
        while chunk := os.read(read_fd, 512):
            if signum not in chunk or main is None:
                continue
            time.sleep(POKE_INTERVAL_S)  # a main thread running bytecode runs the handler by itself
            while not started() and signal.getsignal(signum) is handler:
                signal.pthread_kill(main, signum)
                time.sleep(POKE_INTERVAL_S)
    except BaseException as exc:  # noqa: BLE001 — never a traceback from otel-llm's thread into the app's stderr
        internal_error("signal wakeup: watch", exc)
