"""``otel-llm serve``: a real server process, checked in Chromium and over HTTP against the analysis API."""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from otel_llm_analysis import Filters, TraceStore, log_patterns, top_traces, totals
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.server import create_app
from otel_llm_analysis.web.views import Query
from tests.support.synthetic import generate
from tests.web._pages import (
    HeldRoutes,
    api_kpis,
    api_table,
    assert_charts_rendered,
    assert_kpi_text,
    assert_same_numbers,
    choose,
    download,
    page_kpis,
    range_filters,
    read_csv,
    renders,
    table_rows,
    wait_render,
)
from tests.web.conftest import Server, Watched, start_server


def open_dashboard(watched: Watched, server: Server) -> Any:
    page = watched.page
    page.goto(server.url + "/")
    wait_render(page, 0)
    return page


def test_dashboard_loads_from_loopback_only_and_draws_every_chart(watched: Watched, server: Server) -> None:
    page = open_dashboard(watched, server)
    assert_charts_rendered(page)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('spans')")
    watched.screenshot("dashboard")
    watched.assert_clean(server.url + "/")
    assert any(u.startswith(server.url + "/api/summary") for u in watched.requests)


def test_dashboard_kpis_and_tables_equal_the_api(watched: Watched, server: Server, api: TraceStore) -> None:
    page = open_dashboard(watched, server)
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters()))
    assert_kpi_text(page)
    models = table_rows(page, "models")
    for key, row in api_table(api, "model", Filters()).items():
        assert models[key]["llm_calls"] == row.llm_calls
    watched.assert_clean(server.url + "/")


def test_dashboard_filters_query_the_server_for_the_filtered_range(
        watched: Watched, server: Server, api: TraceStore) -> None:
    page = open_dashboard(watched, server)
    choose(page, "#f-range", "2026-10")
    choose(page, "#f-project", "summaries")
    choose(page, "#f-model", "gpt-4o-mini")
    filters = range_filters(page, "2026-10", "summaries", "gpt-4o-mini")
    assert_same_numbers(page_kpis(page), api_kpis(api, filters))
    assert any("project=summaries" in u and "model=gpt-4o-mini" in u for u in watched.requests)
    # any two days: the "to" day is inclusive on the page, so until is the day after
    before = renders(page)
    page.fill("#f-since", "2026-10-05")
    page.fill("#f-until", "2026-10-11")
    page.dispatch_event("#f-until", "change")
    wait_render(page, before)
    custom = Filters.of("2026-10-05", "2026-10-12", project="summaries", model="gpt-4o-mini")
    assert_same_numbers(page_kpis(page), api_kpis(api, custom))
    watched.screenshot("dashboard-filtered")
    watched.assert_clean(server.url + "/")


def test_dashboard_says_its_figures_are_of_the_old_filters_while_the_new_ones_load(
        watched: Watched, server: Server, api: TraceStore) -> None:
    """On a million spans the views of a new filter take seconds to come; meanwhile the page showed the
    previous filter's figures under the new choice, unmarked. It marks them as being replaced (busy,
    dimmed, "updating" said) until the new ones are drawn."""
    page = open_dashboard(watched, server)
    held: list[Any] = []
    page.route("**/api/summary?*", lambda route: held.append(route))
    page.select_option("#f-range", "2026-10")
    page.wait_for_function("() => document.getElementById('app').getAttribute('aria-busy') === 'true'",
                           timeout=5_000)
    assert "updating" in page.locator("#busy").inner_text()
    assert float(page.eval_on_selector("#app", "e => getComputedStyle(e).opacity")) < 1
    before = renders(page)
    for route in held:
        route.continue_()
    page.unroute("**/api/summary?*")
    wait_render(page, before)
    assert page.get_attribute("#app", "aria-busy") == "false" and page.locator("#busy").inner_text() == ""
    assert_same_numbers(page_kpis(page), api_kpis(api, range_filters(page, "2026-10")))
    watched.assert_clean(server.url + "/")


def test_dashboard_date_inputs_say_their_days_are_utc(watched: Watched, server: Server, api: TraceStore) -> None:
    """The From and To days typed in are UTC days (``since``/``until`` naive = UTC), and a reader west of UTC
    took them for local days: the labels say UTC, and the figures are the API's for those UTC days."""
    page = open_dashboard(watched, server)
    labels = page.eval_on_selector_all("label.live-only", "els => els.map(e => e.textContent.trim())")
    assert labels == ["From (UTC day)", "To (UTC day, inclusive)"], labels
    before = renders(page)
    page.fill("#f-since", "2026-11-02")
    page.fill("#f-until", "2026-11-03")
    page.dispatch_event("#f-until", "change")
    wait_render(page, before)
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters.of("2026-11-02", "2026-11-04")))
    watched.assert_clean(server.url + "/")


def test_dashboard_exports_download_and_parse(watched: Watched, server: Server, api: TraceStore,
                                              tmp_path: Path) -> None:
    page = open_dashboard(watched, server)
    shown = read_csv(download(page, "[data-export='projects.csv']", tmp_path))
    expected = api_table(api, "project", Filters())
    assert {row["key"] for row in shown} == set(expected)
    served = httpx.get(server.url + "/api/export/projects.csv", params={"since": "30d"}).text
    assert served.splitlines()[0].startswith("key,llm_calls,cost_usd")
    by_cost = httpx.get(server.url + "/api/export/traces.json").json()
    assert [t["trace_id"] for t in by_cost if t["ranking"] == "cost"] == [t.trace_id for t in top_traces(api, 10)]
    watched.assert_clean(server.url + "/")


def test_trace_endpoint_gives_the_tree_or_404(server: Server, api: TraceStore) -> None:
    trace = top_traces(api, 1)[0]
    tree = httpx.get(f"{server.url}/api/traces/{trace.trace_id}").json()
    assert [n["span_id"] for n in tree["spans"]] == [n.span_id for n in trace.tree]
    assert tree["total_spans"] == len(trace.tree) and tree["not_shown"] == {"before": 0, "after": 0}
    missing = httpx.get(f"{server.url}/api/traces/{'0' * 32}")
    assert missing.status_code == 404 and "no trace" in missing.json()["detail"]


@pytest.mark.parametrize("path, params, words", [
    ("/api/summary", {"since": "yesterday-ish"}, ["not a time", "yesterday-ish"]),
    ("/api/summary", {"until": "2026-13-45"}, ["not a time"]),
    ("/api/summary", {"since": "2026-11-10", "until": "2026-11-01"}, ["since", "before until"]),
    ("/api/trends", {"period": "month"}, ["period", "hour", "day", "week"]),
    ("/api/compare", {"by": "colour"}, ["unknown dimension 'colour'"]),
    ("/api/compare", {"by": "run_config.x'; DROP TABLE spans; --"}, ["invalid run_config key"]),
    ("/api/traces", {"top": "0"}, ["top", "greater than or equal to 1"]),
    ("/api/traces", {"top": "many"}, ["top", "integer"]),
    ("/api/logs", {"limit": "-5"}, ["limit"]),
    ("/api/models", {"peroid": "day"}, ["unknown query parameter peroid"]),
    ("/api/models", {"period": "day"}, ["unknown query parameter period"]),
    ("/api/export/models.xml", {}, ["fmt", "csv", "json"]),
    ("/api/traces/not-a-trace-id", {}, ["trace_id", "32 lowercase hex"]),
    ("/api/projects", {"project": "x" * 5000}, ["project", "4096"]),
])
def test_bad_query_parameters_get_400_with_a_message(server: Server, path: str, params: dict[str, str],
                                                     words: list[str]) -> None:
    response = httpx.get(server.url + path, params=params)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in detail, detail
    assert httpx.get(server.url + "/api/status").status_code == 200  # and the server is fine


def test_a_long_model_name_the_page_offers_can_be_chosen(tmp_path: Path) -> None:
    """A model named by its resource path past 200 characters was offered in the Model filter, and
    choosing it answered 400 ("Could not load" on the page)."""
    model = "projects/p/locations/europe-west4/publishers/google/models/" + "tuned-" * 40 + "v7"
    generate(tmp_path / "data", seed=3, traces=6, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    traces.write_text(traces.read_text().replace('"gpt-4o-mini"', json.dumps(model)))
    with TraceStore(tmp_path / "l.duckdb") as store:
        store.ingest(tmp_path / "data")
        calls = totals(store, Filters(model=model)).llm_calls
        client = TestClient(create_app(LiveStore(store), Query()))
        assert model in client.get("/api/choices").json()["models"]
        answer = client.get("/api/models", params={"model": model})
        assert answer.status_code == 200, answer.text
        assert calls > 0 and [row["llm_calls"] for row in answer.json()["rows"]] == [calls]


def _unnamed_project_store(tmp_path: Path, named: bool) -> Path:
    """A small store; with ``named``, the project "summaries" renamed "" (a project literally named empty)."""
    generate(tmp_path / "data", seed=3, traces=12, spans_per_line=8)
    traces = tmp_path / "data" / "traces.jsonl"
    if named:
        traces.write_text(traces.read_text().replace('"summaries"', '""'))
    db = tmp_path / "p.duckdb"
    with TraceStore(db) as store:
        store.ingest(tmp_path / "data")
    return db


@pytest.mark.parametrize("path", ["/api/summary", "/api/export/models.csv"])
@pytest.mark.parametrize("params", [{"project": ""}, {"project": "nosuch"}, {"model": ""}, {"model": "nosuch"}])
def test_a_filter_naming_nothing_in_the_store_is_said_not_answered_with_zeros(
        tmp_path: Path, path: str, params: dict[str, str]) -> None:
    """``/api/summary?project=`` (an empty project, as a form leaves it) and ``?project=nosuch`` answered 200
    with 0 spans and $0: a typo read as "no spend". ``otel-llm summary --project nosuch`` says the store has
    no such project and exits 2; the API says it too (404), naming what the store has."""
    db = _unnamed_project_store(tmp_path, named=False)
    with TraceStore(db, read_only=True) as store:
        client = TestClient(create_app(LiveStore(store), Query()))
        answer = client.get(path, params=params)
        assert answer.status_code == 404, answer.text
        (kind, value), = params.items()
        detail = answer.json()["detail"]
        assert f"no data for {kind}" in detail and ("search" in detail if kind == "project" else "gpt-4o" in detail)
        if not value:
            assert "leave it out" in detail, detail
        assert client.get(path).status_code == 200


def test_a_project_named_empty_is_answered_for_project_empty(tmp_path: Path) -> None:
    """A store that does hold a project named "" answers ``?project=`` with that project's figures (the CLI's
    ``--project ""``), not the zeros of an unknown project."""
    db = _unnamed_project_store(tmp_path, named=True)
    with TraceStore(db, read_only=True) as store:
        client = TestClient(create_app(LiveStore(store), Query()))
        cards = {c["key"]: c["value"] for c in client.get("/api/summary", params={"project": ""}).json()["cards"]}
        expected = totals(store, Filters(project=""))
        assert expected.llm_calls > 0 and cards["llm_calls"] == expected.llm_calls and cards["spans"] == expected.spans


def test_openapi_describes_every_view_and_export(server: Server) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    paths = set(spec["paths"])
    for name in ("summary", "trends", "budgets", "models", "projects", "operations", "nodes", "collections",
                 "evaluations", "compare", "traces", "logs"):
        assert f"/api/{name}" in paths and f"/api/export/{name}.{{fmt}}" in paths
    assert {"/api/traces/{trace_id}", "/api/status", "/api/choices"} <= paths
    since = next(p for p in spec["paths"]["/api/summary"]["get"]["parameters"] if p["name"] == "since")
    assert "inclusive" in since["description"]
    assert httpx.get(server.url + "/docs").status_code == 404  # its page would load a script from a CDN


@pytest.fixture
def growing_server(data_dir: Path, tmp_path: Path) -> Iterator[Server]:
    """A dashboard watching a directory the test adds files to."""
    running = start_server(tmp_path, data_dir)
    try:
        yield running
    finally:
        running.stop()


def more_data(page: Any, data_dir: Path, more: Path, traces: int) -> dict[str, float | None]:
    """Write ``traces`` more traces to ``more`` (not yet watched); the page shows ``data_dir``'s data alone.

    Returns the KPIs of both together, from the analysis API.
    """
    generate(more, seed=8, traces=traces, end=datetime(2026, 11, 20), spans_per_line=16)
    with TraceStore(":memory:") as truth:
        truth.ingest([data_dir])
        assert page_kpis(page)["spans"] == totals(truth).spans
        truth.ingest([more])
        return api_kpis(truth, Filters())


def next_version(server: Server, before: int) -> dict[str, Any]:
    """``/api/status`` once the watcher's version has moved past ``before`` (or after a bounded wait)."""
    status = httpx.get(server.url + "/api/status").json()
    for _ in range(300):
        if status["version"] != before:
            break
        time.sleep(0.1)
        status = httpx.get(server.url + "/api/status").json()
    return status


def test_a_file_added_to_the_watched_directory_shows_up_on_the_page(
        watched: Watched, growing_server: Server, data_dir: Path, tmp_path: Path) -> None:
    page = open_dashboard(watched, growing_server)
    more = tmp_path / "more"
    expected = more_data(page, data_dir, more, 40)
    incoming = growing_server.watch / "more"
    shutil.copytree(more, tmp_path / "staging")
    (tmp_path / "staging").rename(incoming)  # the files appear at once, whole
    page.wait_for_function("n => document.querySelector('[data-kpi=spans]').dataset.value === String(n)",
                           arg=expected["spans"], timeout=30_000)
    assert_same_numbers(page_kpis(page), expected)
    watched.screenshot("dashboard-after-append")
    watched.assert_clean(growing_server.url + "/")
    assert "ingested" in growing_server.log.read_text()



def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel writes them) of sockets listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_dashboard_listens_on_loopback_only_by_default(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing on 0.0.0.0 or ::
    assert f"otel-llm dashboard on {server.url}/" in server.log.read_text()


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8765", "192.168.1.7"])
def test_a_loopback_dashboard_refuses_requests_naming_another_host(server: Server, host: str) -> None:
    """A web page the user visits can point its own domain at 127.0.0.1 (DNS rebinding) and then read the
    dashboard as same-origin: a loopback dashboard answers only requests addressed to a loopback name."""
    port = server.url.rsplit(":", 1)[1]
    for path in ("/", "/api/summary", "/api/status", "/api/export/traces.json"):
        refused = httpx.get(server.url + path, headers={"Host": host})
        assert refused.status_code == 400 and "Host" in refused.json()["detail"], (path, refused.text[:200])
    for name in ("127.0.0.1", "localhost", f"localhost:{port}", f"127.0.0.1:{port}"):
        assert httpx.get(server.url + "/api/status", headers={"Host": name}).status_code == 200, name


def test_a_bad_line_in_the_watched_directory_is_reported_not_dropped_silently(growing_server: Server) -> None:
    before = httpx.get(growing_server.url + "/api/status").json()
    bad = growing_server.watch / "broken" / "traces.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"resourceSpans": [oops\n')
    status = next_version(growing_server, before["version"])  # the watcher's next round
    assert "1 problem(s)" in (status["last_ingest"] or ""), status
    assert status["spans"] == before["spans"]
    log = growing_server.log.read_text()
    assert f"bad line {bad}:1" in log, log


def test_a_bad_line_the_watcher_meets_is_shown_on_the_page(watched: Watched, growing_server: Server,
                                                           tmp_path: Path) -> None:
    """Someone watching the dashboard, not the server's terminal, is told which line was not loaded and why,
    and still is after later rounds loaded good data (the bad line is not read again)."""
    page = open_dashboard(watched, growing_server)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('spans')")
    bad = growing_server.watch / "broken" / "traces.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"resourceSpans": [oops\n')
    where = f"{bad}:1"
    page.wait_for_function("w => document.getElementById('live-status').textContent.includes(w)", arg=where,
                           timeout=30_000)
    text = page.locator("#live-status").inner_text()
    assert "1 line not loaded" in text, text
    status = httpx.get(growing_server.url + "/api/status").json()
    assert status["problems"] == 1 and status["recent_problems"][0].startswith(where), status
    generate(tmp_path / "later", seed=4, traces=3)  # a later, clean round keeps the problem shown
    (tmp_path / "later").rename(growing_server.watch / "later")
    next_version(growing_server, status["version"])
    page.wait_for_timeout(3000)  # a poll or two
    assert where in page.locator("#live-status").inner_text()
    watched.assert_clean(growing_server.url + "/")


def test_data_ingested_before_the_first_poll_answers_still_shows(
        watched: Watched, growing_server: Server, data_dir: Path, tmp_path: Path) -> None:
    """The page's views are of the data when it loaded; an ingest that lands before its first poll answers
    is a change too (the page must not take that poll's version as the one it shows)."""
    held = HeldRoutes()  # the first poll waits until the data has grown
    page = watched.page
    page.route("**/api/status", held)
    open_dashboard(watched, growing_server)
    more = tmp_path / "more"
    expected = more_data(page, data_dir, more, 10)["spans"]
    before = httpx.get(growing_server.url + "/api/status").json()["version"]
    more.rename(growing_server.watch / "more")
    next_version(growing_server, before)
    assert held.routes, "the page polled"
    held.release()
    page.wait_for_function("n => document.querySelector('[data-kpi=spans]').dataset.value === String(n)",
                           arg=expected, timeout=30_000)
    watched.assert_clean(growing_server.url + "/")


def test_serve_starts_over_a_backlog_with_a_bad_line_and_lists_it_on_the_terminal_and_the_page(
        watched: Watched, tmp_path: Path) -> None:
    """The backlog's bad line is said where the watcher's later ones are: the terminal, /api/status and the
    page (someone watching the dashboard, not the server's terminal, was told nothing of it)."""
    generate(tmp_path / "data", seed=3, traces=6)
    bad = tmp_path / "data" / "broken" / "traces.jsonl"
    bad.parent.mkdir()
    bad.write_text('{"resourceSpans": [oops\n')
    running = start_server(tmp_path, tmp_path / "data")  # fails unless it answers
    try:
        where = f"{running.watch / 'broken' / 'traces.jsonl'}:1"
        status = httpx.get(running.url + "/api/status").json()
        assert status["spans"] > 0
        assert f"bad line {where}" in running.log.read_text()
        assert status["problems"] == 1 and status["recent_problems"][0].startswith(where), status
        page = open_dashboard(watched, running)
        page.wait_for_function("w => document.getElementById('live-status').textContent.includes(w)", arg=where,
                               timeout=30_000)
        assert "1 line not loaded" in page.locator("#live-status").inner_text()
        watched.assert_clean(running.url + "/")
    finally:
        running.stop()


def test_serve_starts_watching_a_directory_the_app_has_not_written_to_yet(
        watched: Watched, data_dir: Path, tmp_path: Path) -> None:
    """Start the dashboard, then the app: a watched directory without files yet is not an error, and the
    page shows the data once the app writes it."""
    (tmp_path / "nothing-yet").mkdir()
    running = start_server(tmp_path, tmp_path / "nothing-yet")  # fails unless it answers
    try:
        page = open_dashboard(watched, running)
        assert page_kpis(page)["spans"] == 0
        shutil.copytree(data_dir, tmp_path / "staging")
        (tmp_path / "staging").rename(running.watch / "app")
        with TraceStore(":memory:") as truth:
            truth.ingest([data_dir])
            expected = totals(truth).spans
        page.wait_for_function("n => document.querySelector('[data-kpi=spans]').dataset.value === String(n)",
                               arg=expected, timeout=30_000)
        watched.assert_clean(running.url + "/")
    finally:
        running.stop()


def test_serve_command_errors_are_one_line(tmp_path: Path) -> None:
    from tests.web.conftest import cli

    missing = cli("serve", "--db", str(tmp_path / "none.duckdb"), check=False)
    assert missing.returncode == 1 and "no database at" in missing.stderr and "--watch DIR" in missing.stderr
    nowhere = cli("serve", "--db", str(tmp_path / "x.duckdb"), "--watch", str(tmp_path / "nowhere"), check=False)
    assert nowhere.returncode == 2 and "--watch needs an existing directory" in nowhere.stderr
    bad = cli("serve", "--db", str(tmp_path / "x.duckdb"), "--since", "soonish", check=False)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: not a time: 'soonish' (use ISO like 2026-11-01 or relative like 7d)"]
    for result in (missing, nowhere, bad):
        assert "Traceback" not in result.stderr


def test_port_0_serves_on_a_free_port_and_announces_it(db: Path, tmp_path: Path) -> None:
    """``--port 0`` asks the OS for a free port; the address printed is the one that answers."""
    import subprocess

    from tests.web.conftest import OTEL_LLM, Server, wait_until_serving

    log = tmp_path / "serve.log"
    process = subprocess.Popen([OTEL_LLM, "serve", "--db", str(db), "--port", "0"], stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    server = Server(process, "", tmp_path, log)
    try:
        deadline = time.monotonic() + 120
        while "otel-llm dashboard on " not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        url = log.read_text().split("otel-llm dashboard on ", 1)[1].split("/ ", 1)[0]
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0"), log.read_text()
        wait_until_serving(process, url)
        assert httpx.get(f"{url}/api/status", timeout=10).json()["spans"] > 0
    finally:
        server.stop()


def test_dashboard_over_a_store_an_interrupted_ingest_left_says_its_figures_can_be_off(
        watched: Watched, tmp_path: Path) -> None:
    import subprocess

    from tests.web.conftest import OTEL_LLM, free_port, interrupted_store, wait_until_serving

    db = interrupted_store(tmp_path, "price_calls")
    port, log = free_port(), tmp_path / "serve.log"
    process = subprocess.Popen([OTEL_LLM, "serve", "--db", str(db), "--port", str(port)], stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", tmp_path, log)
    try:
        wait_until_serving(process, server.url)
        assert "note: an ingest into" in log.read_text()
        assert httpx.get(server.url + "/api/status").json()["unfinished"].startswith("an ingest into")
        page = open_dashboard(watched, server)
        note = page.locator("#filter-note").inner_text()
        assert note.startswith("Incomplete: an ingest into") and "interrupted" in note
        watched.assert_clean(server.url + "/")
    finally:
        server.stop()


def test_the_page_follows_the_status_it_polls_for_an_unfinished_store_and_a_failing_watcher(
        watched: Watched, growing_server: Server) -> None:
    """A watcher's ingest that fails after committing rows leaves the store unfinished until its next round,
    and a watcher can keep failing (a directory removed): the page says both as /api/status reports them, in
    place. The server's replies are the real ones; the test rewrites two of their fields, as a failing round
    would set them (a real mid-ingest failure cannot be timed from outside)."""
    import json

    status: dict[str, Any] = {}

    def rewritten(route: Any) -> None:
        reply = route.fetch()
        route.fulfill(response=reply, json={**reply.json(), **status})

    page = watched.page
    page.route("**/api/status", rewritten)
    open_dashboard(watched, growing_server)
    assert page.locator("#filter-note").inner_text() == ""
    status.update(unfinished="an ingest into live.duckdb was interrupted after storing 12 span(s): ...",
                  last_error="no such directory: gone")
    page.wait_for_function("() => document.getElementById('filter-note').textContent.startsWith('Incomplete: ')",
                           timeout=30_000)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes("
                           + json.dumps("watching failed: no such directory: gone") + ")", timeout=30_000)
    status.update(unfinished=None, last_error=None)
    page.wait_for_function("() => document.getElementById('filter-note').textContent === ''", timeout=30_000)
    page.wait_for_function("() => !document.getElementById('live-status').textContent.includes('failed')",
                           timeout=30_000)
    watched.assert_clean(growing_server.url + "/")


def test_live_status_says_it_counts_the_whole_store_not_the_filtered_page(
        watched: Watched, server: Server, api: TraceStore) -> None:
    """With a project picked, the status line's "live · N spans" counted every stored span while the Spans
    card counted the project's: two span counts on one page, differing in silence. The line says what its
    figure is, and that figure is the analysis API's for the whole store."""
    page = open_dashboard(watched, server)
    choose(page, "#f-project", "summaries")
    whole, picked = totals(api).spans, totals(api, Filters(project="summaries")).spans
    assert page_kpis(page)["spans"] == picked != whole
    said = f"live · {whole:,} spans in the store (all projects and models, every date)"
    page.wait_for_function("s => document.getElementById('live-status').textContent.startsWith(s)", arg=said,
                           timeout=30_000)
    watched.assert_clean(server.url + "/")


def test_live_status_says_the_time_it_checked_in_utc(watched: Watched, server: Server) -> None:
    """The status line said "checked 3:04:05 AM": the browser's local time with no zone named, beside dates
    and table times that are UTC. It says the time in UTC, and says so."""
    page = open_dashboard(watched, server)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('checked')",
                           timeout=30_000)
    said = page.locator("#live-status").inner_text()
    found = re.search(r"checked (\d\d):(\d\d):(\d\d) UTC", said)
    assert found, said
    now = datetime.now(timezone.utc)
    checked = now.replace(hour=int(found[1]), minute=int(found[2]), second=int(found[3]), microsecond=0)
    assert abs((now - checked).total_seconds()) < 120 or abs((now - checked).total_seconds()) > 86_280, (said, now)
    watched.assert_clean(server.url + "/")


def test_dashboard_logs_narrow_to_a_trace_as_the_cli_does(watched: Watched, server: Server, api: TraceStore) -> None:
    """The CLI's ``logs --service/--logger/--trace`` had no counterpart on the dashboard: its log patterns were
    the whole store's. Inputs above the patterns narrow them, with the CLI's answers."""
    page = open_dashboard(watched, server)
    everything = log_patterns(api, "ERROR", limit=20)
    trace_id = everything[0].example_trace_id
    assert len(everything) > 1
    before = renders(page)
    page.fill("#log-trace_id", trace_id)
    page.press("#log-trace_id", "Enter")
    wait_render(page, before)
    expected = log_patterns(api, "ERROR", limit=20, trace_id=trace_id)
    shown = page.eval_on_selector_all("#view-logs tbody tr", "trs => trs.map(tr => tr.cells[0].textContent)")
    assert shown == [p.pattern for p in expected] and len(shown) < len(everything), shown
    choose(page, "#f-range", page.eval_on_selector("#f-range", "s => s.options[1].value"))  # a new date range:
    assert page.input_value("#log-trace_id") == trace_id  # the narrowing stays, and so do its figures
    shown = page.eval_on_selector_all("#view-logs tbody tr", "trs => trs.map(tr => tr.cells[0].textContent)")
    assert set(shown) <= {p.pattern for p in expected} | {"No data in this range."}, shown
    watched.assert_clean(server.url + "/")


def test_dashboard_draws_its_cards_before_the_charts_and_tables_come(
        watched: Watched, server: Server, api: TraceStore) -> None:
    """On 1M spans the page's views took ~4 s together (the server answers them one at a time, over one
    store), and the page drew nothing until the last one came, though its cards need ``/api/summary`` alone.
    The cards and budgets are drawn as soon as they come, the charts and tables when theirs do."""
    page = watched.page
    held: list[Any] = []
    slow = ("trends", "compare", "traces", "models", "logs")

    def later(url: str) -> bool:
        return any(f"/api/{name}" in url for name in slow)

    page.route(later, lambda route: held.append(route))
    page.goto(server.url + "/")
    page.wait_for_selector("[data-kpi='llm_calls']", timeout=30_000)
    assert_same_numbers(page_kpis(page), api_kpis(api, Filters()))
    assert page.locator("[data-budget]").count() == 3  # the budget bars too
    assert page.locator("[data-chart]").count() == 0 and renders(page) == 0
    assert "loading the charts and tables" in page.locator("#app").inner_text().lower()
    for _ in range(300):  # every held request intercepted (each handler runs as its request starts)
        if len(held) >= len(slow):
            break
        page.wait_for_timeout(100)
    for route in held:
        route.continue_()
    page.unroute(later)
    wait_render(page, 0)
    assert_charts_rendered(page)
    assert page.get_attribute("#app", "aria-busy") == "false" and page.locator("#busy").inner_text() == ""
    watched.assert_clean(server.url + "/")


def test_dashboard_opens_a_huge_trace_a_page_at_a_time(watched: Watched, tmp_path: Path) -> None:
    """The dashboard's span tree of a huge trace showed its first TREE_MAX spans and pointed at
    api/traces/<id>, which sent the whole tree. The page says how many spans are not shown and a button
    fetches the next TREE_MAX of them (one page of the endpoint), until the tree is whole."""
    from otel_llm_analysis.traces import span_trees
    from otel_llm_analysis.web.views import TREE_MAX
    from tests.web.test_report import _wide_trace_data

    trace_id = _wide_trace_data(tmp_path / "data", 2 * TREE_MAX)
    running = start_server(tmp_path, tmp_path / "data")
    try:
        page = open_dashboard(watched, running)
        with TraceStore(tmp_path / "check.duckdb") as store:
            store.ingest(tmp_path / "data")
            whole = [n.span_id for n in span_trees(store, [trace_id])[trace_id]]
        page.locator(f"button[aria-label='Span tree of trace {trace_id}']").first.click()
        tree = page.locator("tr.tree:not([hidden])").first
        assert tree.locator(".span").count() == TREE_MAX
        left = len(whole) - TREE_MAX
        assert f"the first {TREE_MAX:,} of its {len(whole):,} spans ({left:,} not shown)" in tree.inner_text()
        while left > 0:
            tree.locator("button.more").click()
            shown = min(len(whole), len(whole) - left + TREE_MAX)
            page.wait_for_function("([sel, n]) => document.querySelector(sel).querySelectorAll('.span').length === n",
                                   arg=["tr.tree:not([hidden])", shown])
            left = len(whole) - shown
        assert tree.locator("button.more").count() == 0 and "(0 not shown)" in tree.inner_text()
        watched.assert_clean(running.url + "/")
        assert any(f"api/traces/{trace_id}?offset={TREE_MAX}&limit={TREE_MAX}" in u for u in watched.requests)
    finally:
        running.stop()


def test_export_clicked_while_the_dashboard_loads_waits_for_every_view(watched: Watched, server: Server,
                                                                         tmp_path: Path) -> None:
    """Export JSON clicked while the page was still loading (the cards drawn, the tables on their way: seconds
    on a big store) downloaded the two views drawn so far as if they were the page. The export waits for every
    view of the filters chosen, says that it waits, and then holds them all."""
    from otel_llm_analysis.web.views import VIEWS

    held = HeldRoutes()  # the traces view answers late
    page = watched.page
    page.route("**/api/traces?*", held)
    page.route("**/api/traces", held)
    page.goto(server.url + "/")
    page.wait_for_function("() => (window.otelLlmFirstPaints || 0) > 0")
    while not held.routes:
        page.wait_for_timeout(50)
    with page.expect_download(timeout=30_000) as info:
        page.click("#export-json")
        page.wait_for_timeout(500)
        assert "waits until every view" in page.locator("#export-note").inner_text()
        assert page.locator("#export-json").is_disabled()
        held.release()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(str(path))
    exported = json.loads(path.read_text())
    assert sorted(exported["views"]) == sorted(VIEWS)
    assert exported["views"]["traces"]["cost"], "the late view is in the export"
    assert page.locator("#export-note").inner_text() == "" and not page.locator("#export-json").is_disabled()
    watched.assert_clean(server.url + "/")


def test_dashboard_follows_a_dark_colour_scheme_and_stays_readable(watched: Watched, server: Server) -> None:
    """Dark mode was checked on the report only. The dashboard's own parts - the dates typed in, the status
    line, the log inputs, the tree's paging, the export note - turn dark with the system too, and everything
    drawn stays readable (WCAG AA); light mode keeps the light page."""
    from tests.web._pages import assert_readable, contrasts

    page = watched.page
    page.emulate_media(color_scheme="dark")
    page = open_dashboard(watched, server)
    page.wait_for_function("() => document.getElementById('live-status').textContent.includes('spans')")
    project = page.eval_on_selector_all("#f-project option", "os => os.map(o => o.value).filter(Boolean)")[0]
    choose(page, "#f-project", project)  # the sections a project does not filter say so
    assert page.locator("p.unfiltered").count() > 0
    page.locator("details.figures summary").first.click()
    page.locator("button.toggle").first.click()  # a span tree
    found = contrasts(page)
    assert found["background"] < 0.05, found["background"]
    assert [i for i in found["items"] if "live-only" in i[1]], "the dashboard's own parts are checked"
    assert_readable(page)
    page.fill("#log-service", "any service")  # a typed value, read against its field
    fields = page.eval_on_selector_all("#f-since, #f-until, .log-sources input, .log-sources select", """els => els.map(e => {
      const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = c => { const a = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                         return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; };
      const cs = getComputedStyle(e), f = lum(rgb(cs.color)), b = lum(rgb(cs.backgroundColor));
      return [e.id, b, (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05)]; })""")
    assert len(fields) == 7 and all(  # the dates; the log search: words, severity, service, logger, trace
        bg < 0.1 and ratio >= 4.5 for _, bg, ratio in fields), fields
    watched.screenshot("dashboard-dark")
    page.emulate_media(color_scheme="light")
    assert contrasts(page)["background"] > 0.9
    watched.assert_clean(server.url + "/")


def test_narrowing_the_logs_while_new_filters_load_does_not_strand_the_page(
        watched: Watched, server: Server, api: TraceStore) -> None:
    """Typing a service into the log inputs while the views of newly chosen dates were loading cancelled that
    load (one counter for both): the page kept the old dates' figures and said "updating" for good. The
    log narrowing is its own request; the dates' views still arrive, with the logs narrowed as asked."""
    page = open_dashboard(watched, server)
    held = HeldRoutes()
    page.route("**/api/summary?*", held)
    page.select_option("#f-range", "7d")
    while not held.routes:
        page.wait_for_timeout(50)
    before = renders(page)
    page.fill("#log-service", "no-such-service")
    page.dispatch_event("#log-service", "change")
    wait_render(page, before)  # the narrowed logs
    held.release()
    week = range_filters(page, "7d")
    page.wait_for_function("n => document.querySelector('[data-kpi=spans]').dataset.value === String(n)",
                           arg=totals(api, week).spans, timeout=30_000)
    page.wait_for_function("() => document.getElementById('busy').textContent === ''", timeout=30_000)
    assert page.locator("#log-service").input_value() == "no-such-service"
    assert "No data in this range." in page.locator("#view-logs").inner_text()  # still narrowed
    watched.assert_clean(server.url + "/")
