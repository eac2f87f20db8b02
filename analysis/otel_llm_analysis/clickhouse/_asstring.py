"""Attribute values as the collector's ClickHouse exporter stores them: pdata's ``Value.AsString()``.

The exporter writes every attribute map as ``Map(String, String)``, each value
rendered by ``pcommon.Value.AsString`` (pdata v1.67, ``pcommon/value.go``):

* strings as they are, ints in decimal, bools ``true``/``false``;
* doubles as an ES6 number (``float64AsString``): the shortest round-trip
  digits, plain notation from 1e-6 up to 1e21, else ``1e-7`` / ``1e+21``;
  ``NaN``, ``Infinity``, ``-Infinity``;
* bytes as standard base64;
* arrays and maps as compact JSON of their raw values (``AsRaw``, encoded
  without HTML escaping; map keys sorted, as Go's encoder sorts them; a NaN
  or infinity inside makes Go's encoder fail, and the text is then empty);
* an empty value as ``""``.

``otel-llm load`` renders file dumps with this, so history loaded from files
and data the exporter delivered live read the same in one database. The input
is an OTLP-JSON ``AnyValue`` object as the files hold it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from decimal import Decimal
from typing import Any

__all__ = ["as_string", "es6_number"]


class _Unencodable(Exception):
    """A NaN or an infinity inside an array or map: Go's JSON encoder refuses the whole value."""


def es6_number(value: float) -> str:
    """``float64AsString`` / Go's JSON float encoding: ES6 number-to-string."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    # Python's repr is the shortest round-trip form, as Go's precision -1 is: its digits and exponent.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # value = 0.<digits> x 10^point
    sign = "-" if value < 0 else ""
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        power = point - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def as_string(value: Any) -> str:
    """``AsString()`` of one OTLP-JSON ``AnyValue`` (``{"stringValue": "x"}``, ``{"intValue": "42"}``, …)."""
    if not isinstance(value, dict) or not value:
        return ""
    if "stringValue" in value:
        text = value["stringValue"]
        return text if isinstance(text, str) else ""
    if "boolValue" in value:
        return "true" if value["boolValue"] is True else "false"
    if "intValue" in value:
        return str(_int(value["intValue"]))
    if "doubleValue" in value:
        return es6_number(_double(value["doubleValue"]))
    if "bytesValue" in value:
        return base64.b64encode(_bytes(value["bytesValue"])).decode("ascii")
    try:
        if "arrayValue" in value:
            return _json(_raw(value))
        if "kvlistValue" in value:
            return _json(_raw(value))
    except _Unencodable:
        return ""
    return ""


def _int(raw: Any) -> int:
    """OTLP JSON writes int64 as a string or a number."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


def _double(raw: Any) -> float:
    """A JSON number, or proto3 JSON's "NaN" / "Infinity" / "-Infinity" strings."""
    try:
        return float(raw)
    except (TypeError, ValueError):
        return 0.0


def _bytes(raw: Any) -> bytes:
    if not isinstance(raw, str):
        return b""
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return b""


def _raw(value: Any) -> Any:
    """``Value.AsRaw()``: the Python value Go's JSON encoder would see."""
    if not isinstance(value, dict) or not value:
        return None
    if "stringValue" in value:
        return value["stringValue"] if isinstance(value["stringValue"], str) else ""
    if "boolValue" in value:
        return value["boolValue"] is True
    if "intValue" in value:
        return _int(value["intValue"])
    if "doubleValue" in value:
        number = _double(value["doubleValue"])
        if math.isnan(number) or math.isinf(number):
            raise _Unencodable
        return _GoFloat(number)
    if "bytesValue" in value:
        return base64.b64encode(_bytes(value["bytesValue"])).decode("ascii")  # []byte marshals as base64
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return [_raw(item) for item in items]
    if "kvlistValue" in value:
        entries = (value["kvlistValue"] or {}).get("values") or []
        out: dict[str, Any] = {}
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                out[entry["key"]] = _raw(entry.get("value"))
        return out
    return None


class _GoFloat(float):
    """A double that Go encodes in ES6 form (``1`` for 1.0, ``1e-7``), not Python's ``1.0``."""


def _json(raw: Any) -> str:
    """Go's ``encoding/json`` with HTML escaping off: compact, map keys sorted."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, _GoFloat):
        return es6_number(raw)
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str):
        return _go_string(raw)
    if isinstance(raw, list):
        return "[" + ",".join(_json(item) for item in raw) + "]"
    return "{" + ",".join(f"{_go_string(k)}:{_json(raw[k])}" for k in sorted(raw)) + "}"


def _go_string(text: str) -> str:
    """A JSON string as Go writes it: \\b \\f \\n \\r \\t, other control bytes as \\u00xx, and
    U+2028 / U+2029 escaped (Python's encoder leaves those two as they are)."""
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
