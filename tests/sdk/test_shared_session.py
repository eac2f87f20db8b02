"""One ``session()`` object entered more than once: nested, by concurrent asyncio tasks, by threads.

An app keeps one, ``REQUEST_SESSION = otel_llm.session(user_id=...)``, and enters it wherever it
runs. The object kept one token: a second entry replaced the first's, so the first block's exit
detached the wrong context or none at all. The session then stayed current after its block (every
later span tagged with it), and a thread's exit detached another thread's token (OpenTelemetry
logged "Failed to detach context" on the app's log). Each entry now ends the entry it made.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import otel_llm
from otel_llm import semconv as sc
from otel_llm.context import current_session


def test_a_session_entered_again_inside_itself_is_gone_after_the_outer_block(cap) -> None:
    shared = otel_llm.session(user_id="u1")
    with shared:
        with shared:
            assert current_session().user_id == "u1"
        assert current_session().user_id == "u1"
    assert current_session() is None
    otel_llm.tool(lambda: None)()
    assert sc.USER_ID not in cap.spans()[-1].attributes


def test_a_session_shared_by_concurrent_tasks_ends_with_each_tasks_block(cap) -> None:
    shared = otel_llm.session(user_id="u1")

    async def handler(first_out: bool) -> object:
        with shared:
            await asyncio.sleep(0 if first_out else 0.02)
            otel_llm.tool(lambda: None)()
        return current_session()

    async def main() -> list[object]:
        return await asyncio.gather(handler(False), handler(True))

    assert asyncio.run(main()) == [None, None]
    assert [span.attributes.get(sc.USER_ID) for span in cap.spans()] == ["u1", "u1"]


def test_a_session_shared_by_threads_detaches_each_threads_own_context(cap, caplog) -> None:
    shared = otel_llm.session(user_id="u1")
    entered, exited = threading.Barrier(2), threading.Event()
    after: dict[str, object] = {}

    def worker(name: str, exits_first: bool) -> None:
        with shared:
            entered.wait()
            if not exits_first:
                exited.wait()
        if exits_first:
            exited.set()
        after[name] = current_session()

    threads = [threading.Thread(target=worker, args=(name, name == "a")) for name in ("a", "b")]
    with caplog.at_level(logging.WARNING):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert after == {"a": None, "b": None}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]


def test_an_attempt_object_entered_again_inside_itself_is_gone_after_the_outer_block(cap) -> None:
    """``attempt()`` kept one token the same way: the outer block's exit detached nothing, so every
    call after it was still numbered as the attempt."""
    first = otel_llm.attempt(1)
    search = otel_llm.tool("search_web")(lambda: None)
    with first:
        with first:
            search()
        search()
    search()
    assert [span.attributes.get(sc.OTEL_LLM_ATTEMPT) for span in cap.spans()] == [1, 1, None]
