"""Spans ended in worker processes, with the default file exporter; run as a script by the tests.

    python workers_app.py SCENARIO OUTPUT_DIR [TASKS] [SPANS_PER_TASK]

``configure()`` runs at import, as in an app module, so ``spawn`` workers
(which import this module) configure themselves too. Each task ends
SPANS_PER_TASK spans and returns their ids; the ids of every span a worker
ended are written to ``OUTPUT_DIR/ended.json`` — the ground truth that
``traces.jsonl`` is compared with. ``PARENT_CALLS=N`` makes the parent call N
times (and flush) before it starts any worker.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from opentelemetry import trace

import otel_llm

OUT = Path(sys.argv[2])
otel_llm.configure(output_dir=OUT, service_name="workers")


@otel_llm.llm_call(model="gpt-4o", provider="openai")
def call(i: int) -> dict:
    ctx = trace.get_current_span().get_span_context()
    return {"ids": [format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5}}


def task(n: int) -> list[list[str]]:
    spans = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    return [call(n * 1000 + i)["ids"] for i in range(spans)]


def run_pool(method: str, with_block: bool, tasks: int) -> list[list[str]]:
    ctx = multiprocessing.get_context(method)
    if with_block:  # __exit__ calls terminate(): workers get SIGTERM
        with ctx.Pool(2) as pool:
            return [i for ids in pool.map(task, range(tasks)) for i in ids]
    pool = ctx.Pool(2)
    results = [i for ids in pool.map(task, range(tasks)) for i in ids]
    pool.close()
    pool.join()
    return results


def run_executor(method: str, tasks: int) -> list[list[str]]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as executor:
        return [i for ids in executor.map(task, range(tasks)) for i in ids]


def run_bare_fork(tasks: int) -> list[list[str]]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its work, then os._exit (no atexit, no flush)
        os.close(read_end)
        ids = [i for n in range(tasks) for i in task(n)]
        os.write(write_end, json.dumps(ids).encode())
        os.close(write_end)
        os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 1 << 16):
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)


if __name__ == "__main__":
    scenario, tasks = sys.argv[1], int(sys.argv[3]) if len(sys.argv) > 3 else 40
    runs = {
        "pool-fork-with": lambda: run_pool("fork", True, tasks),
        "pool-fork-close-join": lambda: run_pool("fork", False, tasks),
        "pool-spawn-with": lambda: run_pool("spawn", True, tasks),
        "pool-spawn-close-join": lambda: run_pool("spawn", False, tasks),
        "executor-fork": lambda: run_executor("fork", tasks),
        "executor-spawn": lambda: run_executor("spawn", tasks),
        "bare-fork-os-exit": lambda: run_bare_fork(tasks),
    }
    for i in range(int(os.environ.get("PARENT_CALLS", "0"))):  # the parent's own calls, before any fork
        call(-1 - i)
    if os.environ.get("PARENT_CALLS"):
        otel_llm.flush()  # recorded and exported: the aggregations a fork copies hold them
    ended = runs[scenario]()
    (OUT / "ended.json").write_text(json.dumps(ended))
