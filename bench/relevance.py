"""Which past corrections reach the prompt: today's word overlap against BM25 (SQLite FTS5 with
the Porter stemmer) and the embedded model's embeddings (llama.cpp, cosine), on two sets:

- `paraphrase`: bench/relevance_pairs.py, 40 new requests that share few words with the one
  correction each should bring back (the 40 corrections are the pool). recall@3: the right
  correction is among the 3 the ranker puts in the prompt.
- `suites`: the four suites of bench/learning.py (taste, formats, style, behaviours): every
  correction of a suite in the pool, its held-out prompts on new topics as requests. hit@3: at
  least one of the 3 is of the request's theme; precision@3: the share of the 3 that are.

- `floor`: 20 requests none of the 40 corrections is about (relevance_pairs.UNRELATED): how
  many of the 3 each ranker lets into the prompt, when a correction enters only above a floor.
  BM25's floor is a shared stem; a cosine has no absolute one across models, so the embeddings
  are cut at a z-score of the request's own similarities (how far a correction stands out of
  the pool), at several heights, alone and joined with BM25's matches.

Corrections are real ledger entries (`ga correct` into a fresh ledger), ranked as
prompting.build_system ranks them (a correction with no score is left out). Also reports the
milliseconds per request. Usage: python bench/relevance.py [--no-embeddings] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

Ranker = Callable[[str, list[Any]], list[Any]]  # (request, corrections) -> best first


def ledger_with(rows: list[tuple[str, str, str, str]]) -> list[Any]:
    """rows of (prompt, rejected, chosen, why) as corrections in a fresh ledger."""
    from ga_cli.ledger import ops
    from ga_cli.ledger.store import Ledger

    os.environ["GA_HOME"] = tempfile.mkdtemp(prefix="ga-relevance-")
    ledger = Ledger.init(None, "Bench", "bench@example.org")
    for prompt, rejected, chosen, why in rows:
        ops.add_correction(ledger, prompt, rejected, chosen, why)
    return [e for e in ledger.scan()[0] if e.kind.name == "correction"]


def overlap(request: str, pool: list[Any]) -> list[Any]:
    """The ranking before BM25: shared words over the root of the union's size."""
    from ga_cli.prompt import prompting

    scored = [(prompting.relevance(request, c), c) for c in pool]
    return [c for s, c in sorted(scored, key=lambda sc: (-sc[0], sc[1].created)) if s > 0]


def bm25(request: str, pool: list[Any]) -> list[Any]:
    from ga_cli.prompt import ranking

    return ranking.rank(request, pool)


def embeddings(backend: Any) -> Ranker:
    import numpy as np

    cache: dict[str, Any] = {}

    def vec(texts: list[str]) -> Any:
        missing = [t for t in texts if t not in cache]
        if missing:
            for t, v in zip(missing, backend.embed(missing)[0]):
                cache[t] = np.asarray(v) / (np.linalg.norm(v) or 1.0)
        return np.stack([cache[t] for t in texts])

    def rank(request: str, pool: list[Any]) -> list[Any]:
        docs = [" ".join(c.text(k) for k in ("prompt", "why", "chosen")) for c in pool]
        sims = vec(docs) @ vec([request])[0]
        return [pool[i] for i in np.argsort(-sims)]

    return rank


def z_floor(backend: Any, pool: list[Any], floor: float, with_bm25: bool) -> Ranker:
    """Embeddings cut at `floor` (z-score within the request's similarities to the pool), or
    joined with BM25's matches (reciprocal-rank fusion, k = 60)."""
    import numpy as np

    from ga_cli.prompt import ranking

    docs = [" ".join(c.text(k) for k in ("prompt", "why", "chosen")) for c in pool]
    unit = np.asarray(backend.embed(docs)[0], dtype=np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)

    def rank(request: str, given: list[Any]) -> list[Any]:
        q = np.asarray(backend.embed([request])[0][0], dtype=np.float32)
        sims = unit @ (q / np.linalg.norm(q))
        z = (sims - sims.mean()) / (sims.std() or 1.0)
        fused: dict[int, float] = {}
        for k, i in enumerate(int(i) for i in np.argsort(-z)):
            if z[i] >= floor:
                fused[i] = fused.get(i, 0.0) + 1 / (60 + k)
        if with_bm25:
            for k, c in enumerate(ranking.rank(request, pool)):
                fused[pool.index(c)] = fused.get(pool.index(c), 0.0) + 1 / (60 + k)
        return [pool[i] for i in sorted(fused, key=lambda i: -fused[i])]

    return rank


def floor(backend: Any) -> dict[str, Any]:
    """recall@3 on the paraphrase set against corrections let in for unrelated requests."""
    from relevance_pairs import PAIRS, UNRELATED

    pool = ledger_with([(p, "No.", chosen, why) for _, p, chosen, why in PAIRS])
    by_prompt = {c.text("prompt"): c for c in pool}
    rankers: dict[str, Ranker] = {"bm25": bm25}
    for z in (1.5, 2.0, 2.5, 3.0):
        rankers[f"embeddings z>={z}"] = z_floor(backend, pool, z, with_bm25=False)
        rankers[f"bm25 + embeddings z>={z}"] = z_floor(backend, pool, z, with_bm25=True)
    out = {}
    for name, rank in rankers.items():
        hits = sum(by_prompt[p] in rank(r, pool)[:3] for r, p, _, _ in PAIRS)
        noise = sum(len(rank(u, pool)[:3]) for u in UNRELATED)
        out[name] = {"recall@3": hits / len(PAIRS), "unrelated_let_in": noise / len(UNRELATED)}
    return out


def paraphrase(rankers: dict[str, Ranker]) -> dict[str, Any]:
    from relevance_pairs import PAIRS

    pool = ledger_with([(p, "No.", chosen, why) for _, p, chosen, why in PAIRS])
    by_prompt = {c.text("prompt"): c for c in pool}
    out = {}
    for name, rank in rankers.items():
        start, hits = time.perf_counter(), 0
        for request, prompt, _, _ in PAIRS:
            hits += by_prompt[prompt] in rank(request, pool)[:3]
        ms = (time.perf_counter() - start) * 1000 / len(PAIRS)
        out[name] = {"recall@3": hits / len(PAIRS), "ms": ms}
    return out


def suites(rankers: dict[str, Ranker]) -> dict[str, Any]:
    from suites import SUITES

    out: dict[str, Any] = {}
    for suite in SUITES.values():
        rows, theme_of = [], {}
        for theme, corrections in suite.train.items():
            for prompt, chosen, rejected in corrections:
                rows.append((prompt, rejected, chosen, suite.why_of(theme)))
                theme_of[prompt] = theme
        pool = ledger_with(rows)
        requests = [(p, t) for t, held in suite.heldout.items() for p, _, _ in held]
        for name, rank in rankers.items():
            hit = precision = 0.0
            for request, theme in requests:
                top = rank(request, pool)[:3]
                right = [c for c in top if theme_of[c.text("prompt")] == theme]
                hit += bool(right)
                precision += len(right) / 3
            row = out.setdefault(name, {})
            row[suite.name] = {
                "hit@3": hit / len(requests),
                "precision@3": precision / len(requests),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-embeddings", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rankers: dict[str, Ranker] = {"overlap": overlap, "bm25": bm25}
    if not args.no_embeddings:
        from ga_cli import models

        rankers["embeddings"] = embeddings(models.load("embedded", engine="llama.cpp"))
    result = {"paraphrase": paraphrase(rankers), "suites": suites(rankers)}
    if not args.no_embeddings:
        result["floor"] = floor(models.load("embedded", engine="llama.cpp"))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, r in result["paraphrase"].items():
        per_suite = result["suites"][name]
        hits = " ".join(
            f"{s}:{v['hit@3']:.2f}/{v['precision@3']:.2f}" for s, v in per_suite.items()
        )
        print(f"{name:<11} recall@3 {r['recall@3']:.3f} ({r['ms']:.1f} ms)  hit/precision@3 {hits}")
    for name, r in result.get("floor", {}).items():
        print(
            f"floor: {name:<26} recall@3 {r['recall@3']:.3f}, of 3 let in for unrelated "
            f"requests {r['unrelated_let_in']:.2f}"
        )


if __name__ == "__main__":
    main()
