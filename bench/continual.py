"""Continual learning: what each new lesson costs once a model exists, and what it keeps.

`chain`: a ledger of 30 corrections on three themes (bench/learning.py's metric units, brevity,
a closing next step) trained in full; then three rounds, each adding 10 corrections on a new
theme (ISO dates, 24-hour times, commands in backticks) followed by `ga train` (incremental:
it continues the current run's adapter); at the end a full run (`ga train --full`) on the same
final ledger. Per round: training seconds, held-out preference accuracy on each theme's 5
paraphrased prompts (`ga eval --pairs`, under the ledger's system prompt), regressions of past
corrections, drift on general prompts against the base model, and the promotion verdict (each
round is promoted with --force so the chain goes on; the verdict is reported).

`scale`: the same incremental round (10 new corrections) on ledgers of 30, 300 and 1,000
corrections (`--sizes`; the 30 above plus generated ones), each after a short parent run
(`--steps 4`), to show that a round's cost follows what is new, not the ledger's size: the whole
`ga train` (wall seconds), its training and evaluation seconds, how many pairs the round scored
and carried from its parent, and the peak resident memory of the `ga train` process (issue 28).

Targets (issue 14), cpu-default on a 2-core CPU, alone: each round <= 3 min of training and
<= 1/3 of the full run on the same ledger; the 300-correction round <= 1.5x the 30-correction
one (training); issue 28: the whole round at 300 <= 3 min, at 1,000 <= 1.3x the 300 figure;
new themes' held-out accuracy >= 0.9, old themes' no lower than after the first run; zero
regressions; drift after three rounds <= the full run's drift + 0.05.

Usage: python bench/continual.py [chain|scale|both] [--recipe NAME] [--home DIR]
       [--sizes 30,300,1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from learning import bench_env, correct, ga, must, theme_accuracy
from lexical_suite import BRIEF, COMMANDS, DATES, HELDOUT, METRIC, NEW_HELDOUT, NEXT, TIMES

OLD_HELDOUT = {"metric": HELDOUT[:5], "brief": HELDOUT[5:10], "next-step": HELDOUT[10:]}
ROUNDS = [("dates", DATES), ("times", TIMES), ("commands", COMMANDS)]


def start_ledger(env: dict) -> None:
    must(ga(env, "init", "--name", "Sam"))
    for theme, rows in (("metric", METRIC), ("brief", BRIEF), ("next-step", NEXT)):
        for prompt, good, bad in rows:
            correct(env, prompt, good, bad, theme)


def train(env: dict, *args: str) -> dict:
    """One `ga train --force --json`, with its wall time and the peak resident memory of the
    ga process (os.wait4's ru_maxrss: the largest of it and the children it waited for)."""
    exe = os.path.join(os.path.dirname(sys.executable), "ga")
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [exe, "train", "--force", "--json", *args], env=env, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.exit(err.read()[-3000:])
        info = json.loads(out.read())
    info["wall_seconds"] = round(time.perf_counter() - t, 1)
    info["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    return dict(info)


def row(label: str, info: dict, accuracy: dict) -> dict:
    kind = info["training"]
    return {
        "round": label,
        "kind": kind["kind"],
        "new": kind.get("new", {}),
        "replayed": kind.get("replayed", {}),
        "train_seconds": info["train_seconds"],
        "eval_seconds": info.get("eval_seconds"),
        "wall_seconds": info["wall_seconds"],
        "peak_rss_mb": info.get("peak_rss_mb"),
        "rescored": info["eval"].get("rescored"),
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


def scale(recipe: str, sizes: list[int]) -> dict:
    """One incremental round (+10 dates) on ledgers of each size, each after a short parent."""
    rounds = []
    for size in sizes:
        home, env = bench_env(None)
        start_ledger(env)
        must(ga(env, "config", "set", "recipe", recipe))
        os.environ["GA_HOME"] = env["GA_HOME"]  # the generated ones through ga's API: faster
        from ga_cli.ledger import ops
        from ga_cli.ledger.store import Ledger

        ledger = Ledger.open()
        for prompt, good, bad in generated(max(0, size - 30)):
            ops.add_correction(ledger, prompt, bad, good, why="metric")
        parent = train(env, "--full", "--steps", "4")
        for prompt, good, bad in DATES:
            correct(env, prompt, good, bad, "dates")
        info = train(env)
        r = row(f"round on {size} (+dates)", info, {})
        r |= {"size": size, "home": home, "parent_wall_seconds": parent["wall_seconds"]}
        r["parent_peak_rss_mb"] = parent["peak_rss_mb"]
        print(json.dumps(r), file=sys.stderr)
        rounds.append(r)
    return {"rounds": rounds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("part", nargs="?", default="chain", choices=["chain", "scale", "both"])
    ap.add_argument("--recipe", default="cpu-default")
    ap.add_argument("--home", default=None, help="GA_HOME to use (default: a fresh one)")
    ap.add_argument("--rounds", type=int, default=len(ROUNDS), help="incremental rounds (chain)")
    ap.add_argument("--sizes", default="30,300,1000", help="ledger sizes (scale)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out: dict = {"recipe": a.recipe}
    if a.part in ("chain", "both"):
        out["chain"] = chain(a.recipe, a.home, a.rounds)
    if a.part in ("scale", "both"):
        out["scale"] = scale(a.recipe, [int(n) for n in a.sizes.split(",")])
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
    for s in out.get("scale", {}).get("rounds", []):
        share = s["eval_seconds"] / s["wall_seconds"]
        print(
            f"{s['round']:<24} {s['kind']:<12} whole {s['wall_seconds']:>6.0f} s  train "
            f"{s['train_seconds']:>5.0f} s  eval {s['eval_seconds']:>5.0f} s ({share:.0%})  "
            f"rescored {s['rescored']}  peak RSS {s['peak_rss_mb']} MB"
        )


if __name__ == "__main__":
    main()
