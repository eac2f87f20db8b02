"""An ingest stopped after some of its rows were committed is finished by the next one, and said meanwhile.

Ingest commits span rows batch by batch, then works out what depends on them:
prices for calls without a cost, the pairing of nested LLM spans (one call traced
twice counts once) and the agents' tables. When it stops in between - Ctrl-C, a
killed job, a failure - the rows are stored but those columns are not. The next
ingest must finish them (it reads only new data, so it cannot rely on the spans it
reads), and any store opened meanwhile must say its figures are incomplete.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import otel_llm_analysis.store as store_module
from otel_llm_analysis import TraceStore, summary, tools
from otel_llm_analysis.cli import register
from otel_llm_analysis.store import UnfinishedIngest
from tests.support import synthetic


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """What the store held before: ingested whole, so its own pairing and prices are done."""
    data = synthetic.generate(tmp_path_factory.mktemp("earlier"), seed=5, traces=40, days=3, peer_spans=True,
                              agents="otel_llm", end=datetime(2026, 11, 10))
    return [str(p) for p in data.files]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> synthetic.SyntheticData:
    """The ingest that stops: every LLM call traced twice (a peer's span inside otel-llm's), agents with tools."""
    return synthetic.generate(tmp_path_factory.mktemp("interrupted"), seed=6, traces=40, days=3,
                              peer_spans=True, agents="otel_llm", end=datetime(2026, 11, 20))


@pytest.fixture(scope="module")
def reference(earlier: list[str], data: synthetic.SyntheticData,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[list, list]:
    with TraceStore(str(tmp_path_factory.mktemp("reference") / "store.duckdb")) as store:
        store.ingest(earlier)
        store.ingest([str(p) for p in data.files])
        return _figures(store)


def _begun(path: str, earlier: list[str]) -> None:
    with TraceStore(path) as store:
        store.ingest(earlier)


def _figures(store: TraceStore) -> tuple[list, list]:
    calls = [(r.key, r.llm_calls, r.input_tokens, r.output_tokens, r.priced_calls, round(r.cost_usd or 0, 9))
             for r in summary(store, by="model")]
    return calls, [(r.tool, r.calls) for r in tools(store)]


def _interrupt(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module, where, stop)


@pytest.mark.parametrize("where", ["price_calls", "refresh_nesting", "refresh_scopes"])
def test_the_next_ingest_finishes_what_an_interrupted_one_committed(
        tmp_path: Path, earlier: list[str], data: synthetic.SyntheticData, reference: tuple[list, list],
        where: str) -> None:
    path = str(tmp_path / "store.duckdb")
    _begun(path, earlier)
    files = [str(p) for p in data.files]
    with TraceStore(path) as store, pytest.MonkeyPatch.context() as patch:
        _interrupt(patch, where)
        with pytest.raises(KeyboardInterrupt):
            store.ingest(files)
        # the store that ingested says so itself (a live dashboard keeps it open and shows it)
        assert store.unfinished is not None and f"after storing {len(data.spans)} span(s)" in store.unfinished
    # the rows are stored; what depends on them is not worked out yet, and every store opened says so
    with pytest.warns(UnfinishedIngest, match="interrupted") as said:
        reader = TraceStore(path, read_only=True)
    with reader:
        assert reader.unfinished is not None and str(said[0].message) == reader.unfinished
        assert reader.query("SELECT count(*) FROM span_rows WHERE start_time >= '2026-11-15'") == [(len(data.spans),)]
    caught_up_on_open = where == "refresh_scopes"  # the agents' tables: any writable open walks what is new
    with warnings.catch_warnings(record=True) as opened:
        warnings.simplefilter("always", UnfinishedIngest)
        writer = TraceStore(path)
    with writer:
        assert len(opened) == (0 if caught_up_on_open else 1)
        report = writer.ingest(files)  # nothing new to read
        assert report.spans_added == 0
        assert _figures(writer) == reference  # each call once, priced, its tools counted
        assert report.finished_spans == (0 if caught_up_on_open else len(data.spans))
        assert ("finished" in report.summary()) == (not caught_up_on_open)
        assert writer.unfinished is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfinishedIngest)
        with TraceStore(path, read_only=True) as reopened:
            assert reopened.unfinished is None
            assert _figures(reopened) == reference


def test_an_ingest_stopped_between_its_commits_is_finished_by_the_next(
        tmp_path: Path, earlier: list[str], data: synthetic.SyntheticData, reference: tuple[list, list],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import otel_llm_analysis.ingest as ingest_module

    path = str(tmp_path / "store.duckdb")
    _begun(path, earlier)
    with TraceStore(path, read_only=True) as reader:
        ((before,),) = reader.query("SELECT count(*) FROM span_rows")
    monkeypatch.setattr(ingest_module, "COMMIT_ROWS", 64)  # commit every batch
    files = [str(p) for p in data.files]
    progress = []

    def stop_midway(done: int) -> None:
        progress.append(done)
        if len(progress) == 9:  # within the spans file (read last), after a few committed batches
            raise KeyboardInterrupt

    with TraceStore(path) as store:
        with pytest.raises(KeyboardInterrupt):
            store.ingest(files, on_progress=stop_midway, batch_rows=64)
        ((stored,),) = store.query(f"SELECT count(*) - {before} FROM span_rows")
        assert 0 < stored < len(data.spans)
        assert f"after storing {stored} span(s)" in (store.unfinished or "")
    with pytest.warns(UnfinishedIngest, match=f"{stored} span"):
        TraceStore(path, read_only=True).close()
    with pytest.warns(UnfinishedIngest), TraceStore(path) as store:
        report = store.ingest(files)
        assert report.spans_added == len(data.spans) - stored
        assert store.unfinished is None
        assert _figures(store) == reference


def test_a_failed_ingest_that_stored_nothing_leaves_nothing_to_finish(tmp_path: Path,
                                                                      data: synthetic.SyntheticData) -> None:
    path = str(tmp_path / "store.duckdb")
    with TraceStore(path) as store:
        store.ingest([str(data.files[0])])
        with pytest.raises(store_module.StoreError):
            store.ingest([str(tmp_path / "missing.jsonl")])
        assert store.unfinished is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfinishedIngest)
        with TraceStore(path, read_only=True) as reader:
            assert reader.unfinished is None


def test_the_cli_says_a_store_is_unfinished_in_one_line(tmp_path: Path, earlier: list[str],
                                                        data: synthetic.SyntheticData,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "store.duckdb")
    _begun(path, earlier)
    with TraceStore(path) as store:
        _interrupt(monkeypatch, "refresh_nesting")
        with pytest.raises(KeyboardInterrupt):
            store.ingest([str(p) for p in data.files])
    monkeypatch.undo()
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["summary", "--db", path])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "interrupted" in line]
    assert len(notes) == 1 and notes[0].startswith("note: ") and "otel-llm ingest" in notes[0]
    assert "Warning" not in result.stderr  # said once, as a note, not as a Python warning too


def test_a_store_another_version_set_up_says_so_when_read_until_the_next_ingest(
        tmp_path: Path, earlier: list[str]) -> None:
    path = str(tmp_path / "store.duckdb")
    _begun(path, earlier)
    with TraceStore(path) as store:  # as an older otel-llm would have left it
        store.query("UPDATE span_scope_state SET definition = 'another'")
    with pytest.warns(UnfinishedIngest, match="another version of otel-llm") as said:
        reader = TraceStore(path, read_only=True)
    with reader:
        assert reader.unfinished == str(said[0].message)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["summary", "--db", path])
    assert result.exit_code == 0 and result.stderr.count("note: ") == 1
    assert "another version of otel-llm" in result.stderr and "otel-llm ingest" in result.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfinishedIngest)
        with TraceStore(path) as writer:  # a writable open sets it up again (the ingest opens so)
            assert writer.unfinished is None
        with TraceStore(path, read_only=True) as reader:
            assert reader.unfinished is None
