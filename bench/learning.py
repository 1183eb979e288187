"""Does ga learn its principal, and what does it cost? Recipes compared on every suite.

For each suite of bench/suites.py (`taste`, `formats`, `style`: three lexical suites of three
themes each; `behaviours`: clarify, false premises, no hedging) it makes a fresh ledger (the
suite's values, examples and 30 corrections), trains each candidate recipe on it with
`ga train --full`, and reads the run: held-out preference accuracy per theme, base -> personal,
on the suite's prompts on new topics (scored in this process under the ledger's system prompt,
as ga chat uses the model); drift on the general probe set (nats/token vs the base), greedy and
sampled repetition and degenerate outputs, the retention gate's verdict, training seconds.
Candidates are cpu-default with overrides (CANDIDATES); `--recipe` runs recipe files or names.

A recipe default changes only when it is no worse than the shipped one on every suite, in
held-out accuracy and the retention gate (issue 16); `--table` prints the whole table for
docs/benchmarks.md. Targets (issue 7): accuracy >= 0.95 and the gate passed on a lexical suite;
training under 15 minutes.

Usage: python bench/learning.py [--suite NAME ...] [--candidate NAME ...] [--recipe NAME|PATH ...]
                                [--json | --table]
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
from suites import SUITES, Suite

CANDIDATES: dict[str, dict] = {  # name -> overrides of the shipped cpu-default
    "cpu-default": {},
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
    "chosen-x3": {"sft": {"chosen_repeats": 3}},  # issue 16: more weight on your answers
    "chosen-x2": {"sft": {"chosen_repeats": 2}},  # the same with more room under the gate
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


def correct(env: dict, prompt: str, good: str, bad: str, why: str, *flags: str) -> None:
    """One `ga correct`; the bench stops on the first that fails."""
    r = ga(
        env, "correct", "--prompt", prompt, "--rejected", bad, "--better", good, "--why", why,
        *flags,
    )  # fmt: skip
    if r.returncode:
        sys.exit(r.stderr)


def make_ledger(env: dict, suite: Suite, tmp: str) -> None:
    must(ga(env, "init", "--name", "Sam"))
    for value in suite.values:
        must(ga(env, "values", "add", value))
    for prompt, answer in suite.examples:
        Path(tmp, "answer.txt").write_text(answer)
        must(ga(env, "example", "add", "--prompt", prompt, str(Path(tmp, "answer.txt"))))
    for theme, rows in suite.train.items():
        for prompt, good, bad in rows:
            correct(env, prompt, good, bad, suite.why_of(theme))


def must(r: subprocess.CompletedProcess) -> str:
    if r.returncode:
        sys.exit(r.stderr[-3000:])
    return str(r.stdout)


def theme_accuracy(env: dict, run: dict, folder: Path, themes: dict) -> dict:
    """Held-out preference accuracy per theme, base and personal, under the ledger's system
    prompt (the dataset's), scored in this process: one load of each side for every theme."""
    from ga_cli import registry
    from ga_cli.training import compare as C

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


def candidate_recipe(name: str, folder: Path) -> str:
    from ga_cli.training import recipe as R

    data = R.load("cpu-default").to_json()
    for section, values in CANDIDATES[name].items():
        data[section].update(values)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data, indent=1))  # JSON is YAML
    return str(path)


def run_one(env: dict, suite: Suite, folder: Path, recipe: str, label: str) -> dict:
    t = time.perf_counter()
    info = json.loads(must(ga(env, "train", "--recipe", recipe, "--full", "--force", "--json")))
    seconds = time.perf_counter() - t
    themes = theme_accuracy(env, info, folder, suite.heldout)
    n = {t: len(rows) for t, rows in suite.heldout.items()}
    ret = info["eval"]["retention"]
    h = ret["health"]
    fails = (
        []
        if info["promotion"].startswith("held-out")
        else info["promotion"].removesuffix(" (forced)").split("; ")
    )
    return {
        "suite": suite.name,
        "candidate": label,
        "train_seconds": info["train_seconds"],
        "eval_seconds": info.get("eval_seconds"),
        "wall_seconds": round(seconds, 1),
        "durations": info["durations"],
        "base_accuracy": sum(themes[t]["base"] * n[t] for t in n) / sum(n.values()),
        "accuracy": sum(themes[t]["personal"] * n[t] for t in n) / sum(n.values()),
        "themes": themes,
        "pairs": sum(n.values()),
        "past_right": "{fixed}/{n}".format(
            fixed=info["eval"]["after"]["fixed"],
            n=info["eval"]["after"]["fixed"] + info["eval"]["after"]["wrong"],
        ),
        "regressions": len(info["eval"].get("regressions") or []),
        "drift": ret["drift"],
        "examples_drift": (ret["examples"] or {}).get("drift"),
        "repetition": {m: [h[m]["base"]["repetition"], h[m]["personal"]["repetition"]] for m in h},
        "degenerate": {m: [h[m]["base"]["degenerate"], h[m]["personal"]["degenerate"]] for m in h},
        "length_ratio": {m: h[m]["length_ratio"] for m in h},
        "gate_failures": [f for f in fails if "gate." in f],
        "refused": info["promotion"].endswith("(forced)"),
        "checkpoint": info.get("checkpoint"),  # the epoch kept when the final model failed
        "checkpoint_seconds": sum(
            m.get("checkpoint_seconds", 0.0) for m in info["metrics"].values()
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--suite", action="append", choices=sorted(SUITES), help="a suite (repeatable; all)"
    )
    ap.add_argument(
        "--candidate",
        action="append",
        choices=sorted(CANDIDATES),
        help="a candidate to run (repeatable; default: cpu-default)",
    )
    ap.add_argument("--recipe", action="append", help="a recipe name or path (repeatable)")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--table", action="store_true", help="a markdown table at the end")
    args = ap.parse_args()
    results = []
    for suite in [SUITES[s] for s in args.suite or SUITES]:
        tmp, env = bench_env(None)  # the base model's conversion and references are shared
        make_ledger(env, suite, tmp)
        todo = [(r, r) for r in args.recipe or []] + [
            (candidate_recipe(c, Path(tmp)), c)
            for c in args.candidate or ([] if args.recipe else ["cpu-default"])
        ]
        for recipe, label in todo:
            r = run_one(env, suite, Path(tmp), recipe, label)
            results.append(r)
            print(row(r), file=sys.stderr if args.json else sys.stdout, flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    elif args.table:
        print(table(results))


def row(r: dict) -> str:
    rep, deg = r["repetition"], r["degenerate"]
    gate = "passed" if not r["gate_failures"] else "FAILED: " + "; ".join(r["gate_failures"])
    themes = ", ".join(f"{t} {v['base']:.2f}->{v['personal']:.2f}" for t, v in r["themes"].items())
    return (
        f"{r['suite']} / {r['candidate']}: accuracy {r['base_accuracy']:.2f} -> "
        f"{r['accuracy']:.2f} ({r['pairs']} pairs: {themes}); past corrections right "
        f"{r['past_right']}, regressions {r['regressions']}; drift {r['drift']} nats/token "
        f"(examples {r['examples_drift']}); repetition greedy {rep['greedy'][0]:.3f} -> "
        f"{rep['greedy'][1]:.3f}, sampled {rep['sampled'][0]:.3f} -> {rep['sampled'][1]:.3f}; "
        f"degenerate greedy {deg['greedy'][0]:.2f} -> {deg['greedy'][1]:.2f}, sampled "
        f"{deg['sampled'][0]:.2f} -> {deg['sampled'][1]:.2f}; length ratio "
        f"{r['length_ratio']['greedy']}/{r['length_ratio']['sampled']}; training "
        f"{r['train_seconds']:.0f} s (whole ga train {r['wall_seconds']:.0f} s); gate {gate}"
        + ("; REFUSED" if r["refused"] else "; promoted")
        + (f"; {_kept(r['checkpoint'])}" if r["checkpoint"] else "")
        + f"; saving checkpoints {r['checkpoint_seconds']:.1f} s"
    )


def _kept(c: dict) -> str:
    later = "; ".join(f"{x['model']}: {x['why']}" for x in c["refused"])
    return f"kept {c['kept'] or 'no checkpoint'} after {c['seconds']:.0f} s ({later})"


def table(results: list[dict]) -> str:
    """Candidates down, suites across: accuracy base -> personal, drift, gate, training s."""
    suites = list(dict.fromkeys(r["suite"] for r in results))
    lines = [
        "| candidate | " + " | ".join(suites) + " |",
        "| --- |" + " --- |" * len(suites),
    ]
    for cand in dict.fromkeys(r["candidate"] for r in results):
        cells = []
        for s in suites:
            r = next((x for x in results if x["candidate"] == cand and x["suite"] == s), None)
            gate = "" if r is None or not r["gate_failures"] else ", **gate fails**"
            if r is not None and r.get("checkpoint"):
                gate += f", kept {r['checkpoint']['kept']}"
            cells.append(
                "—"
                if r is None
                else f"{r['base_accuracy']:.2f} -> {r['accuracy']:.2f}, drift {r['drift']:.3f}"
                f"{gate}, {r['train_seconds']:.0f} s"
            )
        lines.append(f"| {cand} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
