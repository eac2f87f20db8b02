"""``serve --watch`` answers while an ingest runs: the data loaded so far, and the page says an ingest runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from otel_llm_analysis import TraceStore, totals
from otel_llm_analysis.web.live import LiveStore
from tests.support.synthetic import generate
from tests.web._pages import page_kpis, wait_render
from tests.web.conftest import Watched, serving


class Held:
    """A store whose ingest waits for ``release`` before it reads anything (a backlog of minutes)."""

    def __init__(self, store: TraceStore) -> None:
        self.store, self.started, self.release = store, threading.Event(), threading.Event()
        self.real = store.ingest
        store.ingest = self.ingest  # type: ignore[method-assign]

    def ingest(self, paths: Any, **kwargs: Any) -> Any:
        self.started.set()
        assert self.release.wait(60), "the test never released the ingest"
        return self.real(paths, **kwargs)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Held, LiveStore, Path, int]]:
    """A store holding one directory's data, watching another whose ingest is held."""
    generate(tmp_path / "first", seed=3, traces=6, days=2)
    generate(tmp_path / "watch" / "more", seed=4, traces=6, days=2)
    store = TraceStore(tmp_path / "s.duckdb")
    store.ingest(tmp_path / "first")
    before = totals(store).spans
    hold = Held(store)
    live = LiveStore(store, [str(tmp_path / "watch")], interval=0.2)
    try:
        yield hold, live, tmp_path, before
    finally:
        hold.release.set()
        live.stop()


def _get(url: str, seconds: float = 20) -> Any:
    """``url``'s answer, or None when it did not come within ``seconds`` (the request waited on the ingest)."""
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(httpx.get(url, timeout=seconds * 3)), daemon=True)
    thread.start()
    thread.join(seconds)
    return answers[0] if answers else None


def test_the_dashboard_answers_with_the_last_data_while_an_ingest_runs(
        held: tuple[Held, LiveStore, Path, int], watched: Watched) -> None:
    """Every request waited for the watcher's ingest (one lock for both): the backlog of a big directory kept
    the page blank for minutes. During an ingest the API answers at once with the data committed before it,
    /api/status says an ingest is running (since when), and so does the page; after it the new data shows."""
    hold, live, tmp, before = held
    live.start()
    assert hold.started.wait(30)
    with serving(live) as url:
        status = _get(url + "/api/status")
        assert status is not None, "/api/status waited for the ingest"
        assert status.json()["ingesting"] and status.json()["spans"] == before and status.json()["rounds"] == 0
        summary = _get(url + "/api/summary")
        assert summary is not None, "/api/summary waited for the ingest"
        assert {c["key"]: c["value"] for c in summary.json()["cards"]}["spans"] == before
        page = watched.page
        page.goto(url + "/")
        wait_render(page, 0)
        assert page_kpis(page)["spans"] == before
        page.wait_for_function("() => document.getElementById('live-status').textContent.includes('ingesting since')")
        assert "the figures are the data loaded so far" in page.locator("#live-status").inner_text()
        hold.release.set()
        with TraceStore(":memory:") as truth:
            truth.ingest([tmp / "first", tmp / "watch"])
            after = totals(truth).spans
        page.wait_for_function("n => document.querySelector('[data-kpi=spans]').dataset.value === String(n)",
                               arg=after, timeout=30_000)
        page.wait_for_function("() => !document.getElementById('live-status').textContent.includes('ingesting')")
        done = httpx.get(url + "/api/status").json()
        assert done["rounds"] >= 1 and done["spans"] == after
        watched.assert_clean(url + "/")


def test_serve_watch_serves_before_the_backlog_is_ingested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --watch DIR`` ingested DIR's whole backlog (minutes on a big directory) before it served a
    page. It hands the server the store as it was and the directories to watch: the watcher ingests the
    backlog while the page answers."""
    from typer.testing import CliRunner

    import otel_llm_analysis.web.server as server_module
    from otel_llm.cli import app

    generate(tmp_path / "watch", seed=3, traces=6, days=2)
    given: dict[str, Any] = {}

    def run(store: Any, query: Any, listener: Any, **kwargs: Any) -> None:
        given.update(kwargs, spans=totals(store).spans)

    monkeypatch.setattr(server_module, "run", run)
    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "s.duckdb"), "--watch",
                                      str(tmp_path / "watch"), "--port", "0"])
    assert result.exit_code == 0, result.output
    assert given["watch"] == [str(tmp_path / "watch")] and given["spans"] == 0
