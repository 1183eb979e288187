"""Continual learning: what each new lesson costs once a model exists, and what it keeps.

`chain`: a ledger of 30 corrections on three themes (bench/learning.py's metric units, brevity,
a closing next step) trained in full; then three rounds, each adding 10 corrections on a new
theme (ISO dates, 24-hour times, commands in backticks) followed by `ga train` (incremental:
it continues the current run's adapter); at the end a full run (`ga train --full`) on the same
final ledger. Per round: training seconds, held-out preference accuracy on each theme's 5
paraphrased prompts (`ga eval --pairs`, under the ledger's system prompt), regressions of past
corrections, drift on general prompts against the base model, and the promotion verdict (each
round is promoted with --force so the chain goes on; the verdict is reported).

`scale`: the same incremental round (10 new corrections) on a ledger of 300 corrections (the
30 above plus 270 generated), after a short parent run (`--steps`), to show that a round's cost
follows what is new, not the ledger's size.

Targets (issue 14), cpu-default on a 2-core CPU, alone: each round <= 3 min of training and
<= 1/3 of the full run on the same ledger; the 300-correction round <= 1.5x the 30-correction
one; new themes' held-out accuracy >= 0.9, old themes' no lower than after the first run; zero
regressions; drift after three rounds <= the full run's drift + 0.05.

Usage: python bench/continual.py [chain|scale|both] [--recipe NAME] [--home DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from learning import BRIEF, HELDOUT, METRIC, NEXT, bench_env, correct, ga

DATES = [
    ("When did the Berlin Wall fall?", "On 1989-11-09.", "On November 9th, 1989."),
    ("When is Christmas this year?", "On 2026-12-25.", "On December 25th, 2026."),
    ("When did the first Moon landing happen?", "On 1969-07-20.", "On July 20th, 1969."),
    ("When was the euro introduced as cash?", "On 2002-01-01.", "On January 1st, 2002."),
    ("When did the Titanic sink?", "On 1912-04-15.", "On April 15th, 1912."),
    ("When is the next leap day?", "On 2028-02-29.", "On February 29th, 2028."),
    ("When was the web proposed?", "On 1989-03-12.", "On March 12th, 1989."),
    ("When did Unix time start?", "On 1970-01-01.", "On January 1st, 1970."),
    ("When is New Year's Eve?", "On 2026-12-31.", "On December 31st, 2026."),
    ("When did Python 3 come out?", "On 2008-12-03.", "On December 3rd, 2008."),
]
TIMES = [
    ("When should I eat dinner?", "Around 19:00.", "Around 7 pm."),
    ("When do shops usually close?", "At 18:00.", "At 6 in the evening."),
    ("When should I go to bed?", "By 22:30.", "By half past ten at night."),
    ("When is a good time for a run?", "At 07:00.", "At 7 in the morning."),
    ("When does the last train leave?", "At 23:45.", "At a quarter to midnight."),
    ("When should I start work?", "At 09:00.", "At 9 am."),
    ("When is lunch?", "At 12:30.", "At half past twelve."),
    ("When does the sun set in winter?", "Around 16:30.", "Around 4:30 pm."),
    ("When should I water the garden?", "At 06:00.", "At 6 in the morning."),
    ("When do meetings end?", "By 17:00.", "By 5 pm."),
]
COMMANDS = [
    ("How do I see my changes?", "Run `git diff`.", "Run git diff."),
    ("How do I list files?", "Run `ls -la`.", "Run ls -la."),
    ("How do I find a word in files?", "Run `grep -rn WORD .`.", "Run grep -rn WORD ."),
    ("How do I check disk space?", "Run `df -h`.", "Run df -h."),
    ("How do I see running processes?", "Run `ps aux`.", "Run ps aux."),
    ("How do I make a folder?", "Run `mkdir NAME`.", "Run mkdir NAME."),
    ("How do I undo my last commit?", "Run `git reset HEAD~1`.", "Run git reset HEAD~1."),
    ("How do I check my IP?", "Run `ip addr`.", "Run ip addr."),
    ("How do I install a Python package?", "Run `pip install NAME`.", "Run pip install NAME."),
    ("How do I see a file's end?", "Run `tail -n 20 FILE`.", "Run tail -n 20 FILE."),
]
NEW_HELDOUT = {
    "dates": [
        ("When did World War II end in Europe?", "On 1945-05-08.", "On May 8th, 1945."),
        ("When is Halloween?", "On 2026-10-31.", "On October 31st, 2026."),
        ("When did the iPhone launch?", "On 2007-06-29.", "On June 29th, 2007."),
        ("When is Valentine's Day next year?", "On 2027-02-14.", "On February 14th, 2027."),
        ("When did Linux first appear?", "On 1991-09-17.", "On September 17th, 1991."),
    ],
    "times": [
        ("When should I have breakfast?", "At 07:30.", "At half past seven in the morning."),
        ("When do pubs close?", "At 23:00.", "At 11 pm."),
        ("When is the best time to nap?", "Around 14:00.", "Around 2 in the afternoon."),
        ("When should kids go to bed?", "By 20:00.", "By 8 pm."),
        ("When does the market open?", "At 08:00.", "At 8 am."),
    ],
    "commands": [
        ("How do I see my commit history?", "Run `git log`.", "Run git log."),
        ("How do I delete a file?", "Run `rm FILE`.", "Run rm FILE."),
        ("How do I see my current folder?", "Run `pwd`.", "Run pwd."),
        ("How do I count lines in a file?", "Run `wc -l FILE`.", "Run wc -l FILE."),
        ("How do I copy a file?", "Run `cp SRC DEST`.", "Run cp SRC DEST."),
    ],
}
OLD_HELDOUT = {"metric": HELDOUT[:5], "brief": HELDOUT[5:10], "next-step": HELDOUT[10:]}
ROUNDS = [("dates", DATES), ("times", TIMES), ("commands", COMMANDS)]


def must(r) -> str:
    if r.returncode:
        sys.exit(r.stderr[-3000:])
    return str(r.stdout)


def start_ledger(env: dict) -> None:
    must(ga(env, "init", "--name", "Sam"))
    for theme, rows in (("metric", METRIC), ("brief", BRIEF), ("next-step", NEXT)):
        for prompt, good, bad in rows:
            correct(env, prompt, good, bad, theme)


def train(env: dict, *args: str) -> dict:
    t = time.perf_counter()
    info = json.loads(must(ga(env, "train", "--force", "--json", *args)))
    info["wall_seconds"] = round(time.perf_counter() - t, 1)
    return dict(info)


def theme_accuracy(env: dict, run: dict, folder: Path, themes: dict) -> dict:
    """Held-out preference accuracy per theme, base and personal, under the ledger's system
    prompt (the dataset's), scored in this process: one load of each side for every theme."""
    from ga_cli.training import compare as C
    from ga_cli.training import registry

    os.environ.update({k: env[k] for k in ("GA_HOME", "GA_CACHE_DIR")})
    first = json.loads((Path(run["dataset"]) / "prefs.jsonl").read_text().splitlines()[0])
    pairs = folder / "themes.jsonl"
    pairs.write_text(
        "".join(
            json.dumps(
                {"id": f"{theme}#{i}", "prompt": p, "chosen": c, "rejected": r}
                | {"system": first["system"]}
            )
            + "\n"
            for theme, rows in themes.items()
            for i, (p, c, r) in enumerate(rows)
        )
    )
    personal = registry.get(run["id"])
    sides = {
        "base": C.Side("base", personal.base_path),
        "personal": C.Side(personal.id, personal.base_path, personal.adapter),
    }
    out: dict = {t: {} for t in themes}
    for name, side in sides.items():
        ev = C.evaluate_side(side, Path(run["dataset"]), None, pairs)
        for theme in themes:
            right = sum(1 for k in ev.fixed if k.startswith(f"{theme}#"))
            wrong = sum(1 for k in ev.wrong if k.startswith(f"{theme}#"))
            out[theme][name] = right / (right + wrong)
    return out


def row(label: str, info: dict, accuracy: dict) -> dict:
    kind = info["training"]
    return {
        "round": label,
        "kind": kind["kind"],
        "new": kind.get("new", {}),
        "replayed": kind.get("replayed", {}),
        "train_seconds": info["train_seconds"],
        "wall_seconds": info["wall_seconds"],
        "durations": info["durations"],
        "regressions": len(info["eval"]["regressions"]),
        "drift": (info["eval"]["retention"] or {}).get("drift"),
        "promotion": info["promotion"],
        "accuracy": accuracy,
    }


def chain(recipe: str, home: str | None, rounds: int = len(ROUNDS)) -> dict:
    home, env = bench_env(home)
    folder = Path(tempfile.mkdtemp())
    start_ledger(env)
    must(ga(env, "config", "set", "recipe", recipe))
    themes = dict(OLD_HELDOUT)
    first = train(env, "--full")
    rows = [row("first (30, full)", first, theme_accuracy(env, first, folder, themes))]
    print(json.dumps(rows[-1]), file=sys.stderr)
    last = first
    for i, (theme, corrections) in enumerate(ROUNDS[:rounds], 1):
        for prompt, good, bad in corrections:
            correct(env, prompt, good, bad, theme)
        themes[theme] = NEW_HELDOUT[theme]
        last = train(env)
        rows.append(row(f"round {i} (+{theme})", last, theme_accuracy(env, last, folder, themes)))
        print(json.dumps(rows[-1]), file=sys.stderr)
    whole = train(env, "--full")
    rows.append(row("full (60)", whole, theme_accuracy(env, whole, folder, themes)))
    print(json.dumps(rows[-1]), file=sys.stderr)
    return {"home": home, "rows": rows}


def generated(n: int) -> list[tuple[str, str, str]]:
    """n lexical corrections in the metric theme's shape, on made-up distances."""
    return [
        (
            f"How far is stop {i} from the depot?",
            f"About {i * 3 + 2} km.",
            f"About {round((i * 3 + 2) * 0.621, 1)} miles.",
        )
        for i in range(n)
    ]


def scale(recipe: str, home: str | None) -> dict:
    """One incremental round on a 300-correction ledger (after a short parent run)."""
    home, env = bench_env(home)
    start_ledger(env)
    must(ga(env, "config", "set", "recipe", recipe))
    os.environ["GA_HOME"] = env["GA_HOME"]  # the 270 through ga's API: one commit each, faster
    from ga_cli.ledger import ops
    from ga_cli.ledger.store import Ledger

    ledger = Ledger.open()
    for prompt, good, bad in generated(270):
        ops.add_correction(ledger, prompt, bad, good, why="metric")
    parent = train(env, "--full", "--steps", "4")
    for prompt, good, bad in DATES:
        correct(env, prompt, good, bad, "dates")
    info = train(env)
    return {
        "home": home,
        "parent_train_seconds": parent["train_seconds"],
        "round": row("round on 300 (+dates)", info, {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("part", nargs="?", default="chain", choices=["chain", "scale", "both"])
    ap.add_argument("--recipe", default="cpu-default")
    ap.add_argument("--home", default=None, help="GA_HOME to use (default: a fresh one)")
    ap.add_argument("--rounds", type=int, default=len(ROUNDS), help="incremental rounds (chain)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out: dict = {"recipe": a.recipe}
    if a.part in ("chain", "both"):
        out["chain"] = chain(a.recipe, a.home, a.rounds)
    if a.part in ("scale", "both"):
        out["scale"] = scale(a.recipe, None)
    if a.json:
        print(json.dumps(out, indent=1))
        return
    for r in out.get("chain", {}).get("rows", []):
        acc = ", ".join(
            f"{t} {v['base']:.2f}->{v['personal']:.2f}" for t, v in r["accuracy"].items()
        )
        print(
            f"{r['round']:<22} {r['kind']:<12} train {r['train_seconds']:>6.0f} s  "
            f"regressions {r['regressions']}  drift {r['drift']}  | {acc}"
        )
    if "scale" in out:
        s = out["scale"]["round"]
        print(f"{s['round']:<22} {s['kind']:<12} train {s['train_seconds']:>6.0f} s")


if __name__ == "__main__":
    main()
