"""Response classes made per call are not kept alive by otel-llm's per-class caches.

What a response's class declares (its pydantic fields, its usage layout, whether
it is a stream) is remembered per class, to keep the hot path to a dict lookup.
An app that makes a class per call (``pydantic.create_model`` for a structured
answer, a ``namedtuple`` per request) had every one of them kept for the life of
the process, with all the caches' entries: memory that only grew. The caches
hold a bounded number of classes; past it they start again (a class is then
looked at once more), and every call is still read alike.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pydantic
import pytest

import otel_llm
from otel_llm import _bounded_cache, _streams, _usage
from otel_llm import semconv as sc
from otel_llm.testing import Capture

CLASSES = 3 * _bounded_cache.CLASSES_REMEMBERED


def _response_class(i: int) -> type[pydantic.BaseModel]:
    usage = pydantic.create_model(f"Usage{i}", prompt_tokens=(int, 10), completion_tokens=(int, 5))
    return pydantic.create_model(f"Answer{i}", model=(str, "test-model"), usage=(usage, ...))


def test_classes_made_per_call_are_let_go_and_every_call_is_read() -> None:
    made: list[weakref.ref[type]] = []

    @otel_llm.llm_call(model="test-model", provider="openai")
    def ask(i: int) -> Any:
        answer = _response_class(i)
        made.append(weakref.ref(answer))
        return answer(usage=answer.model_fields["usage"].annotation())

    with Capture(project="p", pricing={"test-model": {"input": 1.0, "output": 2.0}}) as cap:
        for i in range(CLASSES):
            ask(i)
        costs = [s.attributes.get(sc.GEN_AI_USAGE_COST) for s in cap.spans()]
    gc.collect()
    alive = sum(1 for ref in made if ref() is not None)
    assert alive <= _bounded_cache.CLASSES_REMEMBERED + 1, alive
    assert costs == [pytest.approx(10e-6 + 10e-6)] * CLASSES  # each read, first and again
    for cache in (_usage._PLANS, _usage._FIELDS, _usage._SHAPE_OF, _usage._DECLARES_ADDED, _streams._PROXY_FOR,
                  _streams.NOT_STREAMS):
        assert len(cache) <= _bounded_cache.CLASSES_REMEMBERED
    assert len(_usage._CLASS_NAMES) <= _bounded_cache.CLASS_NAMES_REMEMBERED
