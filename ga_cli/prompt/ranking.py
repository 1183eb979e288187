"""Which past corrections are relevant to a question: BM25 over each correction's prompt, why,
context and chosen answer, with the Porter stemmer (SQLite FTS5, the engine `ga history -q`
already uses), so "booking" meets "book" and a rare shared word outweighs a common one.
A correction that shares no stem with the question is left out.

`Index(corrections)` keeps the search index for as long as the corrections do (a served
ledger's, between commits); a plain sequence is indexed for the one question.

Measured against the word overlap it replaced, and the embedded model's embeddings, by
bench/relevance.py (docs/benchmarks.md).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence

from ga_cli.prompt.prompting import MATCHED_FIELDS, Entry, words


class Index(tuple):  # a tuple of entries, searchable
    """Corrections with their search index, built on the first question."""

    _conn: sqlite3.Connection | None
    _lock: threading.Lock

    def __new__(cls, corrections: Iterable[Entry]) -> Index:
        made = super().__new__(cls, corrections)
        made._conn = None
        made._lock = threading.Lock()
        return made

    def search(self, terms: list[str]) -> list[tuple[int, float]]:
        """(position, bm25) of the corrections matching any of `terms`."""
        with self._lock:
            if self._conn is None:
                self._conn = _indexed(self)
            query = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
            return self._conn.execute(
                "SELECT rowid, bm25(docs) FROM docs WHERE docs MATCH ?", (query,)
            ).fetchall()


def _indexed(corrections: Sequence[Entry]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)  # used under Index's lock
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='porter unicode61')")
    conn.executemany(
        "INSERT INTO docs (rowid, body) VALUES (?, ?)",
        [(i, " ".join(c.text(k) for k in MATCHED_FIELDS)) for i, c in enumerate(corrections)],
    )
    return conn


def rank(question: str, corrections: Sequence[Entry]) -> list[Entry]:
    """`corrections` that share a stem with `question`, the most relevant first (ties: the
    older first)."""
    terms = sorted(words(question))
    if not terms or not corrections:
        return []
    index = corrections if isinstance(corrections, Index) else Index(corrections)
    found = index.search(terms)
    order = sorted(found, key=lambda row: (row[1], index[row[0]].created))
    return [index[i] for i, _ in order]
