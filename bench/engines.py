"""llama.cpp against transformers on the same model, prompt and threads: decode tokens/s and time
to first token, through ga's own backends (what `ga ask` streams), interleaved.

The embedded SmolLM2-135M-Instruct: llama.cpp runs its GGUF file (Q4_1), transformers the
dequantised Hugging Face folder converted from it. Both generate greedily with no repetition
penalty and no stop before the token count (a prompt that asks for a long answer). With --run, a
trained registry run too (base + its LoRA adapter: PEFT on transformers, the adapter converted to
a GGUF adapter on llama.cpp). Then evaluation's batch generation: 16 probe prompts answered
together (`generate_batch`, 64 tokens) by transformers (left-padded batch, fp32) and by llama.cpp
(one decode per step for all, f16 weights as trained): aggregate tokens/s.

Usage: python bench/engines.py [--tokens 128] [--runs 3] [--threads N] [--run RUN_DIR]
                               [--gguf FILE ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from streaming import summarise, timed_stream

PROMPT = "Write a long story about a lighthouse keeper and a storm, in many paragraphs."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--run", type=Path, default=None, help="a registry run folder")
    ap.add_argument(
        "--gguf", type=Path, action="append", default=[], help="another GGUF (e.g. an export)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("GA_HOME", tempfile.mkdtemp())
    if args.threads:
        os.environ["GA_THREADS"] = str(args.threads)
    from ga_cli import models
    from ga_cli.models import threads
    from ga_cli.models.base import GenerationParams

    engines = {
        "transformers": models.load("embedded", engine="transformers"),
        "llama.cpp": models.load("embedded", engine="llama.cpp"),
    }
    if args.run:
        base = json.loads((args.run / "run.json").read_text())["base_model_path"]
        adapter = str(args.run / "adapter")
        engines["transformers+adapter"] = models.load(base, adapter, engine="transformers")
        engines["llama.cpp+adapter"] = models.load(base, adapter, engine="llama.cpp")
    for extra in args.gguf:
        engines[f"llama.cpp {extra.name}"] = models.load(str(extra), engine="llama.cpp")
    messages = [{"role": "user", "content": PROMPT}]
    params = GenerationParams(temperature=0.0, max_tokens=args.tokens)
    made: dict[str, int] = {}

    def run(name: str) -> tuple[float, float, int]:
        backend = engines[name]
        sample = timed_stream(backend.stream(messages, params))
        made[name] = backend.usage.completion_tokens
        return sample

    for name in engines:
        run(name)  # warm-up
    rows: dict[str, list[tuple[float, float, int]]] = {name: [] for name in engines}
    for _ in range(args.runs):  # interleaved, so drift hits both alike
        for name in engines:
            rows[name].append(run(name))
    result = {
        name: summarise(samples, made[name]) | {"tokens": made[name]}
        for name, samples in rows.items()
    }
    fast, slow = result["llama.cpp"], result["transformers"]
    out = {
        "threads": threads.count(),
        "runs": args.runs,
        "engines": result,
        "decode_speedup": fast["decode_tok_s"] / slow["decode_tok_s"],
        "ttft_speedup": slow["ttft_s"] / max(fast["ttft_s"], 1e-9),
        "target_decode_speedup": 5.0,
    }
    if args.run:
        out["adapter_decode_speedup"] = (
            result["llama.cpp+adapter"]["decode_tok_s"]
            / result["transformers+adapter"]["decode_tok_s"]
        )
    out["batch"] = batch_generation(models, args.runs)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"embedded SmolLM2-135M-Instruct, {out['threads']} threads, medians of {args.runs}:")
    for name, r in result.items():
        print(
            f"  {name:<22} TTFT {r['ttft_s'] * 1000:7.1f} ms   "
            f"decode {r['decode_tok_s']:6.1f} tok/s   ({r['tokens']} tokens)"
        )
    print(
        f"  llama.cpp decodes {out['decode_speedup']:.1f}x faster (target >= 5x: "
        f"{'met' if out['decode_speedup'] >= 5 else 'NOT met'}), first token "
        f"{out['ttft_speedup']:.1f}x sooner"
    )
    if args.run:
        print(f"  with the adapter: {out['adapter_decode_speedup']:.1f}x")
    b = out["batch"]
    print(
        f"  evaluation batch ({b['prompts']} prompts, {b['max_tokens']} tokens): transformers "
        f"{b['transformers_tok_s']:.1f} tok/s, llama.cpp {b['llama_cpp_tok_s']:.1f} tok/s "
        f"({b['speedup']:.1f}x)"
    )


def batch_generation(models, runs: int) -> dict:
    """generate_batch on 16 probe prompts, each engine `runs` times interleaved (medians)."""
    import statistics

    from ga_cli.models.base import GenerationParams
    from ga_cli.training import retention

    convs = [retention.user_turn(p["prompt"]) for p in retention.probes()[:16]]
    params = GenerationParams(temperature=0.0, max_tokens=64)
    engines = {
        "transformers": models.load("embedded", engine="transformers"),
        "llama.cpp": models.load("embedded", engine="llama.cpp", exact=True),
    }
    speeds: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(runs):
        for name, backend in engines.items():
            t0 = time.perf_counter()
            made = sum(n for _, _, n in backend.generate_batch(convs, params))
            speeds[name].append(made / (time.perf_counter() - t0))
    slow, fast = (statistics.median(speeds[n]) for n in ("transformers", "llama.cpp"))
    return {
        "prompts": len(convs),
        "max_tokens": params.max_tokens,
        "transformers_tok_s": slow,
        "llama_cpp_tok_s": fast,
        "speedup": fast / slow,
    }


if __name__ == "__main__":
    main()
