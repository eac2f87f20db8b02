"""Caches of bounded size keyed by what an app makes: model names, response classes.

Why: a cache keyed by model name (``PriceBook``'s) gains an entry per distinct
name, and apps put ids in model names (a fine-tune per customer, a deployment
per request); a plain dict grows for the life of the process.

How: two generations of plain dicts. New entries go to the young one; when it
holds ``size`` entries it becomes the old one (the previous old one is let go)
and a new young one starts. A hit in the old generation is copied to the young
one, so an entry in use survives every turn: an LRU's keeping without an LRU's
bookkeeping on every hit. At most ``2 * size`` entries are held.

Thread-safe without a lock: a read is one or two ``dict.get``; two threads
turning the generations at once lose entries (resolved again by the caller),
never map a key to another key's value.

Per-class caches (what a response class declares, whether a type is a stream)
stay plain dicts, read on every decorated call at a C lookup's cost; they are
filled through :func:`remember`, which starts one again when it holds
:data:`CLASSES_REMEMBERED` classes: an app making a class per call
(``pydantic.create_model``) would otherwise have each kept alive for good.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["CLASSES_REMEMBERED", "CLASS_NAMES_REMEMBERED", "BoundedCache", "remember"]

K = TypeVar("K")
V = TypeVar("V")
_ABSENT = object()
# Classes a per-class cache holds before it starts again (an app's response classes are a handful).
CLASSES_REMEMBERED = 256
# (class, attribute name) pairs: up to about twenty names are looked up per class, so this
# holds fewer classes than CLASSES_REMEMBERED (and never more).
CLASS_NAMES_REMEMBERED = 8 * CLASSES_REMEMBERED


def remember(cache: dict[K, V], key: K, value: V, limit: int = CLASSES_REMEMBERED) -> V:
    """``cache[key] = value``, ``cache`` emptied first when it holds ``limit`` entries; returns ``value``.

    Emptied, not trimmed: the entries are recomputed on their next use (once per
    class), and a plain dict keeps its readers' lookups at C speed.
    """
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


class BoundedCache(Generic[K, V]):
    """At most ``2 * size`` entries; those read since the last turn of generations are kept."""

    __slots__ = ("_size", "_young", "_old")

    def __init__(self, size: int) -> None:
        self._size = size
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}

    def get(self, key: K, default: object = None) -> V | object:
        """The value of ``key``, else ``default``; a hit in the old generation moves to the young one."""
        value = self._young.get(key, _ABSENT)
        if value is not _ABSENT:
            return value
        value = self._old.get(key, _ABSENT)
        if value is _ABSENT:
            return default
        self[key] = value  # type: ignore[assignment]
        return value

    def __getitem__(self, key: K) -> V:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def __setitem__(self, key: K, value: V) -> None:
        young = self._young
        if len(young) >= self._size:  # turn: the young generation becomes the old one
            young = {}
            self._old, self._young = self._young, young
        young[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._young or key in self._old

    def __len__(self) -> int:
        """Entries held (an entry moved to the young generation counts in both until the next turn)."""
        return len(self._young) + len(self._old)
