"""Opening a ClickHouse store makes its views only when their definition changed.

Every command opens the store, and ClickHouse analyses a view as it is made: the
agents' whole-store views took over a second each, so every command paid seconds
before its first query. A view holds a digest of its statement in its comment; an
open makes those that differ (an upgrade, another price book, a table that appeared)
and leaves the rest.
"""

from __future__ import annotations

from pathlib import Path

from otel_llm_analysis import compare
from otel_llm_analysis.clickhouse import load
from otel_llm_analysis.clickhouse.store import ClickHouseStore
from tests.support.clickhouse_http import ChdbHttpServer
from tests.support.synthetic import generate


def _views_made(server: ChdbHttpServer, since: int) -> list[str]:
    return [s for s in server.statements[since:] if "CREATE OR REPLACE VIEW" in s]


def test_a_second_open_makes_no_view_and_answers_the_same(
        clickhouse_http: ChdbHttpServer, clickhouse_url: str, tmp_path: Path) -> None:
    generate(tmp_path / "files", traces=4, agents="otel_llm", seed=2)
    load([tmp_path / "files"], clickhouse_url)
    ran = len(clickhouse_http.statements)
    with ClickHouseStore(clickhouse_url) as ch:
        first = compare(ch, "model")
    assert len(_views_made(clickhouse_http, ran)) > 20
    ran = len(clickhouse_http.statements)
    with ClickHouseStore(clickhouse_url) as ch:
        assert compare(ch, "model") == first
    assert _views_made(clickhouse_http, ran) == []


def test_a_view_of_another_definition_is_made_again(
        clickhouse_http: ChdbHttpServer, clickhouse_url: str, database: str, tmp_path: Path) -> None:
    """A view as an earlier release made it (another text, no digest): the next open replaces it, only it."""
    generate(tmp_path / "files", traces=4, agents="otel_llm", seed=2)
    load([tmp_path / "files"], clickhouse_url)
    with ClickHouseStore(clickhouse_url) as ch:
        first = compare(ch, "model")
        ch.connection.client.command(f"CREATE OR REPLACE VIEW `{database}`.turns AS SELECT 1 AS trace_id")
    ran = len(clickhouse_http.statements)
    with ClickHouseStore(clickhouse_url) as ch:
        assert compare(ch, "model") == first
    made = _views_made(clickhouse_http, ran)
    assert len(made) == 1 and f"`{database}`.turns AS" in made[0]
