"""Roll-ups: the tokens, cost, model calls and tool calls made inside a chat turn or an agent.

Why in the context: the llm_calls and tools that make up a turn or an agent
invocation run anywhere below it — nested functions, threads, tasks — and the
OpenTelemetry context follows them all. The innermost roll-up is kept under
:data:`ROLLUP_KEY`; each one points to the roll-up it was opened in, and an
addition counts in every enclosing one, so an agent inside a chat turn shows
its own totals and the turn shows everything, the agent's included. Summing
the roll-ups of nested spans therefore counts twice: analysis sums the calls
themselves; roll-ups are for reading one span.

A model call still running when its turn or agent ends (a stream read after
the agent returned, a task it left running) ends after the totals were
written: it is counted in ``unfinished_calls`` then, not left out in silence;
the roll-ups still open when it ends (a turn around the agent) total it. A call
that starts after the span ended (a task it spawned, running on) says so
itself: ``otel_llm.rollup.late`` on its span (see :func:`late`).

Each roll-up has its own lock: calls in several threads may add at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, NamedTuple

from opentelemetry import context as otel_context
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from otel_llm import semconv

if TYPE_CHECKING:
    from otel_llm._usage import Usage

__all__ = ["AGENT", "ROLLUP_KEY", "RollUp", "RollUpNames", "TURN", "current_rollup", "late", "opened"]

ROLLUP_KEY = otel_context.create_key("otel_llm.rollup")


class RollUpNames(NamedTuple):
    """The attribute names one kind of roll-up is written under."""

    input_tokens: str
    output_tokens: str
    cost: str
    llm_calls: str
    tool_calls: str
    unpriced_calls: str
    unfinished_calls: str
    unobserved_calls: str


TURN = RollUpNames(
    semconv.OTEL_LLM_TURN_INPUT_TOKENS,
    semconv.OTEL_LLM_TURN_OUTPUT_TOKENS,
    semconv.OTEL_LLM_TURN_COST,
    semconv.OTEL_LLM_TURN_LLM_CALLS,
    semconv.OTEL_LLM_TURN_TOOL_CALLS,
    semconv.OTEL_LLM_TURN_UNPRICED_CALLS,
    semconv.OTEL_LLM_TURN_UNFINISHED_CALLS,
    semconv.OTEL_LLM_TURN_UNOBSERVED_CALLS,
)
AGENT = RollUpNames(
    semconv.OTEL_LLM_AGENT_INPUT_TOKENS,
    semconv.OTEL_LLM_AGENT_OUTPUT_TOKENS,
    semconv.OTEL_LLM_AGENT_COST,
    semconv.OTEL_LLM_AGENT_LLM_CALLS,
    semconv.OTEL_LLM_AGENT_TOOL_CALLS,
    semconv.OTEL_LLM_AGENT_UNPRICED_CALLS,
    semconv.OTEL_LLM_AGENT_UNFINISHED_CALLS,
    semconv.OTEL_LLM_AGENT_UNOBSERVED_CALLS,
)


class RollUp:
    """Running totals of one turn or agent invocation; additions reach every enclosing roll-up."""

    __slots__ = (
        "input_tokens", "output_tokens", "cost", "llm_calls", "tool_calls", "unpriced_calls", "unobserved_calls",
        "running", "closed", "parent", "_lock",
    )

    def __init__(self, parent: "RollUp | None" = None) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost: float | None = None  # None: no call was priced
        self.llm_calls = 0
        self.tool_calls = 0
        self.unpriced_calls = 0  # calls with tokens and no cost: ``cost`` leaves them out
        self.unobserved_calls = 0  # calls whose usage could not be seen: no tokens, no cost to add
        self.running = 0  # model calls started and not ended: at the span's end, its unfinished calls
        self.closed = False  # its totals were written (its span ended): later additions are not in them
        self.parent = parent
        self._lock = threading.Lock()

    def add_llm_call(self) -> None:
        """One model call started (it ends with :meth:`end_llm_call`)."""
        rollup: RollUp | None = self
        while rollup is not None:
            with rollup._lock:
                rollup.llm_calls += 1
                rollup.running += 1
            rollup = rollup.parent

    def end_llm_call(self, usage: "Usage | None", cost: float | None, counted: bool, unobserved: bool) -> None:
        """A model call ended, with its usage and cost when known (``None``: a wrapper's, which its
        inner call brought); ``counted``: it was counted as it started (:meth:`add_llm_call`);
        ``unobserved``: its usage could not be seen."""
        # A usage that is only a total has tokens too: unpriced, and in neither sum (it cannot be split).
        tokens = usage is not None and (
            usage.input_tokens is not None or usage.output_tokens is not None or usage.total_tokens is not None
        )
        if not tokens and not counted and cost is None and not unobserved:
            return
        unpriced = cost is None and tokens
        rollup: RollUp | None = self
        while rollup is not None:
            with rollup._lock:
                if counted:
                    rollup.running -= 1
                if usage is not None:
                    rollup.input_tokens += usage.input_tokens or 0
                    rollup.output_tokens += usage.output_tokens or 0
                if cost is not None:
                    rollup.cost = (rollup.cost or 0.0) + cost
                elif unpriced:
                    rollup.unpriced_calls += 1
                if unobserved:
                    rollup.unobserved_calls += 1
            rollup = rollup.parent

    def add_tool_call(self) -> None:
        """One tool call started (whatever its outcome)."""
        rollup: RollUp | None = self
        while rollup is not None:
            with rollup._lock:
                rollup.tool_calls += 1
            rollup = rollup.parent

    def close(self, names: RollUpNames) -> dict[str, AttributeValue]:
        """The totals as span attributes, as the span ends; no cost attribute when nothing was priced,
        and the calls the totals leave out (tokens and no price; usage not seen; still running) only
        when there are some."""
        with self._lock:
            self.closed = True
            attrs: dict[str, AttributeValue] = {
                names.input_tokens: self.input_tokens,
                names.output_tokens: self.output_tokens,
                names.llm_calls: self.llm_calls,
                names.tool_calls: self.tool_calls,
            }
            if self.cost is not None:
                attrs[names.cost] = self.cost
            if self.unpriced_calls:
                attrs[names.unpriced_calls] = self.unpriced_calls
            if self.unobserved_calls:
                attrs[names.unobserved_calls] = self.unobserved_calls
            if self.running > 0:
                attrs[names.unfinished_calls] = self.running
            return attrs


def late(rollup: RollUp | None, span: Span) -> None:
    """A call starting in ``rollup``: if that roll-up's span has ended, say on ``span`` that the call
    is not in its totals (the roll-ups around it still open count it as usual)."""
    if rollup is not None and rollup.closed:
        span.set_attribute(semconv.OTEL_LLM_ROLLUP_LATE, True)


def current_rollup(ctx: otel_context.Context | None = None) -> RollUp | None:
    """The innermost roll-up in ``ctx`` (default: the current context), if any."""
    return otel_context.get_value(ROLLUP_KEY, ctx)  # type: ignore[return-value]


def opened(parent: otel_context.Context) -> tuple[RollUp, dict[str, RollUp]]:
    """A new roll-up inside whatever ``parent`` holds, and the context value that makes it the innermost."""
    rollup = RollUp(current_rollup(parent))
    return rollup, {ROLLUP_KEY: rollup}
