"""What the kept tables an analysis statement read were filled from (``_kept_views``), for assertions.

An analysis reads the agents', tools', retries' and calls' views as tables made once per version of the
spans; what it reads of the span table is in the statements that filled them, which the store's
connection lists with the rest (``connection.statements``).
"""

from __future__ import annotations

import re

from otel_llm_analysis.clickhouse._kept_views import PREFIX
from otel_llm_analysis.clickhouse.store import ClickHouseStore

_KEPT = re.compile(rf"\b{PREFIX}[0-9a-f]{{24}}\b")


def kept_reads(statement: str) -> set[str]:
    """The kept tables ``statement`` reads."""
    return set(_KEPT.findall(statement))


def fills(store: ClickHouseStore, statement: str) -> list[str]:
    """The SELECTs that filled the kept tables ``statement`` reads, and those their SELECTs read, in turn."""
    created = {}
    for ran in store.connection.statements:
        found = re.match(rf"CREATE TABLE `[^`]+`\.`({PREFIX}[0-9a-f]{{24}})_[0-9a-f]+` .*?' AS (SELECT .*)\Z", ran, re.S)
        if found:
            created[found.group(1)] = found.group(2)
    selects, todo, seen = [], sorted(kept_reads(statement)), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in created, f"{name} was not made by this store"
        selects.append(created[name])
        todo.extend(sorted(kept_reads(created[name])))
    return selects
