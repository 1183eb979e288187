"""What the principal's memory costs a request through `ga serve`: the time `system_for` takes
(read the ledger's trusted entries, rank the corrections by BM25, fit the block to the budget,
put it ahead of the client's system prompt) per request, on ledgers of 100 and 1,000
corrections made as bench/build_scale.py makes them, for a remote model (the corrections are
shown to remote models; tiktoken counts). Reports ms per request (median of 20 different
questions after one warm-up) and the 1,000 / 100 ratio.

Usage: python bench/served_memory.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

QUESTIONS = [f"Tell me about topic {i} in a few words, and why it matters." for i in range(20)]


def per_request_ms(corrections: int) -> float:
    from build_scale import make_ledger

    from ga_cli import models
    from ga_cli.ledger.store import Ledger
    from ga_cli.serve.server import _system_for

    root = Path(tempfile.mkdtemp(prefix="ga-memory-")) / "ledger"
    make_ledger(root, int(corrections / 0.7) + 1)  # 70% of its entries are corrections
    os.environ["GA_LEDGER"] = str(root)
    ledger = Ledger.open()
    backend = models.load("openai/bench", api_base="http://127.0.0.1:9/v1")  # never called
    system_for = _system_for(ledger)
    system_for("warm up", backend, "You are an editor's assistant.")
    times = []
    for q in QUESTIONS:
        start = time.perf_counter()
        system = system_for(q, backend, "You are an editor's assistant.")
        times.append((time.perf_counter() - start) * 1000)
        assert system and system.endswith("You are an editor's assistant.")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = {n: per_request_ms(n) for n in (100, 1000)}
    summary = {"ms_per_request": result, "ratio_1000_vs_100": result[1000] / result[100]}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for n, ms in result.items():
        print(f"{n:>5} corrections: {ms:7.1f} ms per request")
    print(f"1,000 / 100: {summary['ratio_1000_vs_100']:.2f}x")


if __name__ == "__main__":
    main()
