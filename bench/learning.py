"""Does ga learn its principal? Held-out preference accuracy of base vs personal model.

Makes a ledger with 30 corrections across three consistent themes of the principal's taste,
holds out 15 paraphrased prompts (5 per theme) with chosen/rejected answers in the same styles,
trains a recipe (default cpu-default on the embedded SmolLM2-135M) with `ga train`, and scores
both models on the held-out pairs with `ga eval --pairs`.
Target: personal >= 0.85 and >= base + 0.30, training under 15 minutes on 2 cores.

Usage: python bench/learning.py [--recipe cpu-default] [--json]
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

METRIC = [("How far is a marathon?", "A marathon is 42.2 km.", "A marathon is 26.2 miles."),
          ("How tall is Mount Everest?", "About 8,849 m.", "About 29,032 feet."),
          ("What is a comfortable room temperature?", "Around 21 °C.", "Around 70 °F."),
          ("How much does a litre of water weigh?", "1 kg.", "About 2.2 pounds."),
          ("How long is a football pitch?", "About 105 m.", "About 115 yards."),
          ("How heavy is a newborn baby?", "Around 3.5 kg.", "Around 7.5 pounds."),
          ("How fast is highway traffic?", "About 120 km/h.", "About 75 mph."),
          ("How big is a tennis court?", "23.8 m long.", "78 feet long."),
          ("How cold is a freezer?", "About -18 °C.", "About 0 °F."),
          ("How far is the Moon?", "About 384,400 km.", "About 238,900 miles.")]
BRIEF = [("Should I use tabs or spaces?", "Spaces. Match your project.",
          "Well, this is a long-standing debate with many considerations on both sides, and it "
          "really depends on a lot of factors that we could discuss at length."),
         ("Is Python good for scripting?", "Yes.", "Python is a versatile language that many "
          "people find useful for a wide range of tasks including but not limited to scripting."),
         ("Should I back up my laptop?", "Yes, weekly.", "Backing up is generally considered "
          "a good practice by many experts for a variety of reasons that are worth exploring."),
         ("Is coffee bad for sleep?", "Late coffee is.", "There are many factors to consider "
          "when thinking about coffee and sleep, and research has explored this extensively."),
         ("Do I need a password manager?", "Yes.", "Password managers are tools that many "
          "security professionals recommend for a number of different reasons and situations."),
         ("Is walking good exercise?", "Yes, daily.", "Walking is an activity that has been "
          "studied in many contexts and is often described as beneficial in various ways."),
         ("Should I learn Git?", "Yes, now.", "Git is a version control system that has become "
          "quite popular over the years and there are many reasons people choose to learn it."),
         ("Is rice healthy?", "In moderation.", "Rice is a staple food eaten around the world "
          "and its health effects depend on many different factors worth discussing."),
         ("Can I reuse old paint?", "If it stirs smooth.", "Old paint can sometimes be reused "
          "depending on a wide variety of conditions that we should carefully consider."),
         ("Is a standing desk worth it?", "Try one first.", "Standing desks are a topic of "
          "much discussion and there are numerous perspectives to weigh on this question.")]
NEXT = [("I keep procrastinating.", "Set a 10-minute timer and start now. Next step: open the file.",
         "Procrastination is common."),
        ("My code is slow.", "Profile it first. Next step: run py-spy on the slow path.",
         "Slow code happens."),
        ("I can't sleep.", "Cut screens an hour before bed. Next step: set a 22:00 alarm.",
         "Sleep is important."),
        ("My garden is dry.", "Water deeply at dawn. Next step: check the soil tonight.",
         "Gardens need water."),
        ("I feel stuck at work.", "Name one skill to grow. Next step: book a talk with your lead.",
         "Work can be hard."),
        ("My inbox is full.", "Archive all over 30 days. Next step: filter newsletters.",
         "Inboxes fill up."),
        ("I want to read more.", "Read 10 pages a night. Next step: put a book by your bed.",
         "Reading is nice."),
        ("My bike squeaks.", "Oil the chain. Next step: wipe it dry after.", "Bikes squeak."),
        ("I forget names.", "Repeat the name aloud. Next step: use it once in the chat.",
         "Names are hard."),
        ("My desk is messy.", "Clear it fully tonight. Next step: one box for loose paper.",
         "Desks get messy.")]
HELDOUT = [
    ("How long is a half marathon?", "21.1 km.", "13.1 miles."),
    ("How heavy is a bag of flour?", "1 kg.", "2.2 pounds."),
    ("How hot is a sauna?", "About 80 °C.", "About 176 °F."),
    ("How tall is a door?", "About 2 m.", "About 6.5 feet."),
    ("How far can I walk in an hour?", "About 5 km.", "About 3 miles."),
    ("Should I learn Rust?", "Yes, for systems work.", "Rust is a programming language that "
     "many people have found interesting for a variety of reasons worth considering at length."),
    ("Is tea healthy?", "Mostly, yes.", "Tea has been consumed for centuries and there are many "
     "different aspects of its health effects that researchers have studied extensively."),
    ("Should I update my phone?", "Yes, today.", "Updating a phone is something that involves "
     "several considerations, and there are many perspectives on when and how to do it."),
    ("Is running bad for knees?", "Not for most.", "Running and knee health is a complex topic "
     "with many studies and opinions that we could explore in considerable detail."),
    ("Do I need a VPN?", "Only on public Wi-Fi.", "VPNs are tools that have become popular for a "
     "number of reasons, and whether you need one depends on a great many factors."),
    ("I never exercise.", "Walk 15 minutes daily. Next step: put your shoes by the door.",
     "Exercise is good."),
    ("My plants keep dying.", "Water less, more light. Next step: move them to the window.",
     "Plants can die."),
    ("I spend too much.", "Track every purchase for a week. Next step: open a note now.",
     "Spending adds up."),
    ("My tests are flaky.", "Fix the clock and seeds. Next step: rerun the worst one 50 times.",
     "Tests can be flaky."),
    ("I am always late.", "Leave 10 minutes earlier. Next step: set tomorrow's alarm now.",
     "Being late happens."),
]


def ga(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "ga")
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, input=input)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="cpu-default")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "GA_HOME": tmp}
    ga(env, "init", "--name", "Sam")
    ga(env, "values", "add", "Use metric units.")
    ga(env, "values", "add", "Answer briefly.")
    ga(env, "values", "add", "End advice with one concrete next step.")
    for theme, rows in (("metric", METRIC), ("brief", BRIEF), ("next-step", NEXT)):
        for prompt, good, bad in rows:
            r = ga(env, "correct", "--prompt", prompt, "--rejected", bad, "--better", good,
                   "--why", theme)
            if r.returncode:
                sys.exit(r.stderr)
    pairs = Path(tmp) / "heldout-paraphrases.jsonl"
    pairs.write_text("".join(json.dumps({"id": f"h{i}", "prompt": p, "chosen": c, "rejected": r})
                             + "\n" for i, (p, c, r) in enumerate(HELDOUT)))
    t = time.perf_counter()
    trained = ga(env, "train", "--recipe", args.recipe, "--force", "--json")
    seconds = time.perf_counter() - t
    if trained.returncode:
        sys.exit(trained.stderr[-3000:])
    info = json.loads(trained.stdout)
    ev = json.loads(ga(env, "eval", "--pairs", str(pairs), "--json").stdout)
    result = {"recipe": args.recipe, "train_seconds": info["train_seconds"],
              "wall_seconds": round(seconds, 1), "durations": info["durations"],
              "base_accuracy": ev["base"]["pref_accuracy"],
              "personal_accuracy": ev["personal"]["pref_accuracy"], "pairs": ev["pairs"]}
    result["meets_target"] = (result["personal_accuracy"] >= 0.85
                              and result["personal_accuracy"] >= result["base_accuracy"] + 0.30
                              and seconds < 900)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"recipe {args.recipe}: training {info['train_seconds']:.0f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in info['durations'].items())}), "
          f"whole ga train {seconds:.0f} s")
    print(f"held-out paraphrases ({ev['pairs']} pairs): base {result['base_accuracy']:.2f}, "
          f"personal {result['personal_accuracy']:.2f} "
          f"(target >= 0.85 and >= base + 0.30: {'met' if result['meets_target'] else 'NOT met'})")


if __name__ == "__main__":
    main()
