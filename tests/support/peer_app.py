"""A small app that calls OpenAI through a real ``openai`` client, instrumented by a peer.

Run in its own process (instrumentors patch ``openai`` for the whole process)::

    python -m tests.support.peer_app PEER OUT_DIR

``PEER`` is ``openllmetry`` (opentelemetry-instrumentation-openai), ``openlit``,
``openinference`` (openinference-instrumentation-openai), ``openai-v2``
(opentelemetry-instrumentation-openai-v2, installed only in ``.bench-venv``) or
``none`` (otel-llm alone). otel-llm's own file exporter writes ``OUT_DIR/traces.jsonl``; the peer
records on the same (global) tracer provider, as it does in a real app.

The OpenAI API is an ``httpx.MockTransport`` answering with real-shaped
responses (plain, streamed with usage in the last chunk, embeddings). Every
request it answers is written to ``OUT_DIR/wire.json`` - one entry per model
call with the scenario, model and token counts - the ground truth the tests
compare the analysis against, independent of any instrumentation.

Scenarios, each one chat turn with ``run_config={"scenario": name}``:

* ``bare``, ``bare_stream``, ``bare_embedding``: the peer alone traces the call;
* ``wrapped``, ``wrapped_stream``: ``@otel_llm.llm_call`` around the call (two LLM spans);
* ``wrapped_text``: ``@llm_call`` around a function that returns only the text
  (the SDK sees no usage; the peer does);
* ``wrapped_two``: ``@llm_call`` around a function that calls the model twice;
* ``agent`` (OpenInference only): its own AGENT / TOOL / CHAIN / RETRIEVER spans
  (``OITracer`` decorators) around a plain call, for the kind mapping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import httpx

import otel_llm

CHAT_MODEL = "gpt-4o-mini"
CHAT_RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
EMBEDDING_MODEL = "text-embedding-3-small"
PEERS = ("openllmetry", "openlit", "openinference", "openai-v2", "none")  # openai-v2: only in .bench-venv
REPO = Path(__file__).resolve().parents[2]


class FakeOpenAI:
    """The mock API: answers like OpenAI and remembers what it served."""

    def __init__(self) -> None:
        self.scenario = ""
        self.served: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        n = len(self.served) + 1
        if request.url.path.endswith("/embeddings"):
            usage = {"prompt_tokens": 3 + n, "total_tokens": 3 + n}
            self._serve(EMBEDDING_MODEL, usage["prompt_tokens"], None)
            return httpx.Response(200, json={
                "object": "list", "model": EMBEDDING_MODEL, "usage": usage,
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}]})
        prompt, completion = 100 + 10 * n, 20 + n  # distinct per call, so a double count shows
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        self._serve(body["model"], prompt, completion)
        base = {"id": f"chatcmpl-{n}", "created": 1_764_000_000, "model": CHAT_RESPONSE_MODEL}
        if not body.get("stream"):
            return httpx.Response(200, json={
                **base, "object": "chat.completion", "usage": usage,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello."},
                             "finish_reason": "stop"}]})
        chunk = {**base, "object": "chat.completion.chunk"}
        events = [
            {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]},
            {**chunk, "choices": [{"index": 0, "delta": {"content": "lo."}, "finish_reason": None}]},
            {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {**chunk, "choices": [], "usage": usage},
        ]
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})

    def _serve(self, model: str, input_tokens: int, output_tokens: int | None) -> None:
        self.served.append({"scenario": self.scenario, "model": model, "input_tokens": input_tokens,
                            "output_tokens": output_tokens})


def instrument(peer: str, out_dir: Path) -> None:
    """Turn the peer's OpenAI instrumentation on (on the global tracer provider)."""
    if peer == "openllmetry":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
    elif peer == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
    elif peer == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
    elif peer == "openlit":
        import openlit

        # An empty local price list: OpenLIT's offline behaviour (its default
        # fetches a list from the internet) without any network access.
        prices = out_dir / "openlit-prices.json"
        prices.write_text("{}")
        openlit.init(service_name="peer-openlit", disable_metrics=True, disable_batch=True,
                     capture_message_content=False, pricing_json=str(prices))
    elif peer != "none":
        raise SystemExit(f"unknown peer {peer!r}; choose one of {', '.join(PEERS)}")


def scenarios(client: Any, peer: str) -> dict[str, Callable[[], Any]]:
    """Name -> the work one chat turn does."""
    messages = [{"role": "user", "content": "Say hello."}]

    def ask(**extra: Any) -> Any:
        return client.chat.completions.create(model=CHAT_MODEL, messages=messages, **extra)

    def ask_streamed() -> Any:
        return ask(stream=True, stream_options={"include_usage": True})

    def drain(stream: Any) -> None:
        for _ in stream:
            pass

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    def wrapped() -> Any:
        return ask()

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    def wrapped_stream() -> Any:
        return ask_streamed()

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    def wrapped_text() -> str:
        return ask().choices[0].message.content

    @otel_llm.llm_call(model=CHAT_MODEL, provider="openai")
    def wrapped_two() -> Any:
        ask()
        return ask()

    work = {
        "bare": ask,
        "bare_stream": lambda: drain(ask_streamed()),
        "bare_embedding": lambda: client.embeddings.create(model=EMBEDDING_MODEL, input="hello"),
        "wrapped": wrapped,
        "wrapped_stream": lambda: drain(wrapped_stream()),
        "wrapped_text": wrapped_text,
        "wrapped_two": wrapped_two,
    }
    if peer == "openinference":
        work["agent"] = openinference_agent(ask)
    return work


def openinference_agent(ask: Callable[[], Any]) -> Callable[[], Any]:
    """An agent that retrieves, runs a chain step and a tool, with OpenInference's own decorators."""
    from openinference.instrumentation import OITracer, TraceConfig
    from opentelemetry import trace

    tracer = OITracer(trace.get_tracer("peer_app.agent"), TraceConfig())

    @tracer.retriever(name="search_docs")
    def search(query: str) -> list[str]:
        return ["doc"]

    @tracer.tool(name="lookup_weather")
    def weather(city: str) -> str:
        return "sunny"

    @tracer.chain(name="plan")
    def plan(question: str) -> Any:
        search(question)
        return ask()

    @tracer.agent(name="assistant")
    def agent(question: str) -> str:
        plan(question)
        return weather("Paris")

    return lambda: agent("weather?")


def start(argv: list[str], project: str) -> tuple[str, Path]:
    """``PEER OUT_DIR`` from the command line; otel-llm's file exporter into ``OUT_DIR`` under ``project``,
    then the peer's instrumentation on the same (global) tracer provider."""
    peer, out_dir = argv[0], Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    otel_llm.configure(service_name=f"{project}-{peer}", project=project, exporter="file", output_dir=str(out_dir),
                       logs=False)
    instrument(peer, out_dir)
    return peer, out_dir


def record(module: str, peers: tuple[str, ...], mktemp: Callable[[str], Path]) -> dict[str, Path]:
    """Run the app ``module`` once per peer, each in a process of its own (instrumentors patch ``openai``
    for the whole process) writing into a new directory: ``{peer: directory}``; fails with an app's stderr."""
    out: dict[str, Path] = {}
    for peer in peers:
        out[peer] = mktemp(f"{module.rsplit('.', 1)[-1]}-{peer}")
        proc = subprocess.run([sys.executable, "-m", module, peer, str(out[peer])], cwd=REPO,
                              env={**os.environ, "OTEL_SDK_DISABLED": "false"}, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def main(argv: list[str]) -> None:
    peer, out_dir = start(argv, "peers")
    import openai

    api = FakeOpenAI()
    client = openai.OpenAI(api_key="test-key", max_retries=0,
                           http_client=httpx.Client(transport=httpx.MockTransport(api.handle)))

    @otel_llm.chat
    def turn(work: Callable[[], Any]) -> None:
        work()

    for name, work in scenarios(client, peer).items():
        api.scenario = name
        with otel_llm.session(thread_id=f"thread-{name}", user_id="peer-user", run_config={"scenario": name}):
            turn(work)
    otel_llm.shutdown()
    (out_dir / "wire.json").write_text(json.dumps(api.served, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
