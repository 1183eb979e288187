"""ga ask's generation against a bare transformers `generate` on the same model and prompt.

Reports, in one run on one machine:
  - time to first token (TTFT) and decode tokens/s of ga's backend.stream() against a direct
    model.generate() with a TextIteratorStreamer (ratio; target <= 1.10),
  - `ga ask` end to end as a real process, and a breakdown of its start-up
    (imports, model load, prompt build from the ledger).

Usage: python bench/chat_latency.py [--model embedded] [--tokens 64] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from streaming import summarise, timed_stream

QUESTION = "Explain in a short paragraph why version control matters for writers."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    home = tempfile.mkdtemp()
    os.environ["GA_HOME"] = home
    ga = os.path.join(os.path.dirname(sys.executable), "ga")
    subprocess.run([ga, "init", "--name", "Bench"], check=True, capture_output=True)
    subprocess.run(
        [ga, "values", "add", "Keep answers short and concrete."], check=True, capture_output=True
    )

    t0 = time.perf_counter()
    import torch
    from transformers import TextIteratorStreamer

    from ga_cli import models
    from ga_cli.ledger.store import Ledger
    from ga_cli.models.base import GenerationParams
    from ga_cli.prompt import conversation

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    backend = models.load(args.model, engine="transformers")  # the transformers path's overhead
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    prepared = conversation.prepare(
        backend,
        QUESTION,
        context=conversation.ledger_context(Ledger.open()),
        max_tokens=args.tokens,
    )
    t_prompt = time.perf_counter() - t0
    params = GenerationParams(temperature=0.0, max_tokens=args.tokens)
    tok, model = backend.tokenizer, backend.model
    ids = torch.tensor([backend.prompt_ids(prepared.messages)])

    def direct():
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            streamer=streamer,
            max_new_tokens=args.tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=tok.pad_token_id,
        )
        th = threading.Thread(target=lambda: model.generate(**kwargs))
        th.start()
        result = timed_stream(streamer)
        th.join()
        return result

    def via_ga():
        return timed_stream(backend.stream(prepared.messages, params))

    direct()  # warm-up
    rows = {"direct": [], "ga": []}
    for _ in range(args.runs):  # interleaved, so drift hits both alike
        rows["direct"].append(direct())
        rows["ga"].append(via_ga())
    n_tokens = backend.usage.completion_tokens or args.tokens

    d, g = summarise(rows["direct"], n_tokens), summarise(rows["ga"], n_tokens)
    start = time.perf_counter()
    proc = subprocess.run(
        [
            ga,
            "ask",
            QUESTION,
            "--model",
            args.model,
            "--temperature",
            "0",
            "--max-tokens",
            str(args.tokens),
            "--engine",
            "transformers",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    e2e = time.perf_counter() - start
    result = {
        "model": backend.name,
        "tokens": n_tokens,
        "runs": args.runs,
        "direct": d,
        "ga": g,
        "ttft_ratio": g["ttft_s"] / d["ttft_s"],
        "decode_speed_ratio": d["decode_tok_s"] / g["decode_tok_s"],
        "startup_breakdown_s": {
            "imports": t_import,
            "model_load": t_load,
            "prompt_build": t_prompt,
        },
        "ga_ask_end_to_end_s": e2e,
        "ga_ask_ok": proc.returncode == 0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"model {result['model']}, {n_tokens} tokens, median of {args.runs}")
    print(
        f"TTFT        direct {d['ttft_s'] * 1000:7.1f} ms   ga {g['ttft_s'] * 1000:7.1f} ms   "
        f"ratio {result['ttft_ratio']:.2f}x (target <= 1.10)"
    )
    print(
        f"decode      direct {d['decode_tok_s']:7.1f} tok/s ga {g['decode_tok_s']:7.1f} tok/s "
        f"slowdown {result['decode_speed_ratio']:.2f}x (target <= 1.10)"
    )
    b = result["startup_breakdown_s"]
    print(
        f"start-up    imports {b['imports']:.2f} s, model load {b['model_load']:.2f} s, "
        f"prompt build {b['prompt_build'] * 1000:.0f} ms"
    )
    print(f"ga ask end to end (a real process): {e2e:.2f} s")


if __name__ == "__main__":
    main()
