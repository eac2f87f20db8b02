"""``otel-llm serve`` over a store file removed or replaced while it runs: the page says its figures are of
the file it opened, never shows them as the store's in silence; and the server never writes the store."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from otel_llm_analysis import TraceStore
from tests.support.synthetic import generate
from tests.web._pages import wait_render
from tests.web.conftest import OTEL_LLM, Server, Watched, free_port, wait_until_serving


def _serve(db: Path, tmp: Path) -> Server:
    port = free_port()
    log = tmp / "serve.log"
    process = subprocess.Popen([OTEL_LLM, "serve", "--db", str(db), "--port", str(port)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", tmp, log)
    wait_until_serving(process, server.url)
    return server


def _said(server: Server, seconds: float = 30) -> str:
    """What /api/status says of the store file, once it says something."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        said = httpx.get(f"{server.url}/api/status", timeout=10).json().get("store_file")
        if said:
            return said
        time.sleep(0.2)
    raise AssertionError("the status never said the store file changed")


def test_a_store_replaced_under_the_dashboard_is_said_on_the_page(watched: Watched, db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store.duckdb"
    shutil.copyfile(db, copy)
    server = _serve(copy, tmp_path)
    try:
        assert httpx.get(f"{server.url}/api/status", timeout=10).json()["store_file"] is None
        page = watched.page
        page.goto(server.url + "/")
        wait_render(page, 0)
        assert page.locator("#store-note").is_hidden()
        copy.unlink()  # rebuilt: another store, with other data, at the same path
        with TraceStore(copy) as other:
            other.ingest([str(f) for f in generate(tmp_path / "other", seed=3, traces=5, days=1).files])
        said = _said(server)
        assert str(copy) in said and "replaced" in said and "Restart otel-llm serve" in said, said
        note = page.locator("#store-note")
        note.wait_for(state="visible", timeout=15_000)
        assert "replaced" in note.inner_text() and str(copy) in note.inner_text()
        copy.unlink()
        assert "deleted" in _said_changed(server, said)
        watched.assert_clean(server.url)
    finally:
        server.stop()


def _said_changed(server: Server, before: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        said = _said(server)
        if said != before:
            return said
        time.sleep(0.2)
    raise AssertionError(f"the status kept saying {before!r}")


def test_the_dashboard_never_writes_the_store_it_serves(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store.duckdb"
    shutil.copyfile(db, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns
    server = _serve(copy, tmp_path)
    try:
        for path in ("/", "/api/summary", "/api/models?since=2026-11-01", "/api/export/models.csv", "/api/logs"):
            assert httpx.get(server.url + path, timeout=60).status_code == 200, path
    finally:
        server.stop()
    assert (hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serve.log", "store.duckdb"]  # no WAL left beside it
