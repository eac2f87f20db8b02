"""Ingest against ground truth: what the generator wrote equals what the tables hold.

Every expected value is computed in plain Python from the generator's returned
records, never from DuckDB.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from otel_llm_analysis import StoreError, TraceStore
from tests.support.synthetic import SyntheticData


def _spans_by_id(store: TraceStore, columns: str) -> dict[tuple[str, str], tuple]:
    rows = store.query(f"SELECT trace_id, span_id, {columns} FROM spans")
    return {(r[0], r[1]): r[2:] for r in rows}


def test_counts_and_sums_match_the_records(store: TraceStore, dataset: SyntheticData) -> None:
    report = store.ingest(dataset.files)
    spans = dataset.spans
    assert report.spans_added == len(spans)
    assert report.events_added == len(dataset.events)
    assert report.metric_points_added == len(dataset.metric_points)
    assert report.logs_added == len(dataset.logs)
    assert report.bad_lines == []
    (n, traces, inp, out, cache_r, cache_w, reasoning, cost) = store.query(
        "SELECT count(*), count(DISTINCT trace_id), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),"
        " sum(cache_write_tokens), sum(reasoning_tokens), sum(cost_usd) FROM spans"
    )[0]
    assert n == len(spans)
    assert traces == len({s.trace_id for s in spans})
    assert inp == sum(s.input_tokens or 0 for s in spans)
    assert out == sum(s.output_tokens or 0 for s in spans)
    assert cache_r == sum(s.cache_read_tokens or 0 for s in spans)
    assert cache_w == sum(s.cache_write_tokens or 0 for s in spans)
    assert reasoning == sum(s.reasoning_tokens or 0 for s in spans)
    assert cost == pytest.approx(sum(s.cost_usd or 0 for s in spans), rel=1e-12)


def test_every_typed_column_matches_its_record(store: TraceStore, dataset: SyntheticData) -> None:
    store.ingest(dataset.files)
    columns = (
        "parent_span_id, name, span_kind, service_name, project, otel_kind, start_time, duration_ms, status_code,"
        " status_message, operation, provider, model, input_tokens, output_tokens, cost_usd, conversation_id,"
        " user_id, graph_node, db_system, db_operation, db_collection, error_type, stream_ttft_ms,"
        " attributes['otel_llm.run_config.temperature'], attributes['otel_llm.run_config.max_retries'],"
        " resource_attributes['deployment.environment.name'], finish_reasons"
    )
    table = _spans_by_id(store, columns)
    assert len(table) == len(dataset.spans)
    for s in dataset.spans:
        expected = (
            s.parent_span_id, s.name, s.span_kind, s.service_name, s.project, s.otel_kind, s.start_time,
            pytest.approx(s.duration_ms), s.status_code, s.status_message, s.operation, s.provider, s.model,
            s.input_tokens, s.output_tokens, s.cost_usd, s.conversation_id, s.user_id, s.graph_node,
            s.db_system, s.db_operation, s.db_collection, s.error_type,
            None if s.stream_ttft_ms is None else pytest.approx(s.stream_ttft_ms),
            repr(s.temperature), str(s.max_retries), s.resource["deployment.environment.name"],
            list(s.finish_reasons) or None,
        )
        assert table[(s.trace_id, s.span_id)] == expected, s.name


def test_events_and_evaluations_match(store: TraceStore, dataset: SyntheticData) -> None:
    store.ingest(dataset.files)
    rows = store.query("SELECT name, count(*) FROM span_events GROUP BY name")
    assert dict(rows) == dict(Counter(e.name for e in dataset.events))
    labels = store.query("SELECT eval_label, count(*), sum(eval_score) FROM span_events "
                         "WHERE eval_label IS NOT NULL GROUP BY 1")
    evals = [e for e in dataset.events if e.eval_label]
    assert {r[0]: r[1] for r in labels} == dict(Counter(e.eval_label for e in evals))
    assert sum(r[2] for r in labels) == pytest.approx(sum(e.eval_score for e in evals))
    assert set(Counter(e.eval_label for e in evals)) == {"pass", "warning", "fail"}


def test_metric_points_and_logs_match(store: TraceStore, dataset: SyntheticData) -> None:
    store.ingest(dataset.files)
    hist = store.query("SELECT sum(count), sum(sum), sum(list_sum(bucket_counts)) FROM metric_points "
                       "WHERE metric_type = 'histogram'")[0]
    expected = [p for p in dataset.metric_points if p.type == "histogram"]
    assert hist[0] == sum(p.count for p in expected) == hist[2]
    assert hist[1] == pytest.approx(sum(p.sum for p in expected))
    cost = store.query("SELECT service_name, attributes['gen_ai.request.model'], max(value) FROM metric_points "
                       "WHERE metric_name = 'otel_llm.cost' GROUP BY ALL")
    truth: dict[tuple[str, str], float] = {}
    for p in dataset.metric_points:
        if p.name == "otel_llm.cost":
            key = (p.service_name, p.attributes["gen_ai.request.model"])
            truth[key] = max(truth.get(key, 0.0), p.value)
    assert {(r[0], r[1]): pytest.approx(r[2]) for r in cost} == truth
    logs = store.query("SELECT severity_text, body, trace_id, span_id, service_name FROM logs")
    assert Counter(logs) == Counter(
        (r.severity_text, r.body, r.trace_id, r.span_id, r.service_name) for r in dataset.logs
    )


def test_double_ingest_adds_nothing(store: TraceStore, dataset: SyntheticData) -> None:
    first = store.ingest(dataset.files)
    before = store.query("SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM span_events),"
                         " (SELECT count(*) FROM metric_points), (SELECT count(*) FROM logs)")
    second = store.ingest(dataset.files)
    assert first.spans_added > 0
    assert (second.spans_added, second.events_added, second.metric_points_added, second.logs_added) == (0, 0, 0, 0)
    assert {f.status for f in second.files} == {"unchanged"}
    assert store.query("SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM span_events),"
                       " (SELECT count(*) FROM metric_points), (SELECT count(*) FROM logs)") == before


def test_same_data_under_another_name_adds_nothing(store: TraceStore, copy_dataset: Path,
                                                   dataset: SyntheticData) -> None:
    store.ingest(copy_dataset)
    copy = copy_dataset / "traces-copy.jsonl"
    copy.write_bytes((copy_dataset / "traces.jsonl").read_bytes())
    report = store.ingest(copy)
    assert report.spans_added == 0
    assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


def test_repeated_spans_in_different_files_are_deduplicated(store: TraceStore, copy_dataset: Path,
                                                            dataset: SyntheticData) -> None:
    """At-least-once delivery: the same spans re-sent inside a different batch (other file head)."""
    lines = (copy_dataset / "traces.jsonl").read_bytes().splitlines(keepends=True)
    (copy_dataset / "replay.jsonl").write_bytes(b"".join(reversed(lines[:3])))
    first = store.ingest(copy_dataset / "traces.jsonl")
    replay = store.ingest(copy_dataset / "replay.jsonl")
    replayed = sum(line.count(b'"spanId"') for line in lines[:3])
    assert replay.spans_added == 0
    assert replay.events_added == 0
    assert replay.duplicates_skipped == replayed
    assert first.spans_added == len(dataset.spans)
    assert store.query("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans")[0] == (
        len(dataset.spans), len(dataset.spans))


def test_duplicates_within_one_batch_keep_one_row(store: TraceStore, copy_dataset: Path,
                                                  dataset: SyntheticData) -> None:
    path = copy_dataset / "traces.jsonl"
    data = path.read_bytes()
    path.write_bytes(data + data)  # every line twice, one ingest
    report = store.ingest(path)
    assert report.spans_added == len(dataset.spans)
    assert report.duplicates_skipped == len(dataset.spans)
    assert report.events_added == sum(len(s.events) for s in dataset.spans)


def test_file_that_grows_between_ingests(store: TraceStore, copy_dataset: Path, dataset: SyntheticData) -> None:
    path = copy_dataset / "traces.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    path.write_bytes(b"".join(lines[:half]))
    first = store.ingest(path)
    with path.open("ab") as fh:
        fh.write(b"".join(lines[half:]))
    second = store.ingest(path)
    assert first.files[0].lines == half
    assert second.files[0].status == "resumed"
    assert second.files[0].lines == len(lines) - half
    assert first.spans_added + second.spans_added == len(dataset.spans)
    assert second.duplicates_skipped == 0


def test_half_written_last_line_is_left_for_the_next_run(store: TraceStore, copy_dataset: Path,
                                                         dataset: SyntheticData) -> None:
    path = copy_dataset / "traces.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    last = lines[-1]
    path.write_bytes(b"".join(lines[:-1]) + last[: len(last) // 2])
    first = store.ingest(path)
    assert first.bad_lines == []
    assert first.files[0].partial_tail
    assert first.spans_added == len(dataset.spans) - last.count(b'"spanId"')
    with path.open("ab") as fh:
        fh.write(last[len(last) // 2:])
    second = store.ingest(path)
    assert second.bad_lines == []
    assert not second.files[0].partial_tail
    assert second.spans_added == last.count(b'"spanId"')
    assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


def test_a_complete_last_line_without_a_newline_loads_and_what_follows_keeps_its_line_numbers(
        store: TraceStore, copy_dataset: Path, dataset: SyntheticData) -> None:
    """Files from other tools (``json.dump``, ``curl -o``) often end without a newline. A last line
    that is a whole JSON document is complete: it loads now, not never (it was left "for the next
    run" and the file then said "read before"). Appended lines keep their numbers."""
    path = copy_dataset / "traces.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1].rstrip(b"\n"))
    first = store.ingest(path)
    assert (first.bad_lines, first.files[0].partial_tail) == ([], False)
    assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)
    with path.open("ab") as fh:
        fh.write(b"\n" + b"not json\n")
    second = store.ingest(path)
    assert [(p.line, p.reason[:12]) for p in second.bad_lines] == [(len(lines) + 1, "invalid JSON")]
    assert second.spans_added == 0 and second.files[0].lines == 1


def test_a_half_written_last_line_is_named_not_called_read_before(copy_dataset: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner
    import typer
    from otel_llm_analysis.cli import register

    path = copy_dataset / "traces.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0][:100])
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["ingest", str(path), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output
    assert "read before" not in result.output
    assert f"last line not ended, left for the next run: {path} (100 bytes)" in " ".join(result.output.split())


def test_rotation_between_ingests_is_neither_reread_nor_lost(store: TraceStore, copy_dataset: Path,
                                                              dataset: SyntheticData) -> None:
    live = copy_dataset / "traces.jsonl"
    lines = live.read_bytes().splitlines(keepends=True)
    a, b = len(lines) // 3, 2 * len(lines) // 3
    live.write_bytes(b"".join(lines[:a]))
    first = store.ingest(copy_dataset / "traces*.jsonl")
    with live.open("ab") as fh:  # the collector appends, then rotates and starts a new file
        fh.write(b"".join(lines[a:b]))
    live.rename(copy_dataset / "traces-2026-11-25T14-45-01.123.jsonl")
    live.write_bytes(b"".join(lines[b:]))
    second = store.ingest(copy_dataset / "traces*.jsonl")
    statuses = {Path(f.path).name: (f.status, f.lines) for f in second.files}
    assert statuses == {
        "traces-2026-11-25T14-45-01.123.jsonl": ("resumed", b - a),
        "traces.jsonl": ("new", len(lines) - b),
    }
    assert second.duplicates_skipped == 0
    assert first.spans_added + second.spans_added == len(dataset.spans)
    assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)
    third = store.ingest(copy_dataset / "traces*.jsonl")
    assert third.spans_added == 0 and third.lines_read == 0


def test_rotation_during_an_ingest(store: TraceStore, copy_dataset: Path, dataset: SyntheticData) -> None:
    """The collector renames the file while we are reading it and starts a new one."""
    live = copy_dataset / "traces.jsonl"
    lines = live.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    live.write_bytes(b"".join(lines[:half]))
    rotated = copy_dataset / "traces-2026-11-25T15-00-00.000.jsonl"
    state = {"done": False}

    def rotate(_: int) -> None:
        if not state["done"]:
            state["done"] = True
            live.rename(rotated)
            live.write_bytes(b"".join(lines[half:]))

    first = store.ingest(copy_dataset / "traces.jsonl", on_progress=rotate)
    assert state["done"]
    assert first.spans_added == sum(line.count(b'"spanId"') for line in lines[:half])
    second = store.ingest(copy_dataset / "traces*.jsonl")
    by_name = {Path(f.path).name: f for f in second.files}
    assert by_name[rotated.name].status == "unchanged"
    assert by_name["traces.jsonl"].status == "new"
    assert store.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)


def test_missing_path_is_a_one_line_error(store: TraceStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        store.ingest(tmp_path / "nope" / "traces.jsonl")
    assert "nope" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(StoreError, match="no files match"):
        store.ingest(str(tmp_path / "*.jsonl"))


def test_unreadable_database_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "traces.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(StoreError) as info:
        TraceStore(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(StoreError, match="no database"):
        TraceStore(tmp_path / "missing.duckdb", read_only=True)


def test_read_only_store_queries_but_does_not_ingest(tmp_path: Path, dataset: SyntheticData) -> None:
    db = tmp_path / "t.duckdb"
    with TraceStore(db) as writer:
        writer.ingest(dataset.files)
    with TraceStore(db, read_only=True) as reader:
        assert reader.query("SELECT count(*) FROM spans")[0][0] == len(dataset.spans)
        with pytest.raises(StoreError):
            reader.query("DELETE FROM spans")
        with pytest.raises(StoreError, match="read-only"):
            reader.ingest(dataset.files)
    with TraceStore(db) as again:  # offsets persisted with the data
        assert again.ingest(dataset.files).spans_added == 0


def test_summary_figures_survive_a_file_store(tmp_path: Path, dataset: SyntheticData) -> None:
    with TraceStore(tmp_path / "t.duckdb") as s:
        s.ingest(dataset.files)
        p95 = s.query("SELECT quantile_cont(duration_ms, 0.95) FROM llm_calls")[0][0]
    durations = sorted(x.duration_ms for x in dataset.spans if x.otel_kind == "llm_call")
    k = (len(durations) - 1) * 0.95
    lo, hi = math.floor(k), math.ceil(k)
    assert p95 == pytest.approx(durations[lo] + (durations[hi] - durations[lo]) * (k - lo))


def test_replayed_logs_and_metric_points_are_deduplicated(store: TraceStore, copy_dataset: Path,
                                                          dataset: SyntheticData) -> None:
    """At-least-once delivery repeats log and metric batches too: content hashes catch them."""
    for signal in ("logs", "metrics"):
        lines = (copy_dataset / f"{signal}.jsonl").read_bytes().splitlines(keepends=True)
        (copy_dataset / f"{signal}-replay.jsonl").write_bytes(b"".join(reversed(lines[:2])))
    first = store.ingest([copy_dataset / "logs.jsonl", copy_dataset / "metrics.jsonl"])
    replay = store.ingest([copy_dataset / "logs-replay.jsonl", copy_dataset / "metrics-replay.jsonl"])
    assert (first.logs_added, first.metric_points_added) == (len(dataset.logs), len(dataset.metric_points))
    assert (replay.logs_added, replay.metric_points_added) == (0, 0)
    assert replay.duplicates_skipped > 0
    assert store.query("SELECT count(*) FROM logs")[0][0] == len(dataset.logs)


def test_unchanged_zstd_stream_is_not_reread(store: TraceStore, tmp_path: Path, dataset: SyntheticData) -> None:
    import zstandard

    plain = next(p for p in dataset.files if p.name == "traces.jsonl")
    path = tmp_path / "traces.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(plain.read_bytes()))
    assert store.ingest(path).spans_added == len(dataset.spans)
    again = store.ingest(path)
    assert (again.files[0].status, again.files[0].lines, again.spans_added) == ("unchanged", 0, 0)


def test_file_replaced_between_listing_and_reading_is_skipped_then_read(store: TraceStore, copy_dataset: Path,
                                                                       dataset: SyntheticData) -> None:
    traces, logs = copy_dataset / "traces.jsonl", copy_dataset / "logs.jsonl"
    replacement = copy_dataset / "traces.new"
    replacement.write_bytes(traces.read_bytes())
    state = {"done": False}

    def replace_traces(_: int) -> None:  # logs are read first; meanwhile traces.jsonl becomes another file
        if not state["done"]:
            state["done"] = True
            replacement.rename(traces)

    first = store.ingest([traces, logs], on_progress=replace_traces)
    assert [(Path(f.path).name, f.status) for f in first.files] == [("logs.jsonl", "new"), ("traces.jsonl", "skipped")]
    assert [p.line for p in first.bad_lines] == [0] and "replaced" in first.bad_lines[0].reason
    assert first.logs_added == len(dataset.logs) and first.spans_added == 0
    second = store.ingest(copy_dataset)
    assert second.spans_added == len(dataset.spans) and second.logs_added == 0


def test_a_failed_run_leaves_neither_rows_nor_offsets(store: TraceStore, dataset: SyntheticData,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_llm_analysis import ingest as ingest_module

    real_insert = ingest_module._insert
    calls = {"n": 0}

    def failing_insert(con, staged, *rest):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_insert(con, staged, *rest)

    monkeypatch.setattr(ingest_module, "_insert", failing_insert)
    with pytest.raises(OSError, match="disk full"):
        store.ingest(dataset.files, batch_rows=100)
    assert calls["n"] == 2
    assert store.query("SELECT (SELECT count(*) FROM span_rows), (SELECT count(*) FROM ingested_files)") == [(0, 0)]
    monkeypatch.setattr(ingest_module, "_insert", real_insert)
    assert store.ingest(dataset.files).spans_added == len(dataset.spans)


@pytest.mark.parametrize("batch_rows", [50, 100_000])
def test_duplicates_across_batches_of_one_run_on_an_empty_store(store: TraceStore, copy_dataset: Path,
                                                                dataset: SyntheticData, batch_rows: int) -> None:
    """A fresh store skips the anti-join for batches whose keys were not seen earlier in the run."""
    path = copy_dataset / "traces.jsonl"
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    path.write_bytes(data + b"".join(lines[: len(lines) // 2]))  # the first half again, in later batches
    report = store.ingest(path, batch_rows=batch_rows)
    repeated = sum(line.count(b'"spanId"') for line in lines[: len(lines) // 2])
    assert report.spans_added == len(dataset.spans)
    assert report.duplicates_skipped == repeated
    assert report.events_added == len(dataset.events)
    assert store.query("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM span_rows")[0] == (
        len(dataset.spans), len(dataset.spans))


def test_ingest_restores_the_connection_settings(tmp_path: Path, dataset: SyntheticData) -> None:
    with TraceStore(tmp_path / "t.duckdb") as s:
        query = "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order')"
        before = s.query(query)
        s.ingest(dataset.files)
        assert s.query(query) == before


def test_duplicates_across_concurrent_batches_on_a_non_empty_store(store: TraceStore, copy_dataset: Path,
                                                                   dataset: SyntheticData) -> None:
    """Batches run two at a time; one repeating an earlier batch must wait for it to be stored."""
    lines = (copy_dataset / "traces.jsonl").read_bytes().splitlines(keepends=True)
    (copy_dataset / "first.jsonl").write_bytes(lines[0])
    (copy_dataset / "rest.jsonl").write_bytes(b"".join(lines[1:] + lines[1:]))
    store.ingest(copy_dataset / "first.jsonl")
    report = store.ingest(copy_dataset / "rest.jsonl", batch_rows=40)
    assert report.spans_added == len(dataset.spans) - lines[0].count(b'"spanId"')
    assert store.query("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM span_rows")[0] == (
        len(dataset.spans), len(dataset.spans))
    assert store.query("SELECT count(*) FROM span_events")[0][0] == len(dataset.events)


def test_a_file_removed_after_it_was_listed_is_a_problem_not_an_abort(store: TraceStore, copy_dataset: Path,
                                                                       dataset: SyntheticData) -> None:
    """A rotation's clean-up (max_backups) may delete a backup while ingest reads another file."""
    logs, traces = copy_dataset / "logs.jsonl", copy_dataset / "traces.jsonl"
    state = {"done": False}

    def remove_traces(_: int) -> None:
        if not state["done"]:
            state["done"] = True
            traces.unlink()

    report = store.ingest([logs, traces], on_progress=remove_traces)
    assert report.logs_added == len(dataset.logs)
    assert [(Path(f.path).name, f.status) for f in report.files] == [("logs.jsonl", "new"), ("traces.jsonl", "skipped")]
    (problem,) = report.bad_lines
    assert (problem.path, problem.line) == (str(traces), 0) and "cannot read" in problem.reason
