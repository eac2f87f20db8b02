"""What of an OTLP attribute list no store keeps as sent, said in words. Pure Python, no engine.

Why: a span's attribute list becomes a map (DuckDB's ``attr_keys``/``attr_values``,
ClickHouse's ``SpanAttributes``), and a map cannot hold an entry that is not a
key/value object, one without a key (absent or null), or a key given twice (the
last value is kept, as a Go map keeps it); nor a value of two members or more
(``{"stringValue": "a", "intValue": "3"}``: OTLP's AnyValue is one of them), of
which DuckDB keeps the first set in :data:`VALUE_MEMBERS`' order, whatever the
order sent. Both engines resolve these as they
build the map; the ingest names each span where it happened with this module's
reason, so what was left out is said, not lost in silence. Only a span whose
entries were found not kept (DuckDB: ``span_rows.attr_entries_dropped``; ClickHouse:
fewer map entries than list items) is parsed again here: clean data never is.

A key that is not a string (``5``) is kept as its JSON text (``"5"``), as
DuckDB's ``json_extract_string`` reads it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from otel_llm_analysis._otlp import ENCODER, GENERIC_DECODER

__all__ = ["VALUE_MEMBERS", "entries_not_kept", "key_text"]

#: An AnyValue's members, in the order a value with several is read: the first set (not null) is kept.
VALUE_MEMBERS = ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue")

#: The most entries one reason names; the rest are counted.
_NAMED = 5


def key_text(key: Any) -> str | None:
    """An entry's key as the stores keep it: a string as it is, other JSON as its text; None for no key."""
    if key is None or isinstance(key, str):
        return key
    return ENCODER.encode(key).decode("utf-8", "replace")


def entries_not_kept(raw: bytes | str) -> tuple[int, str]:
    """(how many entries of the attribute list ``raw`` (OTLP JSON) are not kept as sent, the reason naming them;
    ``(0, "")`` when every entry is kept or ``raw`` is no JSON array (reported where it is staged)).

    Entries are named by their place in the list (``attributes[3]``, as a JSON path counts); a repeated key
    counts its earlier entries, whose values the last one replaces; a keyed entry whose value sets several
    members counts too (DuckDB's ``_statements.kv_columns`` counts the same).
    """
    try:
        items = GENERIC_DECODER.decode(raw)
    except msgspec.DecodeError:
        return 0, ""
    if not isinstance(items, list):
        return 0, ""
    said: list[str] = []
    places: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            preview = ENCODER.encode(item)[:40].decode("utf-8", "replace")
            said.append(f"attributes[{i}] is not a key/value object ({preview})")
        elif (key := key_text(item.get("key"))) is None:
            said.append(f"attributes[{i}] has no key")
        else:
            places.setdefault(key, []).append(i)
            if members := _members_set(item.get("value")):
                kept = min(members, key=VALUE_MEMBERS.index)
                said.append(f"attributes[{i}] (key {key!r}) has {len(members)} values ({', '.join(members)}), "
                            f"its {kept} kept")
    dropped = len(said)  # so far: one reason per entry
    for key, where in places.items():
        if len(where) > 1:
            dropped += len(where) - 1
            listed = ", ".join([f"attributes[{where[0]}]", *(f"[{i}]" for i in where[1:])])
            said.append(f"key {key!r} given {len(where)} times ({listed}), its last value kept")
    if not dropped:
        return 0, ""
    more = f"; and {len(said) - _NAMED} more" if len(said) > _NAMED else ""
    entries = "entry" if dropped == 1 else "entries"
    return dropped, f"{dropped} attribute {entries} not kept as sent: {'; '.join(said[:_NAMED])}{more}"


def _members_set(value: Any) -> list[str]:
    """The members an AnyValue sets (not null), in the order sent, when it sets more than one; else empty."""
    if not isinstance(value, dict):
        return []
    members = [name for name, member in value.items() if name in VALUE_MEMBERS and member is not None]
    return members if len(members) > 1 else []
