"""Every request and every file line under a byte bound: split batches, shrink single oversized items.

Why: receivers refuse what is too big, and a refused batch that is retried
blocks everything behind it. The OTLP receiver's defaults are 4 MiB per gRPC
message and 20 MiB per HTTP body; the upstream ``otlpjsonfilereceiver`` reads
lines of at most 1 MiB and silently skips longer ones. So a batch whose
encoding exceeds the bound (``max_request_bytes``) is split into several
requests; an item (span, log record) that alone exceeds it — possible only
with captured content — has its longest string values cut, each ending with
the same marker the content policy uses, ``…[truncated from N chars]``.

Two representations are handled: OTLP-JSON messages (dicts, for files and the
spool: :func:`bounded_lines`) and SDK spans (for the protobuf wire encoder:
:func:`shrink_span`). Both cut strings with :func:`cut_longest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

from otel_llm._content import utf8_safe

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "bounded_lines", "bounded_records", "count_items", "cut_longest", "shrink_span",
           "smaller_bound", "utf8"]

# 1 MiB: the otlpjsonfilereceiver's line limit, a quarter of the OTLP receiver's gRPC limit (4 MiB)
# and a twentieth of its HTTP limit (20 MiB), all at their defaults.
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024

#: The smallest request bound a 413 answer halves down to: below it, even one item cut to its markers may
#: not fit, and the endpoint's answer stands (a refusal, kept in the dead-letter file).
MIN_REQUEST_BYTES = 4 * 1024

#: HTTP 413 Content Too Large: the endpoint (or a proxy before it) takes smaller requests.
TOO_LARGE = 413


def smaller_bound(status: int | None, request_bytes: int) -> int | None:
    """The bound to send a request of ``request_bytes`` again under after the endpoint answered
    ``status``: half its size after a 413, None otherwise or when that is below :data:`MIN_REQUEST_BYTES`.

    Why: a proxy in front of the collector often takes less than
    :data:`DEFAULT_MAX_REQUEST_BYTES`; its 413 says nothing against the data,
    which goes through in smaller requests.
    """
    if status != TOO_LARGE or request_bytes // 2 < MIN_REQUEST_BYTES:
        return None
    return request_bytes // 2


# top-level key -> (scope list key, item list key)
LAYOUT = {
    "resourceSpans": ("scopeSpans", "spans"),
    "resourceLogs": ("scopeLogs", "logRecords"),
    "resourceMetrics": ("scopeMetrics", "metrics"),
}
_METRIC_DATA = ("sum", "gauge", "histogram", "exponentialHistogram", "summary")


def marker(original_chars: int) -> str:
    """The truncation marker, as ``ContentPolicy.truncate`` writes it."""
    return f"…[truncated from {original_chars} chars]"


def utf8(text: str) -> bytes:
    """``text`` as UTF-8 for a protobuf field; never raises: a lone surrogate, which UTF-8 (so protobuf)
    cannot carry, becomes U+FFFD, as the collector makes of the same text sent as JSON
    (:func:`otel_llm._content.utf8_safe`)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return utf8_safe(text).encode("utf-8")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")  # lone surrogates occur in app text


def _utf8_prefix(text: str, max_bytes: int) -> str:
    return _utf8(text)[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def cut_longest(texts: Sequence[str], excess: int) -> list[str]:
    """Shorten the longest of ``texts`` so that together they lose at least ``excess`` UTF-8 bytes.

    Water-filling: every text longer than a cap is cut to the cap plus a
    marker; the cap is the largest one that frees enough. Texts under the cap
    are untouched. When even cutting everything cannot free ``excess``, every
    text is cut to its marker.
    """
    sizes = [len(_utf8(t)) for t in texts]

    def freed(cap: int) -> int:
        return sum(size - cap - len(marker(len(t)).encode()) for t, size in zip(texts, sizes)
                   if size > cap + len(marker(len(t)).encode()))

    low, high = 0, max(sizes, default=0)
    if freed(0) < excess:
        high = 0
    while low < high:  # the largest cap that still frees enough
        middle = (low + high + 1) // 2
        if freed(middle) >= excess:
            low = middle
        else:
            high = middle - 1
    cap = low
    return [
        _utf8_prefix(t, cap) + marker(len(t)) if size > cap + len(marker(len(t)).encode()) else t
        for t, size in zip(texts, sizes)
    ]


# --- OTLP-JSON messages ------------------------------------------------------------
def _layout(message: dict[str, Any]) -> tuple[str, str, str] | None:
    for top, (scopes, items) in LAYOUT.items():
        if top in message:
            return top, scopes, items
    return None


def _metric_points(metric: dict[str, Any]) -> tuple[dict[str, Any], list[Any]] | None:
    for key in _METRIC_DATA:
        data = metric.get(key)
        if isinstance(data, dict):
            return data, data.get("dataPoints", [])
    return None


def count_items(message: dict[str, Any]) -> int:
    """Spans, log records or metric data points in an OTLP-JSON export request."""
    layout = _layout(message)
    if layout is None:
        return 0
    top, scopes, items = layout
    total = 0
    for resource in message.get(top, []):
        for scope in resource.get(scopes, []):
            for item in scope.get(items, []):
                if top == "resourceMetrics":
                    points = _metric_points(item)
                    total += len(points[1]) if points else 0
                else:
                    total += 1
    return total


def _string_slots(value: Any) -> Iterator[tuple[MutableMapping[str, Any], str]]:
    """Every ``stringValue`` (attribute values, bodies, event attributes) inside ``value``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "stringValue" and isinstance(inner, str):
                yield value, key
            else:
                yield from _string_slots(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _string_slots(inner)


def _shrink_item(item: dict[str, Any], budget: int, size: Callable[[Any], int]) -> dict[str, Any]:
    """A copy of ``item`` whose encoding fits ``budget``, its longest string values cut (best effort)."""
    import copy

    item = copy.deepcopy(item)
    for _ in range(4):  # JSON escapes make the byte count approximate: re-measure, cut again
        excess = size(item) - budget
        slots = list(_string_slots(item))
        if excess <= 0 or not slots:
            return item
        cut = cut_longest([slot[key] for slot, key in slots], excess + 64)
        for (slot, key), text in zip(slots, cut):
            slot[key] = text
    return item


def _split_points(metric: dict[str, Any], budget: int, size: Callable[[Any], int]) -> list[dict[str, Any]]:
    """A metric too big for one request, as several copies each holding part of its data points."""
    found = _metric_points(metric)
    if found is None or len(found[1]) < 2:
        return [metric]
    data, points = found
    key = next(k for k in _METRIC_DATA if metric.get(k) is data)
    half = len(points) // 2
    parts = [{**metric, key: {**data, "dataPoints": chunk}} for chunk in (points[:half], points[half:])]
    return [piece for part in parts
            for piece in (_split_points(part, budget, size) if size(part) > budget else [part])]


def split_message(message: dict[str, Any], max_bytes: int, encode: Callable[[Any], bytes]) -> list[dict[str, Any]]:
    """``message`` as several messages of the same signal, each encoding to at most ``max_bytes``.

    Items keep their order and their resource and scope; an item that alone
    exceeds the bound is shrunk (metrics: split by data points).
    """
    layout = _layout(message)
    if layout is None:
        return [message]
    top, scopes, items = layout

    def size(value: Any) -> int:
        return len(encode(value))

    entries: list[tuple[int, int, dict[str, Any]]] = []
    heads: dict[tuple[int, int], tuple[dict[str, Any], dict[str, Any]]] = {}
    wrapper: dict[tuple[int, int], int] = {}
    for ri, resource in enumerate(message.get(top, [])):
        resource_head = {k: v for k, v in resource.items() if k != scopes}
        for si, scope in enumerate(resource.get(scopes, [])):
            scope_head = {k: v for k, v in scope.items() if k != items}
            heads[ri, si] = resource_head, scope_head
            wrapper[ri, si] = size({top: [{**resource_head, scopes: [{**scope_head, items: []}]}]})
            for item in scope.get(items, []):
                entries.append((ri, si, item))

    groups: list[list[tuple[int, int, dict[str, Any]]]] = []
    current: list[tuple[int, int, dict[str, Any]]] = []
    used, seen = 0, set()
    for ri, si, item in entries:
        budget = max_bytes - wrapper[ri, si]
        item_size = size(item)
        pieces = [item]
        if item_size > budget:
            pieces = (_split_points(item, budget, size) if top == "resourceMetrics" else [item])
            pieces = [_shrink_item(p, budget, size) if size(p) > budget else p for p in pieces]
        for piece in pieces:
            cost = size(piece) + (0 if (ri, si) in seen else wrapper[ri, si])
            if current and used + cost > max_bytes:
                groups.append(current)
                current, used, seen = [], 0, set()
                cost = size(piece) + wrapper[ri, si]
            current.append((ri, si, piece))
            seen.add((ri, si))
            used += cost
    if current:
        groups.append(current)
    return [_assemble(group, heads, top, scopes, items) for group in groups]


def _assemble(group: list[tuple[int, int, dict[str, Any]]], heads: dict[tuple[int, int], Any],
              top: str, scopes: str, items: str) -> dict[str, Any]:
    resources: dict[int, dict[int, list[dict[str, Any]]]] = {}
    for ri, si, item in group:
        resources.setdefault(ri, {}).setdefault(si, []).append(item)
    out = []
    for ri, by_scope in resources.items():
        resource_head = heads[ri, next(iter(by_scope))][0]
        out.append({**resource_head, scopes: [{**heads[ri, si][1], items: chunk} for si, chunk in by_scope.items()]})
    return {top: out}


def bounded_lines(message: dict[str, Any], max_bytes: int | None, encode: Callable[[Any], bytes]) -> list[bytes]:
    """``message`` encoded (``encode`` gives one newline-terminated line) as lines of at most ``max_bytes``."""
    line = encode(message)
    if not max_bytes or len(line) <= max_bytes:
        return [line]
    return [encode(part) for part in split_message(message, max_bytes, encode)]


def bounded_records(message: dict[str, Any], max_bytes: int | None,
                    encode: Callable[[Any], bytes]) -> list[tuple[bytes, int]]:
    """Like :func:`bounded_lines`, with the items (spans, records, points) each line holds."""
    line = encode(message)
    if not max_bytes or len(line) <= max_bytes:
        return [(line, count_items(message))]
    return [(encode(part), count_items(part)) for part in split_message(message, max_bytes, encode)]


# --- SDK spans (the protobuf path) --------------------------------------------------
def shrink_span(span: Any, budget: int, size: Callable[[Any], int]) -> Any:
    """A copy of ``span`` (a ``ReadableSpan``) whose encoding fits ``budget``: longest string attributes cut.

    Attributes of the span and of its events are candidates; names, ids and
    links are kept.
    """
    from opentelemetry.sdk.trace import Event, ReadableSpan

    for _ in range(4):
        excess = size(span) - budget
        if excess <= 0:
            return span
        slots: list[tuple[int, str]] = []  # (-1 for the span, else event index; attribute key)
        texts: list[str] = []
        for key, value in (span.attributes or {}).items():
            if isinstance(value, str):
                slots.append((-1, key))
                texts.append(value)
        for index, event in enumerate(span.events):
            for key, value in (event.attributes or {}).items():
                if isinstance(value, str):
                    slots.append((index, key))
                    texts.append(value)
        if not texts:
            return span
        cut = dict(zip(slots, cut_longest(texts, excess + 64)))
        attributes = {k: cut.get((-1, k), v) for k, v in (span.attributes or {}).items()}
        events = [
            Event(e.name, {k: cut.get((i, k), v) for k, v in (e.attributes or {}).items()}, e.timestamp)
            for i, e in enumerate(span.events)
        ]
        span = ReadableSpan(
            name=span.name, context=span.context, parent=span.parent, resource=span.resource,
            attributes=attributes, events=events, links=span.links, kind=span.kind, status=span.status,
            start_time=span.start_time, end_time=span.end_time, instrumentation_scope=span.instrumentation_scope,
        )
    return span
