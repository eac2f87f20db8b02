"""GenAI metric points exported as an SDK's metric reader exports them: every minute, cumulative, per process.

``tests.support.synthetic.generate`` collects its points once a day, so a day is all the resolution its metric
points allow. Here each LLM call of its spans is recorded a little after it ends (metrics are recorded off the
call's thread) and counted by the next export of its service's process, which exports every 60 s at a phase of its
own: the lag between a span and the point that counts it, which must never read as calls left out.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import orjson

from otel_llm import semconv
from tests.support.synthetic import MetricPointRecord, SpanRecord, _metrics_request, spans_request

EXPORT_NS = 60 * 10**9


def calls_of(spans: Iterable[SpanRecord]) -> list[SpanRecord]:
    """The LLM calls among ``spans`` (one each: a peer instrumentor's span of the same call is not another)."""
    return [s for s in spans if s.otel_kind == semconv.KIND_LLM_CALL and not s.nested]


def write_exports(calls: Iterable[SpanRecord], path: Path, *, seed: int = 0, lag_s: float = 8.0) -> int:
    """Write to ``path`` (OTLP JSON lines) the cumulative duration-histogram points that count ``calls``: each
    recorded up to ``lag_s`` after its end, exported by its service's process at its next minute (each service
    its own phase), which exports every series (service, model, error.type) it has each minute, grown or not,
    from its first call's export to the last call's. Returns the points written."""
    rng = random.Random(seed)
    calls = sorted(calls, key=lambda s: s.end_ns)
    if not calls:
        return 0
    start_ns = calls[0].start_ns - EXPORT_NS
    phase = {service: (index * 17 + 5) * 10**9 for index, service in enumerate(sorted({c.service_name for c in calls}))}
    resources = {c.service_name: c.resource for c in calls}
    exports: dict[int, dict[tuple[str, str, str | None], list[float]]] = defaultdict(lambda: defaultdict(list))
    for call in calls:
        recorded = call.end_ns + int(rng.uniform(0, lag_s) * 1e9)
        offset = phase[call.service_name]
        export = ((recorded - offset) // EXPORT_NS + 1) * EXPORT_NS + offset
        exports[export][(call.service_name, call.model or "", call.error_type)].append(call.duration_ms / 1000)
    bounds = tuple(float(b) for b in semconv.DURATION_BUCKETS)
    counts: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0] * (len(bounds) + 1))
    sums: dict[tuple[str, str, str | None], float] = defaultdict(float)
    least: dict[tuple[str, str, str | None], float] = {}
    most: dict[tuple[str, str, str | None], float] = {}
    written = 0
    last = max(exports)
    with path.open("wb") as out:
        for service, offset in phase.items():  # a process exports every series it has, every minute, grown or not
            export = min(e for e in exports if (e - offset) % EXPORT_NS == 0)
            while export <= last:
                for key, durations in exports[export].items():
                    if key[0] == service:
                        for duration in durations:
                            counts[key][sum(1 for b in bounds if duration > b)] += 1
                            sums[key] += duration
                            least[key] = min(least.get(key, duration), duration)
                            most[key] = max(most.get(key, duration), duration)
                points = []
                for key in sorted((k for k in counts if k[0] == service), key=str):
                    _, model, error = key
                    attributes = {semconv.GEN_AI_REQUEST_MODEL: model, semconv.GEN_AI_OPERATION_NAME: "chat",
                                  **({semconv.ERROR_TYPE: error} if error else {})}
                    points.append(MetricPointRecord(
                        semconv.METRIC_OPERATION_DURATION, "histogram", "s", service, start_ns, export, attributes,
                        count=sum(counts[key]), sum=sums[key], min=least[key], max=most[key],
                        bucket_counts=tuple(counts[key]), bounds=bounds))
                if points:
                    out.write(orjson.dumps(_metrics_request(points, resources)) + b"\n")
                    written += len(points)
                export += EXPORT_NS
    return written


def write_spans(spans: Iterable[SpanRecord], path: Path) -> None:
    """Write ``spans`` to ``path`` as OTLP JSON lines of 64 spans (as ``generate`` writes its traces)."""
    spans = list(spans)
    with path.open("wb") as out:
        for first in range(0, len(spans), 64):
            out.write(orjson.dumps(spans_request(spans[first:first + 64])) + b"\n")
