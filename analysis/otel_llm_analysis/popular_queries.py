"""The users' most frequent messages to the chat: what the replaced systems called popular queries.

Why from ``chat.message`` events: ``@otel_llm.chat`` records the user's message of
each turn as a ``chat.message`` span event (``otel_llm.message.role = user``),
its text in ``otel_llm.message.content`` **only** when the app opted in to
content capture (``configure(capture_content=True)``), after the app's
``redact`` and truncation. Without capture there is no text to count: the
events still carry the role and length, so the result says how many user
messages carry no text instead of showing a part as the whole. Nothing here
reads text the SDK did not already store.

Messages are grouped by their text with case folded and runs of whitespace
made one space, trimmed ("What is X?" and " what  is x? " are one query); each
group shows the first spelling seen, its turns, the conversations and users
that sent it, and when it was first and last sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from otel_llm import semconv
from otel_llm_analysis._filters import Filters, as_rows, fetch_dicts, time_window

__all__ = ["PopularQuery", "popular_queries", "user_messages"]

_USER_MESSAGES = f"""
SELECT e.time, e.attributes['{semconv.EVENT_ATTR_CONTENT}'] AS text, s.conversation_id, s.user_id
FROM span_events e
JOIN spans s ON s.trace_id = e.trace_id AND s.span_id = e.span_id
WHERE e.name = '{semconv.EVENT_CHAT_MESSAGE}' AND e.attributes['{semconv.EVENT_ATTR_ROLE}'] = 'user' AND {{where}}
"""


@dataclass(slots=True)
class PopularQuery:
    """One user message, as often as it was sent."""

    query: str
    turns: int
    #: its share of the user messages that carry text
    share: float
    conversations: int
    users: int
    first_seen: datetime
    last_seen: datetime


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    clauses, params = time_window("e.time", filters.since, filters.until)
    if filters.project is not None:
        clauses.append("s.project = $project")
        params["project"] = filters.project
    return " AND ".join(["TRUE", *clauses]), params


def popular_queries(store: Any, filters: Filters | None = None, top: int = 20) -> list[PopularQuery]:
    """The ``top`` most frequent user messages (by turns, then most recent), of those that carry text."""
    where, params = _where(filters or Filters())
    sql = f"""
        WITH messages AS ({_USER_MESSAGES.format(where=where)}),
        written AS (
            SELECT *, trim(regexp_replace(lower(text), '\\s+', ' ', 'g')) AS folded FROM messages
            WHERE text IS NOT NULL AND trim(text) <> ''
        )
        SELECT arg_min(text, time) AS query, count(*) AS turns,
               count(*) / (SELECT count(*) FROM written) AS share,
               count(DISTINCT conversation_id) AS conversations, count(DISTINCT user_id) AS users,
               min(time) AS first_seen, max(time) AS last_seen
        FROM written GROUP BY folded
        ORDER BY turns DESC, last_seen DESC, query
        LIMIT $top
    """
    return as_rows(PopularQuery, fetch_dicts(store, sql, {**params, "top": top}))


def user_messages(store: Any, filters: Filters | None = None) -> tuple[int, int]:
    """``(user messages, those without text)``: the second are not counted (content capture off)."""
    where, params = _where(filters or Filters())
    rows = fetch_dicts(store, f"SELECT count(*) AS messages, count(*) FILTER (WHERE text IS NULL OR trim(text) = '') "
                              f"AS untexted FROM ({_USER_MESSAGES.format(where=where)})", params)
    return int(rows[0]["messages"]), int(rows[0]["untexted"])
