"""A process forked while its spool's replayer held the replay lock kept that lock for its whole life.

The lock is an ``flock`` on ``.replay.lock``; a forked child inherits the
descriptor, and an ``flock`` lasts until every descriptor of it is closed. A
server that forks its workers at start-up (gunicorn's pre-forking, a
multiprocessing pool) while the replayer delivers the backlog of the previous
run: after that drain every later one found the lock held -- "another process
replays" -- so nothing spooled was sent again while any worker lived. A forked
child now lets go of its copy (the parent's lock stays the parent's).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from otel_llm.exporters._spool_segments import ReplayLock


def test_a_child_forked_while_the_replay_lock_is_held_does_not_keep_it(tmp_path: Path) -> None:
    lock = ReplayLock(tmp_path)
    assert lock.acquire()
    started, tell = os.pipe()
    pid = os.fork()
    if pid == 0:  # a long-lived worker
        os.write(tell, b"up")  # the fork hooks have run
        time.sleep(3)
        os._exit(0)
    try:
        assert os.read(started, 2) == b"up"
        assert not ReplayLock(tmp_path).acquire(), "held by this process"
        lock.release()
        again = ReplayLock(tmp_path)
        assert again.acquire(), "released by the process that took it, not held by its child"
        again.release()
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(started)
        os.close(tell)
