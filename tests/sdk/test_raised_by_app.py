"""Whose fault is an exception raised while otel-llm reads the app's result: the app's or otel-llm's.

The app's objects may raise when read (a property, ``__iter__``): that is the app's data being
unreadable, recorded as nothing and never reported. A fault of otel-llm's own goes through the guard:
in this suite it raises (so it fails a test), in production it is logged as an internal error.

The judgment was made on the innermost traceback frame alone: a fault of otel-llm's raised inside
the standard library (``json``) or OpenTelemetry, called by otel-llm's code, was taken for the app's
and hidden in both modes. It now looks past those libraries to the innermost code that called them.
"""

from __future__ import annotations

import collections
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import context as otel_context

import otel_llm
from otel_llm import _guard, _kinds
from otel_llm import semconv as sc


def _parses(key: object) -> str:
    """otel-llm's fault raised in the standard library: parsing text that is no JSON."""
    return json.loads("{not json")


def _writes_context(key: object) -> str:
    """otel-llm's fault raised in OpenTelemetry: writing into a read-only Context."""
    otel_context.Context()["key"] = key
    return ""


OUR_FAULTS = pytest.mark.parametrize(
    ("fault", "error"),
    [(_parses, json.JSONDecodeError), (_writes_context, ValueError)],
    ids=["in-json", "in-opentelemetry"],
)


def _node() -> Callable[[], Any]:
    return otel_llm.graph_node("retrieve")(lambda: {"documents": 3})


@OUR_FAULTS
def test_our_fault_raised_inside_a_library_fails_our_tests(cap, monkeypatch, fault, error) -> None:
    monkeypatch.setattr(_kinds, "as_text", fault)  # the graph node's reading of its result's keys
    with pytest.raises(error):
        _node()()


@OUR_FAULTS
def test_our_fault_raised_inside_a_library_is_one_internal_error_in_production(cap, monkeypatch, caplog, fault, error) -> None:
    monkeypatch.setattr(_kinds, "as_text", fault)
    with _guard.swallowing(), caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert _node()() == {"documents": 3}
    assert [r for r in caplog.records if "internal error at core.finish" in r.getMessage()]
    assert cap.span("retrieve").end_time is not None


class _Keys:
    """The app's collection of keys, whose iteration raises (after reading JSON, in the standard library)."""

    def __iter__(self) -> Iterator[str]:
        json.loads("{the app's bad data")
        return iter(())


class _Result(collections.UserDict):  # type: ignore[type-arg]
    """The app's mapping: the standard library's UserDict iterating the app's own object."""


def _unreadable_results() -> list[Any]:
    result = _Result()
    result.data = _Keys()  # type: ignore[assignment]
    return [result]


def test_the_apps_data_raising_through_the_standard_library_is_the_apps(cap, caplog) -> None:
    """The app's ``__iter__`` reached through a standard-library method, and raising inside the standard
    library itself: the app's fault, neither raised (this suite raises otel-llm's) nor logged."""
    (result,) = _unreadable_results()
    with _guard.swallowing(), caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert otel_llm.graph_node("retrieve")(lambda: result)() is result
    assert not [r for r in caplog.records if "internal error" in r.getMessage()]
    span = cap.span("retrieve")
    assert span.end_time is not None
    assert not [e for e in span.events if e.name == sc.EVENT_GRAPH_STATE_UPDATE]
    (result,) = _unreadable_results()
    assert otel_llm.graph_node("retrieve")(lambda: result)() is result  # in raise mode too
