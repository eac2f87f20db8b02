"""A decorated ``functools.partial`` or callable object pickles as the undecorated one does.

Apps hand such callables to a process pool (``ProcessPoolExecutor.submit(ask, ...)``, multiprocessing,
Celery, Ray), which pickles them. Undecorated they pickle; decorated, the stand-in held a local
wrapper function and pickling raised "Can't pickle local object". They now pickle as the callable
and its kind, and come back instrumented.
"""

from __future__ import annotations

import functools
import pickle
from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc


def create(prompt: str, model: str) -> dict[str, Any]:
    return {"model": model, "choices": [{"message": {"role": "assistant", "content": prompt}}]}


class Planner:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, goal: str) -> str:
        return self.prefix + goal


@pytest.mark.parametrize(
    ("decorated", "span_name", "expected"),
    [
        (otel_llm.llm_call(model="m", provider="openai")(functools.partial(create, model="m")), "chat m",
         create("hi", "m")),
        (otel_llm.agent("planner")(Planner("plan: ")), "invoke_agent planner", "plan: hi"),
        (otel_llm.tool(functools.partial(create, model="x")), "execute_tool create", create("hi", "x")),
    ],
    ids=["llm_call-partial", "agent-callable-object", "tool-partial"],
)
def test_a_decorated_partial_or_callable_object_pickles_and_stays_instrumented(cap, decorated, span_name, expected) -> None:
    loaded = pickle.loads(pickle.dumps(decorated))
    assert loaded("hi") == expected
    (span,) = cap.spans()
    assert span.name == span_name
    assert span.attributes[sc.OTEL_LLM_KIND] in ("llm_call", "agent", "tool")
