"""README, Configuration: the environment variables of the table do what the table says, in a real app.

Each test runs a small decorated app in a subprocess with only that variable (and what it needs) set,
and reads what it wrote: the files, the spool, stderr. The variables here are the table's rows no other
test set through the environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator

from tests.readme.test_examples import _env


def _run_app(code: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (home / "app.py").write_text(textwrap.dedent(code), "utf-8")
    proc = subprocess.run([sys.executable, "app.py"], cwd=home, env={**_env(home), **env},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _span_names(path: Path) -> list[str]:
    return [span["name"] for line in path.read_text("utf-8").splitlines()
            for resource in json.loads(line)["resourceSpans"] for scope in resource["scopeSpans"]
            for span in scope["spans"]]


TOOL_APP = """
    import otel_llm

    otel_llm.configure(service_name="config-test")

    @otel_llm.tool("echo")
    def echo(text: str) -> str:
        return text

    echo("x" * 5000)
    otel_llm.shutdown()
"""


def test_max_content_chars_from_the_environment_truncates_captured_text(tmp_path: Path) -> None:
    """``OTEL_LLM_MAX_CONTENT_CHARS`` (default 8192): captured text is cut to it, with a marker of its size."""
    capture = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    (tmp_path / "short").mkdir()
    (tmp_path / "default").mkdir()
    _run_app(TOOL_APP, tmp_path / "short", OTEL_LLM_MAX_CONTENT_CHARS="100", **capture)
    _run_app(TOOL_APP, tmp_path / "default", **capture)
    short = [s for line in (tmp_path / "short/otel-data/traces.jsonl").read_text("utf-8").splitlines()
             for s in _strings(json.loads(line)) if s.startswith("x" * 10)]
    assert short and all(s == "x" * 100 + "…[truncated from 5000 chars]" for s in short), short
    whole = [s for line in (tmp_path / "default/otel-data/traces.jsonl").read_text("utf-8").splitlines()
             for s in _strings(json.loads(line)) if s.startswith("x" * 10)]
    assert whole and all(s == "x" * 5000 for s in whole), [s[-40:] for s in whole]  # 5000 < 8192: kept whole


LOGGING_APP = """
    import logging

    import otel_llm

    otel_llm.configure(service_name="config-test")
    logging.getLogger("app").warning("disk almost full")
    otel_llm.shutdown()
"""


def test_logs_off_from_the_environment_keeps_records_out_of_logs_jsonl(tmp_path: Path) -> None:
    """``OTEL_LLM_LOGS`` (default: on with the file exporter): ``false`` leaves the app's records out."""
    (tmp_path / "on").mkdir()
    (tmp_path / "off").mkdir()
    _run_app(LOGGING_APP, tmp_path / "on")
    proc = _run_app(LOGGING_APP, tmp_path / "off", OTEL_LLM_LOGS="false")
    assert "disk almost full" in (tmp_path / "on/otel-data/logs.jsonl").read_text("utf-8")
    off = tmp_path / "off/otel-data/logs.jsonl"
    assert not off.exists() or "disk almost full" not in off.read_text("utf-8")
    assert "disk almost full" in proc.stderr  # the app's own console still prints it


SPANS_APP = """
    import otel_llm

    otel_llm.configure(service_name="config-test")

    @otel_llm.graph_node("step")
    def step(n: int) -> int:
        return n

    for n in range({count}):
        step(n)
    otel_llm.shutdown()
"""


def test_spool_dir_from_the_environment_holds_what_the_collector_did_not_take(tmp_path: Path) -> None:
    """``OTEL_LLM_SPOOL_DIR`` (default ``output_dir/spool``): with the collector down, the spans wait there."""
    spool = tmp_path / "my-spool"
    proc = _run_app(SPANS_APP.format(count=5), tmp_path, OTEL_LLM_EXPORTER="otlp", OTEL_LLM_SPOOL_DIR=str(spool),
                    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_LLM_SHUTDOWN_TIMEOUT_S="2")
    assert f"spooled to {spool}" in proc.stderr, proc.stderr
    held = "".join(p.read_text("utf-8", "replace") for p in spool.rglob("*") if p.is_file())
    assert held.count('"name":"step"') + held.count('"name": "step"') == 5, sorted(spool.rglob("*"))
    assert not (tmp_path / "otel-data" / "spool").exists()


def test_max_request_mb_from_the_environment_bounds_each_file_line(tmp_path: Path) -> None:
    """``OTEL_LLM_MAX_REQUEST_MB`` (default 1 MiB): no file line is longer; a bigger batch becomes several."""
    _run_app(SPANS_APP.format(count=2000), tmp_path, OTEL_LLM_MAX_REQUEST_MB="0.05")
    traces = tmp_path / "otel-data" / "traces.jsonl"
    lines = traces.read_bytes().splitlines(keepends=True)
    assert len(lines) > 2 and max(map(len, lines)) <= 0.05 * 1024 * 1024, (len(lines), max(map(len, lines)))
    assert _span_names(traces).count("step") == 2000


OFF_APP = """
    import sys

    from opentelemetry import trace

    import otel_llm

    otel_llm.configure(**({"exporter": "none"} if sys.argv[-1] == "none" else {}))

    @otel_llm.tool("lookup")
    def lookup(q: str) -> tuple[bool, str]:
        return trace.get_current_span().get_span_context().is_valid, q

    print(lookup("x"))
    otel_llm.shutdown()
"""


def _off_app(home: Path, mode: str, **env: str) -> str:
    (home / "app.py").write_text(textwrap.dedent(OFF_APP), "utf-8")
    proc = subprocess.run([sys.executable, "app.py", mode], cwd=home, env={**_env(home), **env},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def test_exporter_none_and_sdk_disabled_run_decorated_functions_bare(tmp_path: Path) -> None:
    """README, Configuration: "``exporter="none"`` without providers turns otel-llm off: decorated functions
    run bare; so does ``OTEL_SDK_DISABLED=true``" - no span around the call, no files; the default records."""
    for name, mode, env in [("none", "none", {}), ("disabled", "file", {"OTEL_SDK_DISABLED": "true"}),
                            ("default", "file", {})]:
        home = tmp_path / name
        home.mkdir()
        printed = _off_app(home, mode, **env)
        if name == "default":
            assert printed == "(True, 'x')" and (home / "otel-data" / "traces.jsonl").is_file()
        else:
            assert printed == "(False, 'x')", (name, printed)
            assert not (home / "otel-data").exists(), (name, sorted(home.rglob("*")))


PRICED_APP = """
    import otel_llm

    otel_llm.configure(service_name="config-test")

    @otel_llm.llm_call(model="house-model-1", provider="openai")
    def ask() -> dict:
        return {"usage": {"prompt_tokens": 1000, "completion_tokens": 500}}

    ask()
    otel_llm.shutdown()
"""


def _call_attributes(traces: Path) -> dict[str, Any]:
    (span,) = [span for line in traces.read_text("utf-8").splitlines()
               for resource in json.loads(line)["resourceSpans"] for scope in resource["scopeSpans"]
               for span in scope["spans"] if span["name"] == "chat house-model-1"]
    return {a["key"]: next(iter(a["value"].values())) for a in span["attributes"]}


def test_pricing_file_from_the_environment_prices_the_sdk_s_calls(tmp_path: Path) -> None:
    """``OTEL_LLM_PRICING`` (a path; default genai-prices only): a model only that file prices gets its cost on
    the span; without it the model has no price, so no cost attribute and one warning, never a 0."""
    (tmp_path / "priced").mkdir()
    (tmp_path / "unpriced").mkdir()
    prices = tmp_path / "prices.yaml"
    prices.write_text("house-model-1: {input: 2.0, output: 8.0}\n", "utf-8")
    _run_app(PRICED_APP, tmp_path / "priced", OTEL_LLM_PRICING=str(prices))
    unpriced = _run_app(PRICED_APP, tmp_path / "unpriced")
    priced = _call_attributes(tmp_path / "priced/otel-data/traces.jsonl")
    assert float(priced["gen_ai.usage.cost"]) == (1000 * 2.0 + 500 * 8.0) / 1e6, priced
    bare = _call_attributes(tmp_path / "unpriced/otel-data/traces.jsonl")
    assert "gen_ai.usage.cost" not in bare and int(bare["gen_ai.usage.input_tokens"]) == 1000, bare
    warnings = [line for line in unpriced.stderr.splitlines() if "no price for model 'house-model-1'" in line]
    assert len(warnings) == 1, unpriced.stderr
