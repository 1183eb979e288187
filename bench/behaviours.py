"""Does ga learn behaviours, not wordings? The behaviour suite (bench/behaviour_suite.py), trained
and checked in what the model says (issue 16).

Makes a ledger with the suite's three values and 30 corrections (clarify when ambiguous, say when
a premise is false, no boilerplate hedging), trains it with `ga train`, then per theme runs
`ga eval --pairs THEME --generate --no-retention --json` on the held-out prompts (new topics,
with controls) and reports, base -> personal: log-prob preference accuracy, generation compliance
by the theme's rule (on an answer the offline judge finds usable), answers closer to chosen than
to rejected (the offline judge), answers that copy the prompt's scaffolding; and the
training time, drift and retention gate of the run. `--modes` repeats the evaluation under each
`prompt_corrections` mode (past corrections in the system prompt as pairs, chosen only, or off).

Quality bar (issue 16): personal compliance >= 0.8 on each theme where the base is <= 0.3,
log-prob accuracy >= 0.9, retention gate passed, training <= 15 minutes.

Issue 16 item 3's candidates: `--paraphrases` adds bench/behaviour_paraphrases.py's 30
hand-written paraphrases as approved teacher proposals (no teacher is reachable here);
`--lessons` records each correction with `--lesson` (its why kept as a lesson: one per theme,
in the system prompt and the training data); `--recipe` with `sft.chosen_repeats` > 1.

Usage: python bench/behaviours.py [--recipe NAME|PATH] [--home DIR] [--modes pairs,chosen,off]
                                  [--lessons] [--paraphrases] [--answers FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import behaviour_suite as S
from learning import bench_env, correct, ga

from ga_cli.training import judge


def must(r: subprocess.CompletedProcess) -> str:
    if r.returncode:
        sys.exit(r.stderr[-3000:])
    return r.stdout


def make_ledger(env: dict, lessons: bool = False) -> None:
    must(ga(env, "init", "--name", "Sam"))
    for v in S.VALUES:
        must(ga(env, "values", "add", v))
    for theme, rows in S.TRAIN.items():
        for prompt, good, bad in rows:
            correct(env, prompt, good, bad, S.WHY[theme], *(["--lesson"] if lessons else []))


def add_paraphrases(env: dict) -> None:
    """The hand-written stand-ins for a teacher's paraphrases, stored as approved teacher
    proposals (derived examples), one commit, through ga's own ledger API."""
    import os

    from behaviour_paraphrases import PARAPHRASES

    from ga_cli.ledger import entries as E
    from ga_cli.ledger.store import Ledger

    os.environ["GA_HOME"] = env["GA_HOME"]
    ledger = Ledger.open()
    made = []
    for theme, rows in PARAPHRASES.items():
        for prompt, answer in rows:
            e = E.new_entry(
                "derived",
                {"type": "example", "source": f"paraphrase of the {theme} corrections"},
                provenance="teacher",
            )
            e.meta.update({"prompt": prompt, "chosen": answer, "approved": E.now_iso()})
            made.append(e)
    ledger.change(f"bench: {len(made)} approved paraphrases", {e.path: e.render() for e in made})


def theme_files(folder: Path) -> dict[str, Path]:
    """One --pairs file per theme, without `system`: scored and answered under the ledger's
    own chat prompt."""
    out = {}
    for theme in S.TRAIN:
        path = folder / f"heldout-{theme}.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "id": f"{theme}-{i:02d}-{rule}",
                        "prompt": p,
                        "chosen": c,
                        "rejected": r,
                        "why": S.WHY[theme],
                    }
                )
                + "\n"
                for i, (t, rule, p, c, r) in enumerate(S.HELDOUT)
                if t == theme
            )
        )
        out[theme] = path
    return out


def evaluate(env: dict, files: dict[str, Path]) -> dict:
    per_theme = {}
    for theme, path in files.items():
        ev = json.loads(
            must(ga(env, "eval", "--pairs", str(path), "--generate", "--no-retention", "--json"))
        )
        answers = ev["generation"]["answers"]
        rule = {a["id"]: a["id"].rsplit("-", 1)[1] for a in answers}
        per_theme[theme] = {
            "prompts": len(answers),
            "accuracy": [ev["base"]["pref_accuracy"], ev["personal"]["pref_accuracy"]],
            # the theme's rule, on an answer the judge finds usable (not a loop, not the
            # prompt's scaffolding copied: "- Q: ... A: He didn't" must not count as a denial)
            "complies": [
                sum(
                    S.complies(rule[a["id"]], a[side], a["prompt"]) and judge.usable(a[side])
                    for a in answers
                )
                / len(answers)
                for side in ("base", "personal")
            ],
            "copies": [
                sum(bool(judge.SCAFFOLD.search(a[side])) for a in answers) / len(answers)
                for side in ("base", "personal")
            ],
            "closer": [ev["generation"]["base_follows"], ev["generation"]["personal_follows"]],
            "answers": answers,
        }
    return per_theme


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="cpu-default")
    ap.add_argument(
        "--home", help="the GA_HOME to use (kept); its training is reused when there is one"
    )
    ap.add_argument("--modes", default="", help="prompt_corrections modes to evaluate under")
    ap.add_argument("--answers", type=Path, help="write every answer here (JSON)")
    ap.add_argument(
        "--lessons", action="store_true", help="each correction's why kept as a lesson too"
    )
    ap.add_argument(
        "--paraphrases",
        action="store_true",
        help="30 approved paraphrases (bench/behaviour_paraphrases.py) beside the corrections",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home, env = bench_env(args.home)
    if not Path(home, "train.json").is_file():
        make_ledger(env, args.lessons)
        if args.paraphrases:
            add_paraphrases(env)
        t = time.perf_counter()
        info = json.loads(must(ga(env, "train", "--recipe", args.recipe, "--force", "--json")))
        info["wall_seconds"] = time.perf_counter() - t
        Path(home, "train.json").write_text(json.dumps(info))
    info = json.loads(Path(home, "train.json").read_text())
    files = theme_files(Path(home))
    results = {}
    for mode in [m for m in args.modes.split(",") if m] or [None]:
        if mode:
            must(ga(env, "config", "set", "prompt_corrections", mode))
        results[mode or "default"] = evaluate(env, files)
    if args.modes:
        must(ga(env, "config", "set", "prompt_corrections", "null"))
    ret = info["eval"]["retention"]
    summary = {
        "recipe": args.recipe,
        "lessons": args.lessons,
        "paraphrases": args.paraphrases,
        "train_seconds": info["train_seconds"],
        "wall_seconds": round(info.get("wall_seconds", 0), 1),
        "drift": ret["drift"],
        "gate": "passed" if info["promotion"].startswith("held-out") else info["promotion"],
        "checkpoint": info.get("checkpoint"),  # the epoch kept when the final model failed
        "modes": {
            m: {t: {k: v for k, v in r.items() if k != "answers"} for t, r in per.items()}
            for m, per in results.items()
        },
    }
    if args.answers:
        args.answers.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    if args.json:
        print(json.dumps(summary, indent=1))
        return
    print(
        f"recipe {args.recipe}: training {summary['train_seconds']:.0f} s (whole ga train "
        f"{summary['wall_seconds']:.0f} s), drift {summary['drift']}, gate {summary['gate']}"
        + (f"; checkpoint: {json.dumps(summary['checkpoint'])}" if summary["checkpoint"] else "")
    )
    for mode, per in summary["modes"].items():
        for theme, r in per.items():
            (ba, pa), (bc, pc), (bf, pf) = r["accuracy"], r["complies"], r["closer"]
            bs, ps = r["copies"]
            print(
                f"  {mode:>7} {theme:>8}: log-prob accuracy {ba:.2f} -> {pa:.2f}; complies "
                f"{bc:.2f} -> {pc:.2f}; closer to chosen {bf:.2f} -> {pf:.2f}; copies the "
                f"prompt's scaffolding {bs:.2f} -> {ps:.2f} ({r['prompts']} prompts)"
            )


if __name__ == "__main__":
    main()
