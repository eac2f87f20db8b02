"""``serve --watch`` answers while an ingest runs: the data before it, whole, and the page says an ingest runs."""

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


def _release_until_shown(page: Any, release: threading.Event, tmp: Path) -> int:
    """Let the held ingest go on; once the page's Spans card shows the data after it, its number of spans."""
    release.set()
    with TraceStore(":memory:") as truth:
        truth.ingest([tmp / "first", tmp / "watch"])
        after = totals(truth).spans
    page.wait_for_function("n => document.querySelector('[data-kpi=spans]').dataset.value === String(n)",
                           arg=after, timeout=30_000)
    return after


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
        # the note shows once the ingest has run a second (NOTE_AFTER_S): a poll before that says none yet
        page.wait_for_function("() => document.getElementById('ingest-note').textContent.includes('Ingesting')")
        assert "the data before it, whole" in page.locator("#ingest-note").inner_text()
        after = _release_until_shown(page, hold.release, tmp)
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


class Midway:
    """A store whose ingest stops after committing its span rows - before it prices and pairs them and works
    out the agents' tables - until ``release``: the moment a reader of committed rows sees half an ingest."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import otel_llm_analysis.store as store_module

        self.started, self.release = threading.Event(), threading.Event()
        real = store_module.price_calls

        def price_calls(*args: Any, **kwargs: Any) -> Any:
            self.started.set()
            assert self.release.wait(60), "the test never released the ingest"
            return real(*args, **kwargs)

        monkeypatch.setattr(store_module, "price_calls", price_calls)


@pytest.fixture
def midway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Midway, LiveStore, Path]]:
    """A store holding one directory's data, watching another whose ingest stops midway."""
    generate(tmp_path / "first", seed=3, traces=6, days=2)
    generate(tmp_path / "watch" / "more", seed=4, traces=6, days=2)
    store = TraceStore(tmp_path / "s.duckdb")
    store.ingest(tmp_path / "first")
    hold = Midway(monkeypatch)
    live = LiveStore(store, [str(tmp_path / "watch")], interval=0.2)
    try:
        yield hold, live, tmp_path
    finally:
        hold.release.set()
        live.stop()


CONSISTENT = """() => {
  const cards = Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(e => [e.dataset.kpi, e.dataset.value]));
  const calls = [...document.querySelectorAll('#view-projects tbody tr td[data-key=llm_calls]')]
    .reduce((sum, td) => sum + Number(td.dataset.value || 0), 0);
  return {spans: Number(cards.spans), calls: Number(cards.llm_calls), project_calls: calls};
}"""


def _views(url: str, names: tuple[str, ...]) -> dict[str, Any]:
    answers = {name: _get(f"{url}/api/{name}") for name in names}
    assert all(a is not None and a.status_code == 200 for a in answers.values()), answers
    return {name: answer.json() for name, answer in answers.items()}


def test_a_request_during_an_ingest_reads_the_data_before_it_never_half_of_it(
        midway: tuple[Midway, LiveStore, Path], watched: Watched) -> None:
    """The requests read what the ingest had committed so far: its span rows before their prices, pairs and
    agents' tables - spans counted and costs not, calls counted twice - figures that read as wrong numbers.
    During an ingest every view is the data before it, whole, and the page says an ingest is running and
    that the figures are from before it; after it, the data after it, whole."""
    hold, live, tmp = midway
    names = ("summary", "projects", "models", "trends", "traces", "agents")
    with serving(live) as url:
        before = _views(url, names)
        live.release()  # nothing remembered from these answers: the next ones read the store again
        live.start()
        assert hold.started.wait(60)
        assert _views(url, names) == before, "a view read half an ingest"
        status = httpx.get(url + "/api/status").json()
        spans = {c["key"]: c["value"] for c in before["summary"]["cards"]}["spans"]
        assert status["ingesting"] and status["spans"] == spans
        page = watched.page
        page.goto(url + "/")
        wait_render(page, 0)
        assert page_kpis(page)["spans"] == spans
        note = page.locator("#ingest-note")
        note.wait_for(state="visible")
        assert "Ingesting" in note.inner_text() and "before it" in note.inner_text(), note.inner_text()
        _release_until_shown(page, hold.release, tmp)
        note.wait_for(state="hidden")
        page.wait_for_function("() => document.getElementById('view-projects') && document.getElementById('view-agents')")
        shown = page.evaluate(CONSISTENT)
        assert shown["calls"] == shown["project_calls"], shown
        watched.assert_clean(url + "/")


def test_the_page_never_draws_views_of_two_versions_of_the_data(
        held: tuple[Held, LiveStore, Path, int], watched: Watched) -> None:
    """The page asks for its cards first, then for the charts and tables: an ingest ending in between drew
    cards of the data before it beside tables of the data after it. The views the page draws together are
    of one version of the data: those of an older one are asked for again."""
    from tests.web._pages import HeldRoutes

    hold, live, tmp, before = held
    hold.release.set()  # the backlog of "first" only: the watched directory is empty until the test fills it
    watch = tmp / "watch"
    more = watch / "more"
    more.rename(tmp / "later")
    live.start()
    with serving(live, refresh_ms=600_000) as url:  # no poll while the page loads: its own loads only
        deadline = 60
        while live.rounds < 1 and deadline:
            threading.Event().wait(0.5)
            deadline -= 1
        version = live.version
        page = watched.page
        late = HeldRoutes()
        first = ("/api/summary", "/api/budgets", "/api/status", "/api/choices")
        page.route(lambda u: "/api/" in u and not any(f in u for f in first), late)
        page.goto(url + "/")
        page.wait_for_function("() => (window.otelLlmFirstPaints || 0) >= 1")
        (tmp / "later").rename(more)  # the watcher ingests it now, between the cards and the tables
        deadline = 120
        while live.version == version and deadline:
            threading.Event().wait(0.5)
            deadline -= 1
        assert live.version > version, "the watcher did not ingest the new directory"
        late.release()
        wait_render(page, 0)
        shown = page.evaluate(CONSISTENT)
        assert shown["calls"] == shown["project_calls"], f"cards and tables of two versions of the data: {shown}"
        with TraceStore(":memory:") as truth:
            truth.ingest([tmp / "first", watch])
            assert shown["spans"] == totals(truth).spans
        watched.assert_clean(url + "/")


def test_a_failed_statement_ends_the_snapshot_and_the_next_request_takes_a_new_one(
        midway: tuple[Midway, LiveStore, Path]) -> None:
    """DuckDB ends a transaction at its first failed statement: the requests' snapshot with it. The request
    failing says its error; the next one waits for a running ingest to end and reads a new snapshot - the
    data after it, under a new version - rather than every later request failing on the ended one."""
    from otel_llm_analysis.store import StoreError

    hold, live, tmp = midway
    live.start()
    assert hold.started.wait(60)
    with live.reading() as store:
        version = live.data_version
        spans = totals(store).spans
        with pytest.raises(StoreError, match="no_such_table"):
            store.query("SELECT * FROM no_such_table")
    threading.Timer(0.5, hold.release.set).start()  # the next request waits for the ingest to end
    with live.reading() as store:
        assert totals(store).spans > spans and live.data_version > version
