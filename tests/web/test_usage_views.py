"""The newer analyses on the report and the dashboard: running now, memory per session, popular queries and
cheaper models, from a real app's files, in real Chromium, equal to the analysis API."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from otel_llm_analysis import TraceStore
from otel_llm_analysis.popular_queries import popular_queries
from otel_llm_analysis.recommendations import cheaper_models
from otel_llm_analysis.running import running
from otel_llm_analysis.session_memory import session_memory
from otel_llm_analysis.store import price_book
from otel_llm_analysis.web.live import LiveStore
from tests.support.app_store import ingest, run_app
from tests.web._pages import table_rows, wait_render
from tests.web.conftest import Watched, cli, serving

INJECTED = '<img src=x onerror="window.__injected = 1">'
#: a model name that closes the page's data script if embedded raw, then runs script
MODEL = '</script><img src=x onerror="window.__injected = 2">ü'
QUESTIONS = ["What is my balance?", "what is my  balance?", "Reset my password", INJECTED, "Où est ma carte ? 🃏"]
APP = """
import json, os, sys, threading, time
import otel_llm
otel_llm.configure(service_name="helpdesk", capture_content=True, process_metrics=True,
                   metric_export_interval_ms=100)
release = threading.Event()

@otel_llm.llm_call(model="gpt-4o", provider="openai")
def big():
    return {"model": "gpt-4o", "usage": {"prompt_tokens": 2000, "completion_tokens": 300}}

@otel_llm.llm_call(model="gpt-4o-mini", provider="openai")
def small():
    return {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 2000, "completion_tokens": 300}}

@otel_llm.llm_call(model=sys.argv[2], provider="openai")
def odd():
    return {"model": sys.argv[2], "usage": {"prompt_tokens": 10, "completion_tokens": 5}}

@otel_llm.llm_call(model="gpt-4o", provider="openai")
def stuck():
    release.wait(60)

@otel_llm.chat
def answer(question: str, thread_id: str) -> str:
    big()
    small()
    odd()
    time.sleep(0.25)  # a memory point while the turn runs
    return "ok"

with otel_llm.session(user_id="u-1"):
    for i, question in enumerate(json.loads(sys.argv[1])):
        answer(question, thread_id=f"t{i % 2}")
threading.Thread(target=stuck, daemon=True).start()
time.sleep(0.3)
otel_llm.flush()
os._exit(0)  # stopped mid-call: its last export says one call running
"""
VIEWS = ("running", "sessions", "queries", "recommend")


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("usage-views")
    out = run_app(root, APP, json.dumps(QUESTIONS), MODEL)
    return Path(ingest(root, out))


def expected(db: Path) -> dict[str, dict[str, Any]]:
    """Each view's rows as the analysis API gives them: first cell -> one figure it shows."""
    with TraceStore(db, read_only=True) as store:
        return {
            "running": {r.service: r.running for r in running(store)},
            "sessions": {r.conversation: r.spans for r in session_memory(store, top=50)},
            "queries": {r.query: r.turns for r in popular_queries(store, None, 20)},
            "recommend": {r.model: r.alternative for r in cheaper_models(store, price_book(None)).rows},
        }


FIGURE = {"running": "running", "sessions": "spans", "queries": "turns", "recommend": "alternative"}


def assert_views(page: Any, want: dict[str, dict[str, Any]]) -> None:
    for name in VIEWS:
        assert page.locator(f"#view-{name} h2").count() == 1, name
        shown = {key: values[FIGURE[name]] for key, values in table_rows(page, name).items()}
        assert shown == {k: (float(v) if isinstance(v, int) else v) for k, v in want[name].items()}, name
    assert page.evaluate("window.__injected") is None  # the message and the model are shown as text, never run
    assert INJECTED in page.locator("#view-queries").inner_text()
    assert MODEL in page.locator("#view-models").inner_text()
    assert MODEL in page.eval_on_selector_all("#f-model option", "os => os.map(o => o.textContent)")


def test_report_shows_running_sessions_queries_and_cheaper_models(app_db: Path, watched: Watched,
                                                                    tmp_path: Path) -> None:
    """``otel-llm running``, ``sessions``, ``queries`` and ``recommend`` had no place on the report: a user
    reading it never saw the call left running, the memory per conversation, what users ask most or the
    cheaper model. Each is a section, its rows the API's (the app's message shown as text)."""
    want = expected(app_db)
    assert all(want[name] for name in VIEWS), want
    assert want["running"] == {"helpdesk": 1}
    out = tmp_path / "report.html"
    cli("report", "--db", str(app_db), "-o", str(out))
    page = watched.page
    page.context.set_offline(True)  # self-contained: it opens with the network cut
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(out.as_uri())
    wait_render(page, 0)
    assert_views(page, want)
    watched.screenshot("report-usage-views")
    watched.assert_clean(out.as_uri())


def test_dashboard_shows_running_sessions_queries_and_cheaper_models(app_db: Path, watched: Watched) -> None:
    want = expected(app_db)
    with TraceStore(app_db, read_only=True) as store, serving(LiveStore(store)) as url:
        page = watched.page
        page.goto(url + "/")
        wait_render(page, 0)
        assert_views(page, want)
        watched.assert_clean(url + "/")


STATES = {False: "running", True: "stale: no export for 5 min, may have stopped"}


def test_report_says_running_as_of_when_it_was_generated_not_as_if_live(app_db: Path, watched: Watched,
                                                                          tmp_path: Path) -> None:
    """The report's "Running now" section judged its calls at the moment it was built ("running", or stale
    after 5 min) and said so as if live: opened a day later it still read "Running now ... running". Its
    heading names the moment the calls were judged at - the report's generation time - and the page says
    the state is that moment's, whatever the clock when the file is opened."""
    out = tmp_path / "report.html"
    cli("report", "--db", str(app_db), "-o", str(out))
    page = watched.page
    page.clock.install(time="2031-01-01T00:00:00Z")  # the file opened years later
    page.goto(out.as_uri())
    wait_render(page, 0)
    generated = page.evaluate("JSON.parse(document.getElementById('otel-llm-data').textContent).meta.generated")
    moment = generated.replace("T", " ")[:19]
    heading = page.locator("#view-running h2").inner_text()
    assert "now" not in heading.lower() and moment in heading, (heading, moment)
    section = page.locator("#view-running").inner_text()
    assert f"generated {moment} UTC" in section and "not now" in section, section
    states = [row["state"] for row in table_rows(page, "running").values()]
    with TraceStore(app_db, read_only=True) as store:  # judged at the generation time, as the API judges it
        then = running(store, now=datetime.fromisoformat(generated).replace(tzinfo=None))
    assert states == [STATES[r.stale] for r in then] and len(states) == 1, states
    watched.assert_clean(out.as_uri())


def test_running_is_judged_at_the_reports_time_not_at_a_range_end_after_it(app_db: Path) -> None:
    """A date range of the data ends at the midnight after its last day - hours after the report is built
    on today's data - and staleness was judged at that end: every process read "stale" although it had
    exported seconds before. It is judged at the earlier of the range's end and the query's moment."""
    from datetime import timedelta

    from otel_llm_analysis import Filters
    from otel_llm_analysis.web.views import Query, running_view

    with TraceStore(app_db, read_only=True) as store:
        last = max(r.as_of for r in running(store))
        built = last + timedelta(seconds=5)
        tomorrow = datetime.combine(built.date() + timedelta(days=1), datetime.min.time())
        view = running_view(store, Query(filters=Filters(until=tomorrow), now=built))
        assert [row["state"] for row in view["rows"]] == ["running"], view
        assert view["as_of"] == built
        later = running_view(store, Query(now=built + timedelta(hours=1)))
        assert [row["state"] for row in later["rows"]] == [STATES[True]], later
