"""On-policy preference pairs (recipe `dpo.on_policy`): the model's *own* answers to the
principal's corrected prompts, paired as `rejected` against the principal's `chosen`.

The principal's rejected answer shows one wrong wording; what the model would say itself is the
habit that needs unlearning. For each trained correction, the base model answers greedily and
with sampling (under the record's system prompt, on the fast engine, decoded together); an
answer that already follows the principal (`judge.follows`: nearer their chosen answer than the
rejected one) is left out, every other one becomes a pair. Made once per base model and dataset
and cached.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from ga_cli.dataset import rows as rows_of
from ga_cli.dataset.rows import Pair
from ga_cli.models.base import GenerationParams
from ga_cli.training import data, judge, retention

MAX_TOKENS = 96
TEMPERATURE, TOP_P = 0.8, 0.95


def _corrections(dataset: Path) -> list[Pair]:
    """One row per trained correction (its first pair: the principal's own rejected answer)."""
    return [
        r
        for r in rows_of.pairs(dataset / "prefs.jsonl")
        if r.get("source") == "correction" and "#" not in str(r.get("id", ""))
    ]


def pairs(
    base: str, dataset: Path, n: int, say: Callable[[str], None] | None = None
) -> list[data.TrlRow]:
    """Up to n own-answer pairs per trained correction, in `data.pref_rows`' shape."""
    rows = _corrections(dataset)
    if n <= 0 or not rows:
        return []
    from ga_cli import models

    engine = models.engine_for(base, exact=True)
    manifest = json.loads((dataset / "manifest.json").read_text())

    def make() -> list[dict[str, Any]]:  # cached as JSON: [{id, answers}]
        if say:
            say(f"Sampling the base model's own answers to {len(rows)} corrected prompt(s)…")
        backend = models.load_local(base, engine=engine)
        convs = [data.prompt_messages(r) for r in rows]
        made: list[list[str]] = [[] for _ in rows]
        for k in range(n):
            params = (
                GenerationParams(temperature=0.0, max_tokens=MAX_TOKENS)
                if k == 0
                else GenerationParams(
                    temperature=TEMPERATURE, top_p=TOP_P, max_tokens=MAX_TOKENS, seed=k
                )
            )
            for i, (text, _, _) in enumerate(backend.generate_batch(convs, params)):
                made[i].append(text.strip())
        return [{"id": r["id"], "answers": a} for r, a in zip(rows, made)]

    key = hashlib.sha256(
        json.dumps(
            [retention.cache_key(base, settings=[MAX_TOKENS, TEMPERATURE, TOP_P, n, engine])]
            + [manifest["content_hash"]]
        ).encode()
    ).hexdigest()[:16]
    answered = {a["id"]: a["answers"] for a in retention.cached("on-policy", key, make)}
    out: list[data.TrlRow] = []
    for r in rows:
        seen = {r["chosen"].strip(), r["rejected"].strip()}
        for text in answered.get(r["id"], []):
            own = judge.Answered(r["id"], r["prompt"], r["chosen"], (r["rejected"],), "", text)
            if not text or text in seen or judge.follows(own):
                continue
            seen.add(text)
            out.append(
                {
                    "prompt": data.prompt_messages(r),
                    "chosen": [{"role": "assistant", "content": r["chosen"]}],
                    "rejected": [{"role": "assistant", "content": text}],
                }
            )
    return out
