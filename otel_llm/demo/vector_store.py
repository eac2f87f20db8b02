"""An in-memory vector store with deterministic hashed bag-of-words embeddings.

Why not a real embedding model: the demo runs offline and must be reproducible
to the byte, so an embedding is a feature-hashed word count (``zlib.crc32``,
not ``hash()``, which is salted per process), L2-normalised and kept sparse.
The two public operations are traced with ``@otel_llm.vector_op`` exactly as an
application would trace Chroma or pgvector calls.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import otel_llm
from otel_llm.demo.corpus import Document

COLLECTION = "docs"
DB_SYSTEM = "in-memory"
TOP_K = 3
DIMENSIONS = 512
MIN_SCORE = 0.12  # below this cosine similarity a document is not relevant

_WORD = re.compile(r"[a-z0-9_]+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it its my of on or so "
    "the to what when which with you your if me".split()
)

Embedding = dict[int, float]  # sparse: bucket -> weight


def embed(text: str) -> Embedding:
    """Feature-hash ``text``'s content words into a unit-length sparse vector."""
    vector: dict[int, float] = {}
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        bucket = zlib.crc32(word.encode()) % DIMENSIONS
        vector[bucket] = vector.get(bucket, 0.0) + 1.0
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {b: w / norm for b, w in vector.items()} if norm else {}


def cosine(a: Embedding, b: Embedding) -> float:
    """Dot product of two unit vectors, iterating the smaller one."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(bucket, 0.0) for bucket, w in a.items())


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the document and its similarity to the query."""

    document: Document
    score: float


class InMemoryVectorStore:
    """A list of (document, embedding) pairs searched by brute-force cosine."""

    def __init__(self) -> None:
        self._rows: list[tuple[Document, Embedding]] = []

    def __len__(self) -> int:
        return len(self._rows)

    @otel_llm.vector_op("insert", collection=COLLECTION, db_system=DB_SYSTEM)
    def add(self, documents: Iterable[Document]) -> list[str]:
        """Embed and store ``documents``; returns their ids (one row each)."""
        ids = []
        for doc in documents:
            self._rows.append((doc, embed(f"{doc.title} {doc.text}")))
            ids.append(doc.id)
        return ids

    @otel_llm.vector_op("search", collection=COLLECTION, db_system=DB_SYSTEM, top_k=TOP_K)
    def search(self, query: str) -> list[Hit]:
        """The ``TOP_K`` most similar documents scoring at least ``MIN_SCORE``."""
        q = embed(query)
        hits = [Hit(doc, cosine(q, emb)) for doc, emb in self._rows]
        hits.sort(key=lambda h: (-h.score, h.document.id))
        return [h for h in hits[:TOP_K] if h.score >= MIN_SCORE]
