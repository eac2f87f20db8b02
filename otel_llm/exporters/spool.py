"""Durable delivery for OTLP exporters (pass-through placeholder)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

E = TypeVar("E")


def spooled(inner: E, signal: str, spool_dir: Path, max_bytes: int) -> E:
    """Return an exporter of the same kind as ``inner`` (placeholder: ``inner``)."""
    return inner
