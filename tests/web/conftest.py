"""Fixtures for the report and dashboard tests: real Chromium, real files, real DuckDB, a real server process.

The browser is Debian's ``chromium`` driven by Playwright (no browser download:
``scripts/test.sh`` installs the package). A missing browser fails these tests;
nothing is skipped. Every page a test opens records its console errors and the
URLs it requested, and screenshots go to ``tests/artifacts/web/`` (git-ignored)
to be looked at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from otel_llm_analysis import Budget, TraceStore, budget_status
from tests.support.ports import free_port
from tests.support.synthetic import generate

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
OTEL_LLM = str(Path(sys.executable).parent / "otel-llm")
#: the synthetic data's newest day is 2026-11-19; its budgets are judged for November as of then
MONTH, AS_OF = "2026-11", "2026-11-19"


def cli(*args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``otel-llm ARGS`` in a real process."""
    result = subprocess.run([OTEL_LLM, *args], capture_output=True, text=True, timeout=600, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"otel-llm {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium through Playwright's sync API, for one test file.

    Per file, not per session: from ``sync_playwright().start()`` to ``stop()``
    Playwright keeps its asyncio loop marked running on this thread, so an
    ``asyncio.run()`` in a later test on the same thread (a pytest-xdist worker
    runs files of every directory) would fail with "cannot be called from a
    running event loop".
    """
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run `apt-get install chromium` "
                    "(bash scripts/test.sh installs it)")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page with what it logged and requested."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self, *allowed_prefixes: str) -> None:
        """No console error, and every request went to one of ``allowed_prefixes`` (or blob:/data:)."""
        assert self.errors == [], f"console errors: {self.errors}"
        outside = [u for u in self.requests if not u.startswith((*allowed_prefixes, "blob:", "data:"))]
        assert outside == [], f"requests outside {allowed_prefixes}: {outside}"

    def screenshot(self, name: str, **options: Any) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True, **options)
        assert path.stat().st_size > 10_000, f"{path} looks empty"
        return path


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    """A fresh browser context (laptop-sized viewport) and page, recording errors and requests."""
    context = browser.new_context(viewport={"width": 1366, "height": 850}, accept_downloads=True)
    page = context.new_page()
    seen = Watched(page)
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    try:
        yield seen
    finally:
        context.close()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~150 chat turns over 60 days (to 2026-11-20) in 3 projects and 7 models, with logs; seed 7.

    Half the turns end with an agent step (agents, tools, retried tries), so the tools, agents and retries
    tables have rows.
    """
    out = tmp_path_factory.mktemp("web-data")
    generate(out, seed=7, traces=150, spans_per_line=32, agents="otel_llm")
    return out


@pytest.fixture(scope="session")
def db(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data ingested into a DuckDB file (closed: reports and tests open it read-only)."""
    path = tmp_path_factory.mktemp("web-db") / "otel-llm.duckdb"
    with TraceStore(path) as store:
        store.ingest([data_dir])
    return path


@pytest.fixture(scope="session")
def api(db: Path) -> Iterator[TraceStore]:
    """The analysis API's store over the same database (read-only, beside the report's)."""
    with TraceStore(db, read_only=True) as store:
        yield store


@pytest.fixture(scope="session")
def budgets_file(api: TraceStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three overall budgets sized from the month's real spend: 50 %, 80 % and 95 % used."""
    spent = budget_status(api, [Budget(1.0)], MONTH)[0].spent
    assert spent > 0
    budgets = [{"name": name, "monthly": spent / share}
               for name, share in (("ok", 0.5), ("warning", 0.8), ("critical", 0.95))]
    path = tmp_path_factory.mktemp("web-budgets") / "budgets.json"
    path.write_text(json.dumps(budgets))
    return path


@pytest.fixture(scope="session")
def report(db: Path, budgets_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``otel-llm report`` over the whole data, with the three budgets."""
    out = tmp_path_factory.mktemp("web-report") / "report.html"
    cli("report", "--db", str(db), "-o", str(out), "--budgets", str(budgets_file), "--max-views", "100")
    return out


@dataclass
class Server:
    """A running ``otel-llm serve`` process."""

    process: subprocess.Popen[bytes]
    url: str
    watch: Path
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def start_server(tmp: Path, files_from: Path, *extra: str) -> Server:
    """``otel-llm serve --watch`` on a free loopback port over a copy of ``files_from``; waits until it answers."""
    watch = tmp / "watch"
    shutil.copytree(files_from, watch)
    port = free_port()
    log = tmp / "serve.log"
    process = subprocess.Popen(
        [OTEL_LLM, "serve", "--db", str(tmp / "live.duckdb"), "--watch", str(watch), "--port", str(port),
         "--interval", "0.5", *extra],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    server = Server(process, f"http://127.0.0.1:{port}", watch, log)
    try:
        wait_until_serving(process, server.url)
    except AssertionError as exc:
        server.stop()
        raise AssertionError(f"{exc}\n{log.read_text()}") from None
    return server


def wait_until_serving(process: subprocess.Popen[bytes], url: str, seconds: float = 120) -> None:
    """Return once ``url``/api/status answers and a watcher has ingested its backlog (the page answers
    meanwhile, with the data as it was before the ingest); fail if the process exits or the time runs out."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"otel-llm serve exited {process.returncode}")
        try:
            answer = httpx.get(f"{url}/api/status", timeout=5)
            if answer.status_code == 200 and (not answer.json()["watching"] or answer.json()["rounds"] >= 1):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"otel-llm serve did not answer within {seconds:.0f} s")


@pytest.fixture(scope="module")
def server(data_dir: Path, budgets_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dashboard over the session data, with the three budgets; not written to after start."""
    running = start_server(tmp_path_factory.mktemp("web-live"), data_dir, "--budgets", str(budgets_file))
    try:
        yield running
    finally:
        running.stop()


def interrupted_store(tmp: Path, where: str) -> Path:
    """A store whose ingest stopped at ``where`` (a step of ``TraceStore.ingest``) after committing its rows."""
    import otel_llm_analysis.store as store_module
    from otel_llm_analysis import TraceStore
    from tests.support.synthetic import generate

    data = generate(tmp / "data", seed=9, traces=20, days=2, peer_spans=True)
    db = tmp / "store.duckdb"

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with TraceStore(db) as store, pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, where, stop)
        with pytest.raises(KeyboardInterrupt):
            store.ingest([str(p) for p in data.files])
    return db


@contextmanager
def serving(live: Any, **options: Any) -> Iterator[str]:
    """The dashboard app over ``live`` (a ``LiveStore``) on a free loopback port, served by uvicorn in a thread
    of this process (so a test can hold the store's ingest); yields its URL."""
    import uvicorn

    from otel_llm_analysis.web.server import create_app, listen
    from otel_llm_analysis.web.views import Query

    sock = listen("127.0.0.1", 0)
    app = create_app(live, options.pop("query", Query()), refresh_ms=options.pop("refresh_ms", 300), **options)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
