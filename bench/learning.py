"""Does ga learn its principal, and what does it cost? Recipes compared on one ledger.

Makes a ledger with 30 corrections across three consistent themes of the principal's taste,
holds out 15 paraphrased prompts (5 per theme) with chosen/rejected answers in the same styles,
trains each candidate recipe with `ga train` and reads its run.json: held-out preference
accuracy (`ga eval --pairs`), drift on the general probe set (nats/token vs the base), greedy and
sampled repetition and degenerate outputs, the retention gate's verdict, training seconds.
Candidates are cpu-default with overrides (CANDIDATES); `--recipe` runs one recipe file or name.
Targets (issue 7): accuracy >= 0.95 and the retention gate passed; training under 15 minutes.

Usage: python bench/learning.py [--candidate NAME ...] [--recipe NAME|PATH] [--json]
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

METRIC = [
    ("How far is a marathon?", "A marathon is 42.2 km.", "A marathon is 26.2 miles."),
    ("How tall is Mount Everest?", "About 8,849 m.", "About 29,032 feet."),
    ("What is a comfortable room temperature?", "Around 21 °C.", "Around 70 °F."),
    ("How much does a litre of water weigh?", "1 kg.", "About 2.2 pounds."),
    ("How long is a football pitch?", "About 105 m.", "About 115 yards."),
    ("How heavy is a newborn baby?", "Around 3.5 kg.", "Around 7.5 pounds."),
    ("How fast is highway traffic?", "About 120 km/h.", "About 75 mph."),
    ("How big is a tennis court?", "23.8 m long.", "78 feet long."),
    ("How cold is a freezer?", "About -18 °C.", "About 0 °F."),
    ("How far is the Moon?", "About 384,400 km.", "About 238,900 miles."),
]
BRIEF = [
    (
        "Should I use tabs or spaces?",
        "Spaces. Match your project.",
        "Well, this is a long-standing debate with many considerations on both sides, and it "
        "really depends on a lot of factors that we could discuss at length.",
    ),
    (
        "Is Python good for scripting?",
        "Yes.",
        "Python is a versatile language that many "
        "people find useful for a wide range of tasks including but not limited to scripting.",
    ),
    (
        "Should I back up my laptop?",
        "Yes, weekly.",
        "Backing up is generally considered "
        "a good practice by many experts for a variety of reasons that are worth exploring.",
    ),
    (
        "Is coffee bad for sleep?",
        "Late coffee is.",
        "There are many factors to consider "
        "when thinking about coffee and sleep, and research has explored this extensively.",
    ),
    (
        "Do I need a password manager?",
        "Yes.",
        "Password managers are tools that many "
        "security professionals recommend for a number of different reasons and situations.",
    ),
    (
        "Is walking good exercise?",
        "Yes, daily.",
        "Walking is an activity that has been "
        "studied in many contexts and is often described as beneficial in various ways.",
    ),
    (
        "Should I learn Git?",
        "Yes, now.",
        "Git is a version control system that has become "
        "quite popular over the years and there are many reasons people choose to learn it.",
    ),
    (
        "Is rice healthy?",
        "In moderation.",
        "Rice is a staple food eaten around the world "
        "and its health effects depend on many different factors worth discussing.",
    ),
    (
        "Can I reuse old paint?",
        "If it stirs smooth.",
        "Old paint can sometimes be reused "
        "depending on a wide variety of conditions that we should carefully consider.",
    ),
    (
        "Is a standing desk worth it?",
        "Try one first.",
        "Standing desks are a topic of "
        "much discussion and there are numerous perspectives to weigh on this question.",
    ),
]
NEXT = [
    (
        "I keep procrastinating.",
        "Set a 10-minute timer and start now. Next step: open the file.",
        "Procrastination is common.",
    ),
    (
        "My code is slow.",
        "Profile it first. Next step: run py-spy on the slow path.",
        "Slow code happens.",
    ),
    (
        "I can't sleep.",
        "Cut screens an hour before bed. Next step: set a 22:00 alarm.",
        "Sleep is important.",
    ),
    (
        "My garden is dry.",
        "Water deeply at dawn. Next step: check the soil tonight.",
        "Gardens need water.",
    ),
    (
        "I feel stuck at work.",
        "Name one skill to grow. Next step: book a talk with your lead.",
        "Work can be hard.",
    ),
    (
        "My inbox is full.",
        "Archive all over 30 days. Next step: filter newsletters.",
        "Inboxes fill up.",
    ),
    (
        "I want to read more.",
        "Read 10 pages a night. Next step: put a book by your bed.",
        "Reading is nice.",
    ),
    ("My bike squeaks.", "Oil the chain. Next step: wipe it dry after.", "Bikes squeak."),
    (
        "I forget names.",
        "Repeat the name aloud. Next step: use it once in the chat.",
        "Names are hard.",
    ),
    (
        "My desk is messy.",
        "Clear it fully tonight. Next step: one box for loose paper.",
        "Desks get messy.",
    ),
]
HELDOUT = [
    ("How long is a half marathon?", "21.1 km.", "13.1 miles."),
    ("How heavy is a bag of flour?", "1 kg.", "2.2 pounds."),
    ("How hot is a sauna?", "About 80 °C.", "About 176 °F."),
    ("How tall is a door?", "About 2 m.", "About 6.5 feet."),
    ("How far can I walk in an hour?", "About 5 km.", "About 3 miles."),
    (
        "Should I learn Rust?",
        "Yes, for systems work.",
        "Rust is a programming language that "
        "many people have found interesting for a variety of reasons worth considering at length.",
    ),
    (
        "Is tea healthy?",
        "Mostly, yes.",
        "Tea has been consumed for centuries and there are many "
        "different aspects of its health effects that researchers have studied extensively.",
    ),
    (
        "Should I update my phone?",
        "Yes, today.",
        "Updating a phone is something that involves "
        "several considerations, and there are many perspectives on when and how to do it.",
    ),
    (
        "Is running bad for knees?",
        "Not for most.",
        "Running and knee health is a complex topic "
        "with many studies and opinions that we could explore in considerable detail.",
    ),
    (
        "Do I need a VPN?",
        "Only on public Wi-Fi.",
        "VPNs are tools that have become popular for a "
        "number of reasons, and whether you need one depends on a great many factors.",
    ),
    (
        "I never exercise.",
        "Walk 15 minutes daily. Next step: put your shoes by the door.",
        "Exercise is good.",
    ),
    (
        "My plants keep dying.",
        "Water less, more light. Next step: move them to the window.",
        "Plants can die.",
    ),
    (
        "I spend too much.",
        "Track every purchase for a week. Next step: open a note now.",
        "Spending adds up.",
    ),
    (
        "My tests are flaky.",
        "Fix the clock and seeds. Next step: rerun the worst one 50 times.",
        "Tests can be flaky.",
    ),
    (
        "I am always late.",
        "Leave 10 minutes earlier. Next step: set tomorrow's alarm now.",
        "Being late happens.",
    ),
]


EXAMPLES = [
    ("How far do I cycle to work?", "About 8 km each way."),
    ("Should I buy a bigger monitor?", "Yes, 27 inches. Next step: measure your desk."),
    ("What should I cook tonight?", "Pasta with greens. Next step: boil the water."),
]
CANDIDATES = {  # name -> overrides of the shipped cpu-default
    "sft+dpo": {
        "sft": {"epochs": 10, "learning_rate": 5e-4, "replay": 0},  # before issue 7
        "dpo": {"sft_weight": 0.0},
    },
    "sft+rpo": {
        "sft": {"epochs": 10, "learning_rate": 5e-4, "replay": 0},
        "dpo": {"sft_weight": 1.0},
    },
    "mid-sft+rpo+replay": {
        "sft": {"epochs": 5, "learning_rate": 3e-4, "replay": 40},  # cpu-default
        "dpo": {"sft_weight": 1.0},
    },
    "sft+rpo+replay": {
        "sft": {"epochs": 10, "learning_rate": 5e-4, "replay": 40},
        "dpo": {"sft_weight": 1.0},
    },
    "light-sft+rpo+replay": {
        "sft": {"epochs": 3, "learning_rate": 2e-4, "replay": 40},
        "dpo": {"sft_weight": 1.0},
    },
}


def ga(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "ga")
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, input=input)


def bench_env(home: str | None) -> tuple[str, dict]:
    """A GA_HOME (this one, or a fresh temporary one) and the environment that uses it; the
    converted base model and its probe references are shared through the usual cache."""
    cache = os.environ.get("GA_CACHE_DIR") or str(Path.home() / ".cache" / "ga")
    home = home or tempfile.mkdtemp()
    return home, {**os.environ, "GA_HOME": home, "GA_CACHE_DIR": cache}


def correct(env: dict, prompt: str, good: str, bad: str, why: str) -> None:
    """One `ga correct`; the bench stops on the first that fails."""
    r = ga(env, "correct", "--prompt", prompt, "--rejected", bad, "--better", good, "--why", why)
    if r.returncode:
        sys.exit(r.stderr)


def make_ledger(env: dict, tmp: str) -> Path:
    ga(env, "init", "--name", "Sam")
    ga(env, "values", "add", "Use metric units.")
    ga(env, "values", "add", "Answer briefly.")
    ga(env, "values", "add", "End advice with one concrete next step.")
    for prompt, answer in EXAMPLES:
        Path(tmp, "answer.txt").write_text(answer)
        ga(env, "example", "add", "--prompt", prompt, str(Path(tmp, "answer.txt")))
    for theme, rows in (("metric", METRIC), ("brief", BRIEF), ("next-step", NEXT)):
        for prompt, good, bad in rows:
            correct(env, prompt, good, bad, theme)
    return Path(tmp) / "heldout-paraphrases.jsonl"


def write_pairs(pairs: Path, dataset: str) -> None:
    """The held-out paraphrases under the ledger's system prompt (from the dataset `ga train`
    built), as ga chat and ga ask use the model."""
    first = json.loads((Path(dataset) / "prefs.jsonl").read_text().splitlines()[0])
    pairs.write_text(
        "".join(
            json.dumps(
                {"id": f"h{i}", "prompt": p, "chosen": c, "rejected": r, "system": first["system"]}
            )
            + "\n"
            for i, (p, c, r) in enumerate(HELDOUT)
        )
    )


def candidate_recipe(name: str, folder: Path) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ga_cli.training import recipe as R

    data = R.load("cpu-default").data
    for section, values in CANDIDATES[name].items():
        data[section].update(values)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data, indent=1))  # JSON is YAML
    return str(path)


def run_one(env: dict, pairs: Path, recipe: str, label: str) -> dict:
    t = time.perf_counter()
    trained = ga(env, "train", "--recipe", recipe, "--force", "--json")
    seconds = time.perf_counter() - t
    if trained.returncode:
        sys.exit(trained.stderr[-3000:])
    info = json.loads(trained.stdout)
    write_pairs(pairs, info["dataset"])
    ev = json.loads(
        ga(env, "eval", info["id"], "--pairs", str(pairs), "--json", "--no-retention").stdout
    )
    ret = info["eval"]["retention"]
    h = ret["health"]
    fails = (
        []
        if info["promotion"].startswith("held-out")
        else info["promotion"].removesuffix(" (forced)").split("; ")
    )
    return {
        "candidate": label,
        "train_seconds": info["train_seconds"],
        "eval_seconds": info.get("eval_seconds"),
        "wall_seconds": round(seconds, 1),
        "durations": info["durations"],
        "base_accuracy": ev["base"]["pref_accuracy"],
        "accuracy": ev["personal"]["pref_accuracy"],
        "pairs": ev["pairs"],
        "drift": ret["drift"],
        "examples_drift": (ret["examples"] or {}).get("drift"),
        "repetition": {m: [h[m]["base"]["repetition"], h[m]["personal"]["repetition"]] for m in h},
        "degenerate": {m: [h[m]["base"]["degenerate"], h[m]["personal"]["degenerate"]] for m in h},
        "length_ratio": {m: h[m]["length_ratio"] for m in h},
        "gate_failures": [f for f in fails if "gate." in f],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--candidate",
        action="append",
        choices=sorted(CANDIDATES),
        help="a candidate to run (repeatable; default: all)",
    )
    ap.add_argument("--recipe", help="run this one recipe (name or path) instead")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp, env = bench_env(None)  # the base model's conversion and references are shared
    pairs = make_ledger(env, tmp)
    todo = (
        [(args.recipe, args.recipe)]
        if args.recipe
        else [(candidate_recipe(c, Path(tmp)), c) for c in (args.candidate or CANDIDATES)]
    )
    results = []
    for recipe, label in todo:
        r = run_one(env, pairs, recipe, label)
        results.append(r)
        if not args.json:
            print(row(r), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


def row(r: dict) -> str:
    rep, deg = r["repetition"], r["degenerate"]
    gate = "passed" if not r["gate_failures"] else "FAILED: " + "; ".join(r["gate_failures"])
    return (
        f"{r['candidate']}: accuracy {r['base_accuracy']:.2f} -> {r['accuracy']:.2f} "
        f"({r['pairs']} pairs); drift {r['drift']} nats/token (examples "
        f"{r['examples_drift']}); repetition greedy {rep['greedy'][0]:.3f} -> "
        f"{rep['greedy'][1]:.3f}, sampled {rep['sampled'][0]:.3f} -> {rep['sampled'][1]:.3f}; "
        f"degenerate greedy {deg['greedy'][0]:.2f} -> {deg['greedy'][1]:.2f}, sampled "
        f"{deg['sampled'][0]:.2f} -> {deg['sampled'][1]:.2f}; length ratio "
        f"{r['length_ratio']['greedy']}/{r['length_ratio']['sampled']}; training "
        f"{r['train_seconds']:.0f} s (whole ga train {r['wall_seconds']:.0f} s, evaluation "
        f"{r['eval_seconds'] or 0:.0f} s = {(r['eval_seconds'] or 0) / r['wall_seconds']:.0%}); "
        f"gate {gate}"
    )


if __name__ == "__main__":
    main()
