"""Which text-similarity measure should the offline judge use? Agreement with hand labels.

bench/judge_labels.jsonl holds generated answers (from bench/prompt_corrections.py and
bench/behaviours.py runs: the embedded model, base and personal, under each prompt mode) with a
label written by hand after reading the answer: does it follow the principal's chosen answer's
manner (true) or not (false)? Each measure decides "follows" the way ga's judge does — more
similar to `chosen` than to `rejected` — and the script reports how often it agrees with the
label (and Cohen's kappa), overall and per suite; with ga's usability guard (`judge.usable`: not
empty, not a loop, not the system prompt's scaffolding copied) and without it.

Needs rapidfuzz (installed with ga) and sacrebleu (`pip install sacrebleu`: only for this
comparison).

Usage: python bench/judge_agreement.py [--labels FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

LABELS = Path(__file__).with_name("judge_labels.jsonl")


def measures() -> dict[str, Callable[[str, str], float]]:
    from rapidfuzz import fuzz, utils
    from sacrebleu.metrics import CHRF

    chrf, chrf_pp = CHRF(), CHRF(word_order=2)
    p = utils.default_process
    return {
        "rapidfuzz ratio": lambda a, b: fuzz.ratio(a, b, processor=p),
        "rapidfuzz token_sort_ratio": lambda a, b: fuzz.token_sort_ratio(a, b, processor=p),
        "rapidfuzz token_set_ratio": lambda a, b: fuzz.token_set_ratio(a, b, processor=p),
        "rapidfuzz partial_ratio": lambda a, b: fuzz.partial_ratio(a, b, processor=p),
        "sacrebleu chrF": lambda a, b: chrf.sentence_score(a, [b]).score,
        "sacrebleu chrF++": lambda a, b: chrf_pp.sentence_score(a, [b]).score,
    }


def decide(sim: Callable[[str, str], float], r: dict, guard: bool) -> bool:
    from ga_cli.training import judge

    a = r["answer"]
    near = sim(a, r["chosen"]) > max(sim(a, x) for x in r["rejected"])
    return near and (judge.usable(a) or not guard)


def kappa(pairs: list[tuple[bool, bool]]) -> float:
    n = len(pairs)
    agree = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return (agree - chance) / (1 - chance) if chance < 1 else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.labels.read_text().splitlines() if line.strip()]
    suites = sorted({r["suite"] for r in rows})
    out = {}
    for (name, sim), guard in [(m, g) for m in measures().items() for g in (True, False)]:
        got = {}
        for suite in [None, *suites]:
            pairs = [
                (decide(sim, r, guard), bool(r["label"]))
                for r in rows
                if suite is None or r["suite"] == suite
            ]
            got[suite or "all"] = {
                "n": len(pairs),
                "agreement": round(sum(a == b for a, b in pairs) / len(pairs), 3),
                "kappa": round(kappa(pairs), 3),
            }
        out[name + ("" if guard else " (no usability guard)")] = got
    if args.json:
        print(json.dumps(out, indent=1))
        return
    followed = sum(bool(r["label"]) for r in rows)
    print(f"{len(rows)} hand-labelled answers ({followed} follow the chosen manner)")
    for name, got in sorted(out.items(), key=lambda kv: -kv[1]["all"]["agreement"]):
        parts = ", ".join(
            f"{s} {g['agreement']:.2f} (kappa {g['kappa']:.2f}, n={g['n']})" for s, g in got.items()
        )
        print(f"{name:>50}: {parts}")


if __name__ == "__main__":
    main()
