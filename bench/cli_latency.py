"""How fast ga starts, as ratios against baselines run in the same process, on the same machine.

  ga --help          vs  python -c "import typer, rich"          (target <= 1.5x)
  ga values add X    vs  git add <file> && git commit -m ...       (target <= 3x)
  ga ask "hi" --max-tokens 8 (embedded model, llama.cpp, no server)
                     vs  python -c: import llama_cpp, load the same GGUF, generate 8 tokens
                                                                   (target <= 1.3x, < 2 s)

Usage: python bench/cli_latency.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(cmd: list[str] | str, env: dict, cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd,
        env=env,
        cwd=cwd,
        shell=isinstance(cmd, str),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def median_of(fn, runs: int) -> float:
    fn()  # warm the page cache
    return statistics.median(fn() for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ga = str(Path(sys.executable).with_name("ga"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GA_HOME": tmp,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.path.join(tmp, "gitconfig"),
        }
        subprocess.run(
            [ga, "init", "--name", "bench", "--email", "b@x"],
            env=env,
            check=True,
            capture_output=True,
        )
        plain = Path(tmp) / "plain"
        subprocess.run(["git", "init", "-q", str(plain)], check=True)
        for key, value in (("user.name", "b"), ("user.email", "b@x")):
            subprocess.run(["git", "-C", str(plain), "config", key, value], check=True)
        counter = iter(range(10**6))

        def git_commit() -> float:
            n = next(counter)
            (plain / f"v{n}.md").write_text(f"---\nid: v-{n:08x}\n---\nValue {n}.\n")
            return timed(f"git add v{n}.md && git commit -q -m 'Add value {n}.'", env, str(plain))

        # the baseline generates from the same prompt tokens `ga ask hi` sends (system prompt
        # from the ledger, chat template): only ga's own work differs
        from ga_cli.models.llamacpp import LlamaCppBackend

        shown = subprocess.run(
            [ga, "prompt", "show", "hi", "--json"], env=env, check=True, capture_output=True
        )
        messages = json.loads(shown.stdout)["messages"]
        from ga_cli.models import embedded

        gguf = str(embedded.gguf_path())
        ids = LlamaCppBackend(gguf).prompt_ids(messages)
        bare_ask = (
            f"import llama_cpp; m = llama_cpp.Llama(model_path={gguf!r}, n_ctx=8192, "
            f"verbose=False); g = m.generate({ids!r}, temp=0.0, top_k=0, min_p=0.0)\n"
            "for _ in range(8): next(g)"
        )
        results = {
            "ask": {
                "ga": median_of(
                    lambda: timed(
                        [
                            ga,
                            "ask",
                            "hi",
                            "--max-tokens",
                            "8",
                            "--no-server",
                            "--engine",
                            "llama.cpp",
                        ],
                        env,
                    ),
                    args.runs,
                ),
                "baseline": median_of(
                    lambda: timed([sys.executable, "-c", bare_ask], env), args.runs
                ),
                "target": 1.3,
            },
            "help": {
                "ga": median_of(lambda: timed([ga, "--help"], env), args.runs),
                "baseline": median_of(
                    lambda: timed([sys.executable, "-c", "import typer, rich"], env), args.runs
                ),
                "target": 1.5,
            },
            "values_add": {
                "ga": median_of(
                    lambda: timed([ga, "values", "add", f"Value {next(counter)}."], env), args.runs
                ),
                "baseline": median_of(git_commit, args.runs),
                "target": 3.0,
            },
        }
    for r in results.values():
        r["ratio"] = r["ga"] / r["baseline"]
        r["meets_target"] = r["ratio"] <= r["target"]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, r in results.items():
        print(
            f"{name:<11} ga {r['ga'] * 1000:7.1f} ms   baseline {r['baseline'] * 1000:7.1f} ms   "
            f"ratio {r['ratio']:.2f}x (target <= {r['target']}x: "
            f"{'met' if r['meets_target'] else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
