"""The demo's RAG chat app: classify -> retrieve -> generate -> grade, fully traced.

Why this shape: it is the smallest app that exercises every span kind the way a
real one would. Each chat turn runs inside ``otel_llm.session`` (thread, user,
run configuration) and is one ``@otel_llm.chat`` span; the four steps are
``@otel_llm.graph_node`` children; retrieval is a ``@otel_llm.vector_op``
search; every model request is an ``@otel_llm.llm_call`` on a deterministic
OpenAI-shaped client (``fake_llm``) — some streamed, some failing and retried,
one model missing from every price table. The grade step records an
evaluation; a few ``logging`` warnings and errors are written inside spans.

The app counts what it does in a :class:`DemoSummary`, so the tests can compare
the files the exporter wrote with what actually ran.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import otel_llm
from otel_llm.demo.corpus import CHITCHAT, DOCUMENTS, OUT_OF_SCOPE, QUESTIONS
from otel_llm.demo.fake_llm import RETRYABLE_ERRORS, FakeOpenAI
from otel_llm.demo.vector_store import InMemoryVectorStore

log = logging.getLogger("rag_demo")  # the app's logger, bridged to logs.jsonl
log.addHandler(logging.NullHandler())  # its warnings are demo data for logs.jsonl, not console output

GRAPH = "rag"
PROVIDER = "openai"
CLASSIFY_MODEL = "gpt-4.1-nano"
GENERATE_MODEL = "gpt-4o-mini"  # the API answers with gpt-4o-mini-2024-07-18
GRADE_MODEL = "acme-grader-1"  # self-hosted judge: in no price table, so no cost
CLASSIFY_MAX_TOKENS, GENERATE_MAX_TOKENS, GRADE_MAX_TOKENS = 4, 90, 12
STREAM_EVERY = 5  # every 5th turn streams its answer, starting with the first
EXTRA_FAILURE_RATE = 0.02  # besides the one guaranteed failure, per request

SYSTEM_ANSWER = (
    "You are the otel-llm documentation assistant. Answer the user's question in two or "
    "three sentences, using only the knowledge base excerpts given with the question. "
    "If the excerpts do not contain the answer, say so plainly instead of guessing. "
    "Prefer exact option and attribute names, keep a friendly and concise tone, and "
    "never invent configuration keys, environment variables or command names."
)
SYSTEM_CLASSIFY = (
    "Classify the intent of the user's message as 'question' or 'chitchat'. "
    "Reply with the single word."
)
SYSTEM_GRADE = (
    'Grade the answer\'s relevance to the question from 0 to 1. Reply as JSON: {"score": x}.'
)


@dataclass(frozen=True, slots=True)
class RunConfig:
    """One of the configurations the demo's runs are compared by."""

    name: str
    temperature: float
    max_retries: int

    def as_attributes(self) -> dict[str, float | int]:
        """What ``session(run_config=...)`` puts on every span of the turn."""
        return {"temperature": self.temperature, "max_retries": self.max_retries}


RUN_CONFIGS: tuple[RunConfig, ...] = (
    RunConfig("balanced", temperature=0.2, max_retries=2),
    RunConfig("creative", temperature=0.9, max_retries=1),
    RunConfig("strict", temperature=0.0, max_retries=3),
)
USERS: tuple[str, ...] = tuple(f"user-{n:02d}" for n in range(1, 7))


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """What one turn will do, fixed up front from the seed."""

    index: int
    thread_id: str
    user_id: str
    config: RunConfig
    message: str
    stream: bool


@dataclass
class DemoSummary:
    """What the demo did, counted as it ran (the tests compare it with the files)."""

    turns: int = 0
    threads: int = 0
    users: int = 0
    spans: Counter[str] = field(default_factory=Counter)  # otel_llm.kind -> spans
    nodes: Counter[str] = field(default_factory=Counter)  # graph node -> spans
    llm_calls: Counter[str] = field(default_factory=Counter)  # request model -> calls
    failed_llm_calls: int = 0
    streamed_llm_calls: int = 0  # successful streamed requests
    evaluations: Counter[str] = field(default_factory=Counter)  # label -> count
    log_records: int = 0  # warnings and errors the app logged inside spans

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (Counters become dicts)."""
        return {k: dict(v) if isinstance(v, Counter) else v for k, v in vars(self).items()}


# --- the plan: who asks what, when, with which configuration ------------------
def plan_turns(turns: int, seed: int) -> list[TurnPlan]:
    """Conversations of 2-6 turns, each with a user and a run configuration."""
    rng = random.Random(f"plan-{seed}")
    plans: list[TurnPlan] = []
    thread = 0
    while len(plans) < turns:
        thread += 1
        thread_id = f"thread-{seed}-{thread:03d}"
        user = USERS[rng.randrange(len(USERS))]
        config = RUN_CONFIGS[(thread - 1) % len(RUN_CONFIGS)]
        for _ in range(min(rng.randint(2, 6), turns - len(plans))):
            roll = rng.random()
            pool = QUESTIONS if roll < 0.78 else CHITCHAT if roll < 0.92 else OUT_OF_SCOPE
            index = len(plans)
            plans.append(
                TurnPlan(index, thread_id, user, config, rng.choice(pool), index % STREAM_EVERY == 0)
            )
    return plans


def plan_failures(turns: int, seed: int) -> frozenset[int]:
    """Indices of LLM requests that fail once: always one, plus a few at random.

    Every turn makes at least three requests, so any index below ``3 * turns``
    is reached; no two failures are adjacent, so a single retry recovers.
    """
    rng = random.Random(f"failures-{seed}")
    requests = 3 * turns
    failing = {rng.randrange(requests)}
    for index in range(requests):
        if rng.random() < EXTRA_FAILURE_RATE and not {index - 1, index + 1} & failing:
            failing.add(index)
    return frozenset(failing)


# --- LLM calls: one decorated function per request setting -------------------
@functools.cache
def _completion(model: str, temperature: float, max_tokens: int, stream: bool) -> Callable[..., Any]:
    """A traced Chat Completions call with these request parameters.

    Built once per combination, as an app defines one function per model
    setting; the run configuration picks the temperature at runtime, and the
    decorator puts the parameters on the span (``gen_ai.request.*``).
    """
    extra: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}

    @otel_llm.llm_call(model=model, provider=PROVIDER, temperature=temperature, max_tokens=max_tokens)
    def complete(client: FakeOpenAI, messages: Sequence[Mapping[str, str]]) -> Any:
        return client.chat.completions.create(
            model=model, messages=messages, temperature=temperature, max_tokens=max_tokens, **extra
        )

    return complete


class RagApp:
    """The chat app: per-thread history, a vector store and an LLM client."""

    def __init__(
        self, client: FakeOpenAI, store: InMemoryVectorStore, summary: DemoSummary,
        latency_scale: float = 1.0,
    ) -> None:
        self._client = client
        self._store = store
        self._summary = summary
        self._latency = latency_scale
        self._history: dict[str, list[dict[str, str]]] = {}

    # -- the chat turn (one span) and its graph -------------------------------
    @otel_llm.chat(thread_id_arg="thread_id")
    def turn(self, message: str, thread_id: str, config: RunConfig, stream: bool) -> str:
        """Answer ``message`` in thread ``thread_id``: the graph, in order."""
        self._summary.spans["chat"] += 1
        state: dict[str, Any] = {
            "message": message, "thread_id": thread_id, "config": config, "stream": stream,
        }
        state.update(self.classify(state))
        if state["intent"] == "question":
            state.update(self.retrieve(state))
        state.update(self.generate(state))
        state.update(self.grade(state))
        history = self._history.setdefault(thread_id, [])
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": state["answer"]}]
        return state["answer"]

    @otel_llm.graph_node("classify", graph=GRAPH)
    def classify(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Route small talk past retrieval."""
        self._count_node("classify")
        response = self._llm(
            CLASSIFY_MODEL, 0.0, state["config"],
            [{"role": "system", "content": SYSTEM_CLASSIFY}, {"role": "user", "content": state["message"]}],
            max_tokens=CLASSIFY_MAX_TOKENS,
        )
        return {"intent": response.choices[0].message.content.strip()}

    @otel_llm.graph_node("retrieve", graph=GRAPH)
    def retrieve(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Search the knowledge base; warn when nothing is relevant."""
        self._count_node("retrieve")
        self._summary.spans["vector_op"] += 1
        hits = self._store.search(state["message"])
        if not hits:
            self._log(
                logging.WARNING, "no document above the similarity threshold for a %d-char query",
                len(state["message"]),
            )
        return {"documents": [h.document for h in hits]}

    @otel_llm.graph_node("generate", graph=GRAPH)
    def generate(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Answer from the retrieved excerpts and the thread's history."""
        self._count_node("generate")
        config: RunConfig = state["config"]
        excerpts = "\n".join(f"- {d.text}" for d in state.get("documents", ()))
        user = f"Knowledge base excerpts:\n{excerpts}\n\nQuestion: {state['message']}"
        messages = [
            {"role": "system", "content": SYSTEM_ANSWER},
            *self._history.get(state["thread_id"], ()),
            {"role": "user", "content": user},
        ]
        response = self._llm(
            GENERATE_MODEL, config.temperature, config, messages,
            max_tokens=GENERATE_MAX_TOKENS, stream=state["stream"],
        )
        if state["stream"]:
            answer, finish = self._consume(response)
        else:
            answer, finish = response.choices[0].message.content, response.choices[0].finish_reason
        if finish == "length":
            self._log(logging.WARNING, "answer truncated at max_tokens=%d", GENERATE_MAX_TOKENS)
        return {"answer": answer, "finish_reason": finish}

    @otel_llm.graph_node("grade", graph=GRAPH)
    def grade(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Judge relevance and record it as an evaluation on this node's span."""
        self._count_node("grade")
        prompt = f"Question: {state['message']}\nAnswer: {state['answer']}"
        response = self._llm(
            GRADE_MODEL, 0.0, state["config"],
            [{"role": "system", "content": SYSTEM_GRADE}, {"role": "user", "content": prompt}],
            max_tokens=GRADE_MAX_TOKENS,
        )
        score = float(json.loads(response.choices[0].message.content)["score"])
        label = "pass" if score >= 0.7 else "warning" if score >= 0.4 else "fail"
        otel_llm.record_evaluation("answer_relevance", score=score, label=label)
        self._summary.evaluations[label] += 1
        if label == "fail":
            self._log(logging.ERROR, "answer failed the relevance check (score %.2f)", score)
        return {"score": score, "label": label}

    # -- helpers -----------------------------------------------------------------
    def _llm(
        self, model: str, temperature: float, config: RunConfig,
        messages: Sequence[Mapping[str, str]], *, max_tokens: int, stream: bool = False,
    ) -> Any:
        """One traced request, retried on rate limits and timeouts per ``config``."""
        call = _completion(model, temperature, max_tokens, stream)
        for attempt in range(config.max_retries + 1):
            self._summary.spans["llm_call"] += 1
            self._summary.llm_calls[model] += 1
            try:
                response = call(self._client, messages)
                self._summary.streamed_llm_calls += stream
                return response
            except RETRYABLE_ERRORS as exc:
                self._summary.failed_llm_calls += 1
                if attempt == config.max_retries:
                    raise
                self._log(
                    logging.WARNING, "%s from %s, retrying (%d/%d)",
                    type(exc).__name__, model, attempt + 1, config.max_retries,
                )
                if self._latency > 0:
                    time.sleep(0.005 * 2**attempt * self._latency)  # exponential backoff
        raise AssertionError("unreachable")

    @staticmethod
    def _consume(stream: Iterator[Any]) -> tuple[str, str | None]:
        """Join a chunk stream's deltas, as a UI printing tokens would."""
        parts: list[str] = []
        finish: str | None = None
        for chunk in stream:
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
        return "".join(parts), finish

    def _count_node(self, name: str) -> None:
        self._summary.spans["graph_node"] += 1
        self._summary.nodes[name] += 1

    def _log(self, level: int, msg: str, *args: object) -> None:
        self._summary.log_records += 1
        log.log(level, msg, *args, stacklevel=2)  # attribute the record to the caller


def run(turns: int, seed: int, latency_scale: float = 1.0) -> DemoSummary:
    """Index the corpus and play ``turns`` chat turns; the caller configures otel-llm."""
    summary = DemoSummary()
    plans = plan_turns(turns, seed)
    client = FakeOpenAI(seed, failing_requests=plan_failures(turns, seed), latency_scale=latency_scale)
    store = InMemoryVectorStore()
    store.add(DOCUMENTS)
    summary.spans["vector_op"] += 1
    app = RagApp(client, store, summary, latency_scale)
    for plan in plans:
        with otel_llm.session(
            thread_id=plan.thread_id, user_id=plan.user_id, run_config=plan.config.as_attributes()
        ):
            app.turn(plan.message, thread_id=plan.thread_id, config=plan.config, stream=plan.stream)
    summary.turns = len(plans)
    summary.threads = len({p.thread_id for p in plans})
    summary.users = len({p.user_id for p in plans})
    return summary
