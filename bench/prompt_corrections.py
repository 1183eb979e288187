"""Do past corrections in the system prompt help the model, or teach it to copy? (issue 16)

On bench/learning.py's ledger (30 corrections over three themes, 15 held-out paraphrases) and a
model trained on it with cpu-default, `ga eval --generate --pairs` runs once per
`prompt_corrections` mode (pairs: question + rejected + wanted answer; chosen: question + wanted
answer; off) and reports, for the base and the personal model: greedy answers closer to the
chosen than to the rejected answer, answers that copy the prompt's scaffolding ("The answer
wanted:", "A rejected answer:", "Asked:", "Q:"/"A:" lines), and log-prob preference accuracy under
that prompt. `--answers FILE` keeps every answer (the hand labels of bench/judge_agreement.py
were written from such a file).

Usage: python bench/prompt_corrections.py [--home DIR] [--answers FILE] [--json]
  --home: a GA_HOME where bench/learning.py's ledger is trained already (default: make one and
  train cpu-default, about 10 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import learning as L
from lexical_suite import HELDOUT
from suites import TASTE

MODES = ("pairs", "chosen", "off")
THEMES = ["metric"] * 5 + ["brief"] * 5 + ["next-step"] * 5  # lexical_suite.HELDOUT's order


def copies_scaffold(text: str) -> bool:
    from ga_cli.training.judge import SCAFFOLD

    return bool(SCAFFOLD.search(text))


def pairs_file(folder: Path) -> Path:
    """The held-out paraphrases with no `system`: each is scored and answered under the
    ledger's own chat prompt, which is what the mode changes."""
    path = folder / "heldout-open.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"h{i:02d}", "prompt": p, "chosen": c, "rejected": r, "why": t})
            + "\n"
            for i, ((p, c, r), t) in enumerate(zip(HELDOUT, THEMES))
        )
    )
    return path


def one_mode(env: dict, mode: str, pairs: Path) -> dict:
    L.ga(env, "config", "set", "prompt_corrections", mode)
    t = time.perf_counter()
    out = L.ga(env, "eval", "--pairs", str(pairs), "--generate", "--no-retention", "--json")
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    ev = json.loads(out.stdout)
    gen = ev["generation"]
    answers = gen["answers"]
    return {
        "mode": mode,
        "seconds": round(time.perf_counter() - t, 1),
        "prompts": gen["prompts"],
        "follows": [gen["base_follows"], gen["personal_follows"]],
        "copies": [
            sum(copies_scaffold(a["base"]) for a in answers) / len(answers),
            sum(copies_scaffold(a["personal"]) for a in answers) / len(answers),
        ],
        "accuracy": [ev["base"]["pref_accuracy"], ev["personal"]["pref_accuracy"]],
        "answers": answers,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", help="a GA_HOME with bench/learning.py's ledger, trained")
    ap.add_argument("--answers", type=Path, help="write every answer here (JSON)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home, env = L.bench_env(args.home)
    if not args.home:
        L.make_ledger(env, TASTE, home)
        trained = L.ga(env, "train", "--recipe", "cpu-default", "--force", "--json")
        if trained.returncode:
            sys.exit(trained.stderr[-3000:])
    pairs = pairs_file(Path(home))
    results = [one_mode(env, m, pairs) for m in MODES]
    L.ga(env, "config", "set", "prompt_corrections", "null")
    if args.answers:
        args.answers.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "answers"} for r in results]))
        return
    for r in results:
        (bf, pf), (bc, pc), (ba, pa) = r["follows"], r["copies"], r["accuracy"]
        print(
            f"{r['mode']:>6}: answers closer to chosen base {bf:.2f} -> personal {pf:.2f}; "
            f"copy the prompt's scaffolding {bc:.2f} -> {pc:.2f}; log-prob accuracy "
            f"{ba:.2f} -> {pa:.2f} ({r['prompts']} prompts, {r['seconds']:.0f} s)"
        )


if __name__ == "__main__":
    main()
