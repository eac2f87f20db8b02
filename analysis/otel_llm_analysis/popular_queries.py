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

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Sequence

from otel_llm import semconv
from otel_llm_analysis._filter_sets import SETS, ask_together, in_set, per_set, project_in_set, set_rows
from otel_llm_analysis._filters import Filters, as_rows, fetch_dicts, time_window

__all__ = ["PopularQuery", "popular_queries", "user_messages"]

#: The user messages ``{where}`` keeps; ``{set_id}`` and ``{sets}`` are empty for one filter set (:func:`_where`), and
#: for several (:func:`_read_sets`) each message is the rows of the sets that keep it
_USER_MESSAGES = f"""
SELECT {{set_id}}e.time, e.attributes['{semconv.EVENT_ATTR_CONTENT}'] AS text, s.conversation_id, s.user_id
FROM span_events e
JOIN spans s ON s.trace_id = e.trace_id AND s.span_id = e.span_id{{sets}}
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


def _messages(where: str) -> str:
    """:data:`_USER_MESSAGES` of one filter set."""
    return _USER_MESSAGES.format(set_id="", sets="", where=where)


def _read_sets(store: Any, filter_sets: Sequence[Filters], query: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Each set's rows of ``query`` (its ``{messages}``: the user messages of every set, with their ``set_id``) for
    ``filter_sets``, in one statement."""
    messages = _USER_MESSAGES.format(set_id="set_id, ", sets=f", {SETS}",
                                     where=f"{in_set('e', window_only=True, column='time')} AND {project_in_set('s')}")
    return per_set(fetch_dicts(store, query.format(messages=messages), {**params, "sets": set_rows(filter_sets)}),
                   len(filter_sets))


def _unmodelled(filters: Filters) -> Filters:
    """What the messages' statements read of ``filters``: all but the model (a message has none)."""
    return replace(filters, model=None)


def popular_queries(store: Any, filters: Filters | None = None, top: int = 20) -> list[PopularQuery]:
    """The ``top`` most frequent user messages (by turns, then most recent), of those that carry text."""
    filters = filters or Filters()
    ask_together(store, filters, lambda asked: _popular_statement(asked, top), lambda sets: _read_sets(
        store, sets, _POPULAR_SETS, top=top), reads=_unmodelled)
    return as_rows(PopularQuery, fetch_dicts(store, *_popular_statement(filters, top)))


#: :func:`popular_queries` of several filter sets, each set's messages ranked apart
_POPULAR_SETS = """
    WITH messages AS ({messages}),
    written AS (
        SELECT *, trim(regexp_replace(lower(text), '\\s+', ' ', 'g')) AS folded FROM messages
        WHERE text IS NOT NULL AND trim(text) <> ''
    ), totals AS (
        SELECT set_id, count(*) AS messages FROM written GROUP BY set_id
    )
    SELECT set_id, query, turns, share, conversations, users, first_seen, last_seen FROM (
        SELECT w.set_id, arg_min(w.text, w.time) AS query, count(*) AS turns, count(*) / any_value(t.messages) AS share,
               count(DISTINCT w.conversation_id) AS conversations, count(DISTINCT w.user_id) AS users,
               min(w.time) AS first_seen, max(w.time) AS last_seen,
               row_number() OVER (PARTITION BY w.set_id
                                  ORDER BY count(*) DESC, max(w.time) DESC, arg_min(w.text, w.time)) AS place
        FROM written w JOIN totals t ON t.set_id = w.set_id GROUP BY w.set_id, w.folded)
    WHERE place <= $top ORDER BY set_id, place
"""


def _popular_statement(filters: Filters, top: int) -> tuple[str, dict[str, Any]]:
    """:func:`popular_queries`' statement of ``filters`` and its parameters."""
    where, params = _where(filters)
    sql = f"""
        WITH messages AS ({_messages(where)}),
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
    return sql, {**params, "top": top}


def user_messages(store: Any, filters: Filters | None = None) -> tuple[int, int]:
    """``(user messages, those without text)``: the second are not counted (content capture off)."""
    filters = filters or Filters()
    ask_together(store, filters, _counted_statement, lambda sets: _read_sets(store, sets, _COUNTED_SETS),
                 reads=_unmodelled)
    rows = fetch_dicts(store, *_counted_statement(filters))
    return int(rows[0]["messages"]), int(rows[0]["untexted"])


def _counted_statement(filters: Filters) -> tuple[str, dict[str, Any]]:
    """:func:`user_messages`' statement of ``filters`` and its parameters."""
    where, params = _where(filters)
    return (f"SELECT count(*) AS messages, count(*) FILTER (WHERE text IS NULL OR trim(text) = '') "
            f"AS untexted FROM ({_messages(where)})", params)


#: :func:`user_messages` of several filter sets: a row for each set, with messages or none
_COUNTED_SETS = f"""
    WITH messages AS ({{messages}})
    SELECT sets.set_id, count(m.set_id) AS messages,
           count(m.set_id) FILTER (WHERE m.text IS NULL OR trim(m.text) = '') AS untexted
    FROM {SETS} sets LEFT JOIN messages m ON m.set_id = sets.set_id
    GROUP BY sets.set_id ORDER BY sets.set_id
"""
