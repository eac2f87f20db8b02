"""The edges of a real ``openai`` client under a peer instrumentor: async, streams without usage, tool calls,
HTTP errors, the client's own retries and an answer without usage (an OpenAI-compatible server's), with
otel-llm's ``@tool``/``@agent`` around.

Run in its own process (instrumentors patch ``openai`` for the whole process)::

    python -m tests.analysis._peer_edge_app PEER OUT_DIR

``PEER`` is ``openllmetry``, ``openinference``, ``openlit``, ``openai-v2`` or ``none``
(``openai-v2`` is installed only in ``.bench-venv``). otel-llm's file exporter writes
``OUT_DIR/traces.jsonl``; ``OUT_DIR/wire.json`` lists every ``create()`` the app made
(scenario, requested model, tokens of the answer it got, whether it raised, how many
HTTP attempts the client made, tool calls answered): the ground truth.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Callable

import httpx

import otel_llm
from tests.support.peer_app import start

CHAT_MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"


class EdgeAPI:
    """The mock API. ``plan`` is the list of statuses the next attempts get (then 200)."""

    def __init__(self) -> None:
        self.plan: list[int] = []
        self.attempts = 0
        self.n = 0
        self.served: list[tuple[int | None, int | None]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.plan:
            status = self.plan.pop(0)
            return httpx.Response(status, headers={"retry-after-ms": "1"},
                                  json={"error": {"message": f"mock {status}", "type": "server_error"}})
        body = json.loads(request.content)
        self.n += 1
        prompt, completion = 200 + 10 * self.n, 30 + self.n
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        self.served.append((prompt, completion))
        tool = bool(body.get("tools"))
        base = {"id": f"chatcmpl-e{self.n}", "created": 1_764_000_000, "model": RESPONSE_MODEL}
        call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        if not body.get("stream"):
            if body.get("omit_usage"):  # an OpenAI-compatible server that reports no usage
                usage = None
                self.served[-1] = (None, None)
            message = ({"role": "assistant", "content": None, "tool_calls": [call]} if tool
                       else {"role": "assistant", "content": "Hello."})
            return httpx.Response(200, json={**base, "object": "chat.completion", **({"usage": usage} if usage else {}),
                                             "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if tool else "stop"}]})
        chunk = {**base, "object": "chat.completion.chunk"}
        if tool:
            deltas = [{"role": "assistant", "tool_calls": [{"index": 0, **call, "function": {"name": "get_weather",
                                                                                               "arguments": ""}}]},
                      {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":"Paris"}'}}]}]
        else:
            deltas = [{"role": "assistant", "content": "Hel"}, {"content": "lo."}]
        events = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if tool else "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk, "choices": [], "usage": usage})
        else:
            self.served[-1] = (None, None)  # the client never sees the usage
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})


TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}}}}}]


def main(argv: list[str]) -> None:
    peer, out_dir = start(argv, "edges")
    import openai

    api = EdgeAPI()
    transport = httpx.MockTransport(api.handle)

    def client(retries: int) -> Any:
        return openai.OpenAI(api_key="k", max_retries=retries, http_client=httpx.Client(transport=transport))

    def aclient(retries: int) -> Any:
        return openai.AsyncOpenAI(api_key="k", max_retries=retries, http_client=httpx.AsyncClient(transport=transport))

    wire: list[dict[str, Any]] = []
    messages = [{"role": "user", "content": "Hi."}]

    def run(name: str, fn: Callable[[], Any], plan: list[int] = (), **kw: Any) -> None:
        api.plan, api.served = list(plan), []
        before = api.attempts
        error, crashed = False, None

        @otel_llm.chat
        def turn() -> None:
            fn()

        with otel_llm.session(thread_id=f"t-{name}", run_config={"scenario": name}):
            try:
                turn()
            except openai.APIError:
                error = True
            except Exception as exc:  # noqa: BLE001 — an instrumentation that broke the app: the wire says so
                crashed = f"{type(exc).__name__}: {exc}"
        known = [s for s in api.served if s[0] is not None]
        wire.append({"scenario": name, "model": CHAT_MODEL, "calls": kw.pop("calls", 1),
                     "input_tokens": sum(s[0] for s in known) if known else None,
                     "output_tokens": sum(s[1] for s in known) if known else None,
                     "error": error, "crashed": crashed, "attempts": api.attempts - before, **kw})

    def drain(stream: Any) -> None:
        for _ in stream:
            pass

    async def adrain(stream: Any) -> None:
        async for _ in stream:
            pass

    c0, c2 = client(0), client(2)
    run("sync_plain", lambda: c0.chat.completions.create(model=CHAT_MODEL, messages=messages))
    run("async_plain", lambda: asyncio.run(aclient(0).chat.completions.create(model=CHAT_MODEL, messages=messages)))
    run("sync_stream_usage", lambda: drain(c0.chat.completions.create(
        model=CHAT_MODEL, messages=messages, stream=True, stream_options={"include_usage": True})), stream=True)
    run("sync_stream_nousage", lambda: drain(c0.chat.completions.create(
        model=CHAT_MODEL, messages=messages, stream=True)), stream=True)

    async def astream(usage: bool) -> None:
        extra = {"stream_options": {"include_usage": True}} if usage else {}
        await adrain(await aclient(0).chat.completions.create(model=CHAT_MODEL, messages=messages, stream=True,
                                                             **extra))

    run("plain_nousage", lambda: c0.chat.completions.create(model=CHAT_MODEL, messages=messages,
                                                             extra_body={"omit_usage": True}))
    run("async_stream_usage", lambda: asyncio.run(astream(True)), stream=True)
    run("async_stream_nousage", lambda: asyncio.run(astream(False)), stream=True)
    run("tool_call", lambda: c0.chat.completions.create(model=CHAT_MODEL, messages=messages, tools=TOOLS),
        tool_calls=1)
    run("tool_call_stream", lambda: drain(c0.chat.completions.create(
        model=CHAT_MODEL, messages=messages, tools=TOOLS, stream=True, stream_options={"include_usage": True})),
        tool_calls=1, stream=True)
    run("error_429", lambda: c0.chat.completions.create(model=CHAT_MODEL, messages=messages), plan=[429])
    run("error_500_retried", lambda: c2.chat.completions.create(model=CHAT_MODEL, messages=messages),
        plan=[500, 500, 500])
    run("retry_then_ok", lambda: c2.chat.completions.create(model=CHAT_MODEL, messages=messages), plan=[500, 429])

    @otel_llm.tool
    def weather_tool() -> Any:
        return c0.chat.completions.create(model=CHAT_MODEL, messages=messages)

    @otel_llm.agent
    def helper_agent() -> Any:
        weather_tool()
        return c0.chat.completions.create(model=CHAT_MODEL, messages=messages)

    run("agent_tool", helper_agent, calls=2)

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    async def wrapped_async() -> Any:
        return await aclient(0).chat.completions.create(model=CHAT_MODEL, messages=messages)

    run("wrapped_async", lambda: asyncio.run(wrapped_async()))

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    def wrapped_error() -> Any:
        return c0.chat.completions.create(model=CHAT_MODEL, messages=messages)

    run("wrapped_error", wrapped_error, plan=[500])

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    def wrapped_stream_nousage() -> Any:
        return c0.chat.completions.create(model=CHAT_MODEL, messages=messages, stream=True)

    run("wrapped_stream_nousage", lambda: drain(wrapped_stream_nousage()), stream=True)
    otel_llm.shutdown()
    (out_dir / "wire.json").write_text(json.dumps(wire, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
