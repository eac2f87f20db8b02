"""Attribute values as the ClickHouse exporter stores them: pdata's ``Value.AsString()`` (pdata v1.67).

The expected texts are what Go writes for these values: ``float64AsString``
(ES6 number form: ``strconv.AppendFloat(f, 'f' or 'e', -1, 64)``, exponent
unpadded) and ``encoding/json`` without HTML escaping for arrays and maps.
``test_load_matches_exporter.py`` checks the same rendering against the real
exporter's rows end to end.
"""

from __future__ import annotations

import math

import pytest

from otel_llm_analysis.clickhouse._asstring import as_string, es6_number


@pytest.mark.parametrize(("value", "text"), [
    (1.0, "1"), (-2.5, "-2.5"), (0.1, "0.1"), (0.00000585, "0.00000585"), (1e-6, "0.000001"),
    (1e-7, "1e-7"), (1.5e-10, "1.5e-10"), (123456789.0, "123456789"), (1e20, "100000000000000000000"),
    (1e21, "1e+21"), (1.2345e22, "1.2345e+22"), (0.0006000000000000001, "0.0006000000000000001"),
    (0.0, "0"), (-0.0, "-0"), (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
])
def test_doubles_in_es6_form(value: float, text: str) -> None:
    assert es6_number(value) == text


@pytest.mark.parametrize(("any_value", "text"), [
    ({"stringValue": "gpt-4o"}, "gpt-4o"),
    ({"stringValue": ""}, ""),
    ({"intValue": "42"}, "42"),
    ({"intValue": -7}, "-7"),
    ({"boolValue": True}, "true"),
    ({"boolValue": False}, "false"),
    ({"doubleValue": 0.7}, "0.7"),
    ({"doubleValue": 3}, "3"),
    ({"doubleValue": "NaN"}, "NaN"),  # proto3 JSON writes non-finite doubles as strings
    ({"bytesValue": "aGk="}, "aGk="),
    ({"arrayValue": {"values": [{"stringValue": "stop"}, {"stringValue": "length"}]}}, '["stop","length"]'),
    ({"arrayValue": {"values": [{"intValue": "1"}, {"doubleValue": 1.0}, {"boolValue": True}, {}]}},
     "[1,1,true,null]"),
    ({"arrayValue": {}}, "[]"),
    ({"kvlistValue": {"values": [{"key": "b", "value": {"stringValue": "<&>"}},
                                 {"key": "a", "value": {"arrayValue": {"values": [{"doubleValue": 1e-7}]}}}]}},
     '{"a":[1e-7],"b":"<&>"}'),  # keys sorted, no HTML escaping, numbers in ES6 form
    ({"stringValue": "line\nbreak \u2028"}, "line\nbreak \u2028"),  # a string itself is not JSON-encoded
    ({"arrayValue": {"values": [{"stringValue": "line\nbreak \u2028 \x01"}]}}, '["line\\nbreak \\u2028 \\u0001"]'),
    ({"arrayValue": {"values": [{"doubleValue": "Infinity"}]}}, ""),  # Go's encoder refuses: empty text
    ({}, ""),
    (None, ""),
])
def test_any_values(any_value: object, text: str) -> None:
    assert as_string(any_value) == text
