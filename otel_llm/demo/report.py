"""Read back what the demo wrote to ``traces.jsonl`` and tabulate tokens and cost.

Why read the file instead of trusting the app's counters: the demo's closing
table is evidence that the embedded exporter wrote what the app did. This is
deliberately small (no DuckDB, which is an optional extra): OTLP-JSON lines in,
span dicts out; the analysis package does the real work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otel_llm import semconv

_STATUS_ERROR = 2  # OTLP StatusCode.STATUS_CODE_ERROR


def any_value(value: dict[str, Any]) -> Any:
    """Decode an OTLP-JSON ``AnyValue`` (int64 arrive as strings)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    return value.get("bytesValue")


def attributes(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """An OTLP ``KeyValue`` list as a plain dict."""
    return {kv["key"]: any_value(kv.get("value", {})) for kv in pairs}


def read_spans(path: Path, offset: int = 0) -> Iterator[dict[str, Any]]:
    """Spans of every complete line of ``path`` from byte ``offset`` on.

    Each span dict is the OTLP-JSON span with ``attributes`` decoded to a dict
    and the resource's attributes added as ``resource``.
    """
    with path.open("rb") as f:
        f.seek(offset)
        for line in f:
            if not line.endswith(b"\n"):
                break  # a line still being written is not data yet
            for rs in json.loads(line).get("resourceSpans", []):
                resource = attributes(rs.get("resource", {}).get("attributes", []))
                for ss in rs.get("scopeSpans", []):
                    for span in ss.get("spans", []):
                        yield {
                            **span,
                            "attributes": attributes(span.get("attributes", [])),
                            "resource": resource,
                        }


@dataclass
class ModelRow:
    """Totals of the llm_call spans of one requested model (failed attempts included)."""

    model: str
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None: no call of this model was priced

    def add(self, span: dict[str, Any]) -> None:
        a = span["attributes"]
        self.calls += 1
        self.errors += span.get("status", {}).get("code") == _STATUS_ERROR
        self.input_tokens += a.get(semconv.GEN_AI_USAGE_INPUT_TOKENS, 0)
        self.cached_tokens += a.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0)
        self.output_tokens += a.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, 0)
        if semconv.GEN_AI_USAGE_COST in a:
            self.cost_usd = (self.cost_usd or 0.0) + a[semconv.GEN_AI_USAGE_COST]


def model_rows(spans: list[dict[str, Any]]) -> list[ModelRow]:
    """One row per model over the ``llm_call`` spans, most expensive first."""
    rows: dict[str, ModelRow] = {}
    for span in spans:
        a = span["attributes"]
        if a.get(semconv.OTEL_LLM_KIND) != semconv.KIND_LLM_CALL:
            continue
        # The request model, not the response one: a failed attempt has no response.
        model = a.get(semconv.GEN_AI_REQUEST_MODEL) or a.get(semconv.GEN_AI_RESPONSE_MODEL, "?")
        rows.setdefault(model, ModelRow(model)).add(span)
    return sorted(rows.values(), key=lambda r: (-(r.cost_usd or 0.0), r.model))
