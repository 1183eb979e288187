"""`ga build` at scale: ledgers of 1k, 10k and 100k entries with multi-commit histories.

For each size: build time, entries/s and peak memory (RSS of the building process), and the
growth ratio 100k time / 10k time (target <= 12; target 100k build < 60 s on 2 cores).

Usage: python bench/build_scale.py [--sizes 1000,10000,100000] [--tokenizer embedded] [--json]
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

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from ga_cli.dataset.build import Settings, build
t = time.perf_counter()
r = build(Path(sys.argv[1]), "HEAD", Path(sys.argv[2]), Settings(tokenizer=sys.argv[3]), force=True)
elapsed = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_rss_mb": rss,
                  "sft": sum(r.manifest["counts"]["sft"].values()),
                  "prefs": sum(r.manifest["counts"]["prefs"].values())}))
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def make_ledger(root: Path, n: int, commits: int = 10) -> None:
    """n entries (70% corrections, 20% examples, 10% values) over `commits` commits, with
    some edits and re-corrections in later commits, as a long-used ledger has."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "bench")
    git(root, "config", "user.email", "b@x")
    git(root, "config", "gc.auto", "0")  # a detached auto-gc must not race the next commit
    (root / "principal.yaml").write_text("name: Bench\nabout: A benchmark principal.\n")
    per = max(1, n // commits)
    for c in range(commits):
        for i in range(c * per, min(n, (c + 1) * per)):
            ident = f"{i:08x}"
            created = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
            kind = i % 10
            if kind < 7:
                d = root / "corrections" / "2026" / f"{1 + i % 12:02d}"
                d.mkdir(parents=True, exist_ok=True)
                topic = i % (n // 3 + 1)  # about a third of prompts are corrected more than once
                (d / f"c{ident}.yaml").write_text(
                    f"id: c-{ident}\ncreated: '{created}'\nstatus: active\nprovenance: principal\n"
                    f"prompt: Question about topic {topic} in some detail?\n"
                    f"rejected: A vague answer about topic {topic} number {i}.\n"
                    f"chosen: A precise answer about topic {topic}, version {i}, with a reason.\n"
                    f"why: too vague\n"
                )
            elif kind < 9:
                d = root / "examples"
                d.mkdir(exist_ok=True)
                (d / f"e{ident}.md").write_text(
                    f"---\nid: e-{ident}\ncreated: '{created}'\nstatus: active\n"
                    f"provenance: principal\nprompt: Write example {i}\n---\n"
                    f"Example answer {i}, in the principal's voice.\n"
                )
            else:
                d = root / "values"
                d.mkdir(exist_ok=True)
                (d / f"v{ident}.md").write_text(
                    f"---\nid: v-{ident}\ncreated: '{created}'\nstatus: active\n"
                    f"provenance: principal\n---\nValue number {i}: prefer clarity.\n"
                )
        if c > 0:  # edit a few earlier corrections' chosen answers
            for j in range(0, per, max(1, per // 20)):
                i = (c - 1) * per + j
                if i % 10 < 7:
                    p = root / "corrections" / "2026" / f"{1 + i % 12:02d}" / f"c{i:08x}.yaml"
                    if p.exists():
                        p.write_text(
                            p.read_text().replace("with a reason.", "with a better reason.")
                        )
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"Batch {c}.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--tokenizer", default="embedded")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            root = Path(tmp) / f"ledger-{n}"
            t = time.perf_counter()
            make_ledger(root, n)
            made = time.perf_counter() - t
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(root),
                    str(Path(tmp) / f"out-{n}"),
                    args.tokenizer,
                ],
                capture_output=True,
                text=True,
                env={**os.environ},
            )
            if proc.returncode != 0:
                sys.exit(proc.stderr)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r.update(entries=n, entries_per_s=n / r["seconds"], ledger_made_s=made)
            results.append(r)
            if not args.json:
                print(
                    f"{n:>7} entries: build {r['seconds']:6.1f} s, {r['entries_per_s']:8.0f} "
                    f"entries/s, peak RSS {r['peak_rss_mb']:6.0f} MB "
                    f"(sft {r['sft']}, prefs {r['prefs']}; ledger made in {made:.0f} s)"
                )
    by = {r["entries"]: r for r in results}
    growth = by[100000]["seconds"] / by[10000]["seconds"] if {10000, 100000} <= set(by) else None
    if args.json:
        print(json.dumps({"results": results, "growth_100k_over_10k": growth}, indent=2))
    elif growth:
        print(
            f"growth 100k/10k: {growth:.2f}x (target <= 12); 100k build "
            f"{by[100000]['seconds']:.1f} s (target < 60 s)"
        )


if __name__ == "__main__":
    main()
