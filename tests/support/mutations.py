"""A seeded mutator of OTLP-JSON lines: the bad input ingest must survive.

Why these operators: they are what reaches an ingest in practice - a line cut
by a crash or a full disk (truncation), storage or transfer corruption (bit
flips, stray bytes), other producers' and hand-written files (a value of the
wrong type at any level, numbers no 64-bit integer or double holds, NaN,
repeated keys) and hostile input (nesting past any parser's depth limit).
Structured mutations pick a random place in the parsed line, so every level
of the request (resource, scope, span, event, link, point, bucket, record,
attribute) is reached. The same seed always gives the same mutants.
"""

from __future__ import annotations

import json
import random
from typing import Any, Callable, Iterator

__all__ = ["OPERATORS", "mutate", "mutants"]

#: Replacement values of the wrong type, the wrong size or no valid JSON at all.
_ODD_VALUES: tuple[Any, ...] = (
    0, -1, 7, 2**31, 2**63, 2**64 + 5, -(2**70), 10**30, 1.5, -0.0, 1e308, "1e400", "-1e400", "NaN", "Infinity",
    True, False, None, "", "text", "12", "ZZZZ", "\u2028", [], [1, 2], ["a"], {}, {"x": 1}, {"stringValue": 5},
    {"intValue": "x"}, {"values": 3},
)
#: Text written where a JSON value belongs; not all of it is JSON.
_RAW_VALUES = ("NaN", "Infinity", "-Infinity", "1e400", "123456789012345678901234567890", "-0", "1E-400", "01",
               "nul", "tru", '"\\ud800"', '"\\u0000"', '"\xff"')
_DEEP = "\x00deep\x00"
_DUP = "\x00dup\x00"
_RAW = "\x00raw\x00"


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) of a parsed JSON document, the root included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, (*path, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


def _dumps(doc: Any, raw: dict[str, str]) -> bytes:
    """JSON text of ``doc`` (big ints and NaN as Python writes them), placeholders replaced."""
    text = json.dumps(doc, ensure_ascii=False, allow_nan=True)
    for token, replacement in raw.items():
        text = text.replace(json.dumps(token), replacement)
    return text.encode("utf-8", "surrogatepass")


def _structured(change: Callable[[random.Random, Any, tuple[Any, ...], Any, dict[str, str]], Any]
                ) -> Callable[[random.Random, bytes], bytes]:
    def operator(rng: random.Random, line: bytes) -> bytes:
        doc = json.loads(line)
        places = list(_places(doc))
        path, value = places[rng.randrange(len(places))]
        raw: dict[str, str] = {}
        return _dumps(change(rng, doc, path, value, raw), raw)
    operator.__name__ = change.__name__
    return operator


@_structured
def swap_type(rng: random.Random, doc: Any, path: tuple[Any, ...], value: Any, raw: dict[str, str]) -> Any:
    return _set(doc, path, rng.choice(_ODD_VALUES))


@_structured
def raw_number(rng: random.Random, doc: Any, path: tuple[Any, ...], value: Any, raw: dict[str, str]) -> Any:
    """A number no parser agrees on (huge, NaN, out of double range) where any value was."""
    raw[_RAW] = rng.choice(_RAW_VALUES)
    return _set(doc, path, _RAW)


@_structured
def deep_nesting(rng: random.Random, doc: Any, path: tuple[Any, ...], value: Any, raw: dict[str, str]) -> Any:
    depth = rng.choice((100, 999, 1_000, 1_001, 5_000, 50_000))
    opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
    raw[_DEEP] = opener * depth + json.dumps(value) + closer * depth
    return _set(doc, path, _DEEP)


@_structured
def duplicate_key(rng: random.Random, doc: Any, path: tuple[Any, ...], value: Any, raw: dict[str, str]) -> Any:
    """A key written twice in one object: the second copy holds another value."""
    objects = [(p, v) for p, v in _places(doc) if isinstance(v, dict) and v]
    if not objects:
        return doc
    obj_path, obj = objects[rng.randrange(len(objects))]
    key = rng.choice(list(obj))
    obj[_DUP] = rng.choice(_ODD_VALUES)
    raw[_DUP] = json.dumps(key)
    return doc


@_structured
def drop_key(rng: random.Random, doc: Any, path: tuple[Any, ...], value: Any, raw: dict[str, str]) -> Any:
    if path and isinstance(path[-1], str):
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
    return doc


def truncate(rng: random.Random, line: bytes) -> bytes:
    return line[:rng.randrange(len(line))]


def flip_bits(rng: random.Random, line: bytes) -> bytes:
    data = bytearray(line)
    for _ in range(rng.choice((1, 1, 2, 8))):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data).replace(b"\n", b" ")  # a newline would only split the line in two


def flip_in_key(rng: random.Random, line: bytes) -> bytes:
    """One bit of one key's name: the field becomes unknown (and a required one goes missing)."""
    keys = [i for i in range(1, len(line) - 1) if line[i - 1:i] == b'"' and line[i:i + 1].isalpha()]
    data = bytearray(line)
    i = rng.choice(keys) if keys else rng.randrange(len(data))
    data[i] ^= 1 << rng.randrange(5)
    return bytes(data).replace(b"\n", b" ")


def splice(rng: random.Random, line: bytes) -> bytes:
    """Bytes cut out of or dropped into the middle of the line (invalid UTF-8 included)."""
    i = rng.randrange(len(line))
    if rng.random() < 0.5:
        return line[:i] + line[i + rng.randrange(1, 64):]
    return line[:i] + rng.choice((b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"}", b"]", b",", b'"', b"\\")) + line[i:]


OPERATORS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    swap_type, swap_type, swap_type, raw_number, deep_nesting, duplicate_key, drop_key, truncate, flip_bits,
    flip_in_key, splice,
)


def mutate(rng: random.Random, line: bytes) -> tuple[str, bytes]:
    """One mutant of ``line`` (one operator, sometimes two): (operator names, bytes without a newline)."""
    names = []
    for _ in range(1 if rng.random() < 0.8 else 2):
        operator = rng.choice(OPERATORS)
        try:
            line = operator(rng, line)
        except (ValueError, RecursionError):  # a previous operator left text json cannot parse
            line = truncate(rng, line) if line else line
        names.append(operator.__name__)
    return "+".join(names), line.replace(b"\n", b" ")


def mutants(seed: int, lines: list[bytes], count: int) -> Iterator[tuple[int, str, bytes, bytes]]:
    """``count`` cases: (index, operators, the seed line, its mutant)."""
    rng = random.Random(seed)
    for i in range(count):
        original = lines[rng.randrange(len(lines))]
        name, mutant = mutate(rng, original)
        yield i, name, original, mutant
