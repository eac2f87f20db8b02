"""The demo's RAG chat app: classify -> retrieve -> [research] -> generate -> grade, fully traced.

Why this shape: it is the smallest app that exercises every span kind the way a
real one would. Each chat turn runs inside ``otel_llm.session`` (thread, user,
run configuration) and is one ``@otel_llm.chat`` span; the steps are
``@otel_llm.graph_node`` children; retrieval is a ``@otel_llm.vector_op``
search; every model request is an ``@otel_llm.llm_call`` on a deterministic
OpenAI-shaped client (``fake_llm``) — some streamed, some failing and retried
(each try numbered with ``otel_llm.attempt``), one model missing from every
price table. When the knowledge base has little on a question, the research
step runs an ``@otel_llm.agent`` whose model asks for two ``@otel_llm.tool``
functions: a web search that times out now and then and is retried up to the
turn's ``max_retries``, and a changelog lookup. The grade step records an
evaluation; a few ``logging`` warnings and errors are written inside spans.

The app counts what it does in a :class:`DemoSummary`, so the tests can compare
the files the exporter wrote with what actually ran.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import otel_llm
from otel_llm.demo.corpus import CHITCHAT, DOCUMENTS, OUT_OF_SCOPE, QUESTIONS
from otel_llm.demo.fake_llm import RETRYABLE_ERRORS, FakeOpenAI
from otel_llm.demo.vector_store import InMemoryVectorStore

_WORD = re.compile(r"[a-z0-9_]{4,}")  # words the changelog lookup matches on
log = logging.getLogger("rag_demo")  # the app's logger, bridged to logs.jsonl
log.addHandler(logging.NullHandler())  # its warnings are demo data for logs.jsonl, not console output

GRAPH = "rag"
PROVIDER = "openai"
CLASSIFY_MODEL = "gpt-4.1-nano"
GENERATE_MODEL = "gpt-4o-mini"  # the API answers with gpt-4o-mini-2024-07-18
GRADE_MODEL = "acme-grader-1"  # self-hosted judge: in no price table, so no cost
RESEARCH_MODEL = "gpt-4.1-nano"  # the researcher agent plans with the small model
CLASSIFY_MAX_TOKENS, GENERATE_MAX_TOKENS, GRADE_MAX_TOKENS, RESEARCH_MAX_TOKENS = 4, 90, 12, 120
STREAM_EVERY = 5  # every 5th turn streams its answer, starting with the first
EXTRA_FAILURE_RATE = 0.02  # besides the one guaranteed failure, per request
RESEARCH_BELOW = 2  # fewer knowledge-base excerpts than this: the researcher looks elsewhere
SEARCH_TIMEOUT_RATE = 0.3  # each search_web try times out with this probability

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
SYSTEM_RESEARCH = (
    "You are a research agent. The knowledge base had little on the user's question: call the "
    "tools to look elsewhere, then sum up what they found in a sentence or two."
)
TOOL_SPECS: tuple[dict[str, Any], ...] = tuple(
    {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": {arg: {"type": "string"}}, "required": [arg]},
    }}
    for name, arg, description in (
        ("search_web", "query", "Search the public web."),
        ("lookup_changelog", "topic", "Search otel-llm's changelog."),
    )
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
    tool_calls: Counter[str] = field(default_factory=Counter)  # tool -> calls (tries)
    failed_tool_calls: int = 0  # tries that timed out
    tool_gave_up: int = 0  # tool retry loops whose every try timed out
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
    def complete(client: FakeOpenAI, messages: Sequence[Mapping[str, Any]], tools: Any = None) -> Any:
        offered = {"tools": list(tools)} if tools else {}
        return client.chat.completions.create(
            model=model, messages=messages, temperature=temperature, max_tokens=max_tokens, **extra, **offered
        )

    return complete


class ResearchTools:
    """The researcher's tools: a web search that times out now and then, and the changelog.

    Each receives the model's tool call id as ``tool_call_id``, so its span
    carries the id and links to the model call that asked for it.
    """

    def __init__(self, summary: DemoSummary, seed: int, latency_scale: float) -> None:
        self._summary = summary
        self._rng = random.Random(f"tools-{seed}")
        self._latency = latency_scale

    @otel_llm.tool("search_web", description="Search the public web (a remote service that sometimes times out)")
    def search_web(self, query: str, tool_call_id: str) -> str:
        self._count("search_web")
        self._sleep(8)
        if self._rng.random() < SEARCH_TIMEOUT_RATE:
            self._sleep(25)
            self._summary.failed_tool_calls += 1
            raise TimeoutError("search_web: no answer within 25 ms")
        words = " ".join(query.split()[:4])
        return f"Web: {self._rng.randint(2, 9)} forum threads discuss '{words}'."

    @otel_llm.tool("lookup_changelog", description="Search otel-llm's changelog")
    def lookup_changelog(self, topic: str, tool_call_id: str) -> str:
        self._count("lookup_changelog")
        self._sleep(2)
        words = set(_WORD.findall(topic.lower()))
        overlap, title = max((len(words & set(_WORD.findall(d.text.lower()))), d.title) for d in DOCUMENTS)
        return f"Changelog: see '{title}'." if overlap >= 3 else "Changelog: nothing on this topic."

    def _count(self, tool: str) -> None:
        self._summary.spans["tool"] += 1
        self._summary.tool_calls[tool] += 1

    def _sleep(self, milliseconds: float) -> None:
        if self._latency > 0:
            time.sleep(milliseconds * self._latency / 1000)


class RagApp:
    """The chat app: per-thread history, a vector store and an LLM client."""

    def __init__(
        self, client: FakeOpenAI, store: InMemoryVectorStore, summary: DemoSummary,
        latency_scale: float = 1.0, *, research_client: FakeOpenAI | None = None,
        tools: ResearchTools | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._summary = summary
        self._latency = latency_scale
        self._history: dict[str, list[dict[str, str]]] = {}
        # The researcher's model is a second deployment whose client retries by itself (its own max_retries):
        # the agent's span then holds one retry loop of the app's, the search's, as attempt() expects.
        self._research_client = research_client or client
        self._tools = tools or ResearchTools(summary, 0, latency_scale)

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
            if len(state["documents"]) < RESEARCH_BELOW:
                state.update(self.research(state))
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

    @otel_llm.graph_node("research", graph=GRAPH)
    def research(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The knowledge base had too little: let the researcher agent look elsewhere."""
        self._count_node("research")
        return {"notes": self.researcher(state["message"], state["config"])}

    @otel_llm.agent("researcher", description="Looks beyond the knowledge base with two tools")
    def researcher(self, question: str, config: RunConfig) -> str:
        """Ask the model which tools to call, run them, and have it sum up their results."""
        self._summary.spans["agent"] += 1
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_RESEARCH}, {"role": "user", "content": question},
        ]
        message = self._ask_researcher(messages, TOOL_SPECS).choices[0].message
        calls = message.tool_calls or []
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
            for c in calls
        ]})
        for call in calls:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": self._run_tool(call, config)})
        return self._ask_researcher(messages).choices[0].message.content

    def _ask_researcher(self, messages: Sequence[Mapping[str, Any]], tools: Any = None) -> Any:
        self._summary.spans["llm_call"] += 1
        self._summary.llm_calls[RESEARCH_MODEL] += 1
        return _completion(RESEARCH_MODEL, 0.0, RESEARCH_MAX_TOKENS, False)(self._research_client, messages, tools)

    def _run_tool(self, call: Any, config: RunConfig) -> str:
        """Run one tool call; the web search is retried on timeouts, up to the turn's max_retries."""
        arguments = json.loads(call.function.arguments)
        if call.function.name == "lookup_changelog":
            return self._tools.lookup_changelog(arguments["topic"], tool_call_id=call.id)
        for attempt in range(1, config.max_retries + 2):
            try:
                with otel_llm.attempt(attempt):
                    return self._tools.search_web(arguments["query"], tool_call_id=call.id)
            except TimeoutError:
                if attempt > config.max_retries:
                    self._summary.tool_gave_up += 1
                    self._log(logging.WARNING, "search_web gave up after %d attempts", attempt)
                    return "Web: unavailable."
                if self._latency > 0:
                    time.sleep(0.005 * 2 ** (attempt - 1) * self._latency)  # exponential backoff
        raise AssertionError("unreachable")

    @otel_llm.graph_node("generate", graph=GRAPH)
    def generate(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Answer from the retrieved excerpts and the thread's history."""
        self._count_node("generate")
        config: RunConfig = state["config"]
        found = [d.text for d in state.get("documents", ())] + ([state["notes"]] if state.get("notes") else [])
        excerpts = "\n".join(f"- {text}" for text in found)
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
                with otel_llm.attempt(attempt + 1):
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
    research_client = FakeOpenAI(seed + 1, latency_scale=latency_scale)
    store = InMemoryVectorStore()
    store.add(DOCUMENTS)
    summary.spans["vector_op"] += 1
    tools = ResearchTools(summary, seed, latency_scale)
    app = RagApp(client, store, summary, latency_scale, research_client=research_client, tools=tools)
    for plan in plans:
        with otel_llm.session(
            thread_id=plan.thread_id, user_id=plan.user_id, run_config=plan.config.as_attributes()
        ):
            app.turn(plan.message, thread_id=plan.thread_id, config=plan.config, stream=plan.stream)
    summary.turns = len(plans)
    summary.threads = len({p.thread_id for p in plans})
    summary.users = len({p.user_id for p in plans})
    return summary
