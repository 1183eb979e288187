"""Which past corrections are relevant to a question: BM25 over each correction's prompt, why,
context and chosen answer, with the Porter stemmer (SQLite FTS5, the engine `ga history -q`
already uses), so "booking" meets "book" and a rare shared word outweighs a common one.
A correction that shares no stem with the question is left out.

Measured against the word overlap it replaced, and the embedded model's embeddings, by
bench/relevance.py (docs/benchmarks.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ga_cli.prompt.prompting import Entry, words

FIELDS = ("prompt", "why", "context", "chosen")


def rank(question: str, corrections: Sequence[Entry]) -> list[Entry]:
    """`corrections` that share a stem with `question`, the most relevant first (ties: the
    older first)."""
    terms = sorted(words(question))
    if not terms or not corrections:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='porter unicode61')")
        conn.executemany(
            "INSERT INTO docs (rowid, body) VALUES (?, ?)",
            [(i, " ".join(c.text(k) for k in FIELDS)) for i, c in enumerate(corrections)],
        )
        query = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        found = conn.execute(
            "SELECT rowid, bm25(docs) FROM docs WHERE docs MATCH ?", (query,)
        ).fetchall()
    finally:
        conn.close()
    order = sorted(found, key=lambda row: (row[1], corrections[row[0]].created))
    return [corrections[i] for i, _ in order]
