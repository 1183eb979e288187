"""ga serve against in-process generation and against llama-cpp-python's own server.

Part `inprocess`, on the same model and prompt, in one run:
  - time to first token and decode tokens/s: streaming through the server (official openai
    client) vs backend.stream() in this process (ratio; target <= 1.10),
  - `ga ask` end to end with a warm server vs with --no-server (ratio).
Part `clients` (issue 28), `ga serve --engine llama.cpp` and `python -m llama_cpp.server` on
the same GGUF with the same threads and context, one after the other:
  - one client: TTFT and decode tokens/s (median of --runs),
  - aggregate tokens/s with 1, 2, 4 and 8 concurrent streaming clients (each asks its own
    question, greedy, --tokens each; tokens counted as content chunks on both servers),
  - ga serve's resident memory idle after loading and at its peak (VmRSS, VmHWM).
llama_cpp.server needs fastapi, which ga does not: `make bench-anchor` puts it in
.venv/anchor, which this script adds to that server's PYTHONPATH only.

Usage: python bench/serve.py [--part inprocess|clients|all] [--model embedded] [--tokens 48]
       [--runs 3] [--clients 1,2,4,8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from streaming import summarise, timed_stream

MESSAGES = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "Give three tips for writing clear commit messages."},
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["inprocess", "clients", "all"], default="all")
    ap.add_argument("--model", default="embedded")
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["GA_HOME"] = tempfile.mkdtemp()
    if args.part in ("inprocess", "all"):
        inprocess(args)
    if args.part in ("clients", "all"):
        from serve_clients import compare

        compare([int(k) for k in args.clients.split(",")], args.tokens, args.runs, args.json)


def inprocess(args: argparse.Namespace) -> None:
    ga = os.path.join(os.path.dirname(sys.executable), "ga")
    subprocess.run([ga, "init"], check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [ga, "serve", "--port", str(port), "--model", args.model],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import httpx
    from openai import OpenAI

    from ga_cli import models
    from ga_cli.models.base import ANSWER_REPETITION_PENALTY, GenerationParams

    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    client = OpenAI(base_url=base + "/v1", api_key="x")
    backend = models.load(args.model)
    # the server applies the answer defaults (repetition penalty): the same here
    params = GenerationParams(
        temperature=0.0, max_tokens=args.tokens, repetition_penalty=ANSWER_REPETITION_PENALTY
    )

    def via_server():
        stream = client.chat.completions.create(
            model="ga-personal",
            messages=MESSAGES,
            max_tokens=args.tokens,
            temperature=0,
            stream=True,
        )
        return timed_stream(c.choices[0].delta.content or "" for c in stream if c.choices)

    def in_process():
        return timed_stream(backend.stream(MESSAGES, params))

    via_server(), in_process()  # warm both
    rows = {"server": [], "in_process": []}
    for _ in range(args.runs):
        rows["server"].append(via_server())
        rows["in_process"].append(in_process())
    n = backend.usage.completion_tokens

    srv, loc = summarise(rows["server"], n), summarise(rows["in_process"], n)

    def ask(*extra: str) -> float:
        t = time.perf_counter()
        subprocess.run(
            [ga, "ask", "hello", "--max-tokens", "8", "--temperature", "0", *extra],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t

    warm = statistics.median(ask() for _ in range(args.runs))
    cold = statistics.median(ask("--no-server", "--model", args.model) for _ in range(args.runs))
    server.terminate()
    server.wait()
    result = {
        "tokens": n,
        "server": srv,
        "in_process": loc,
        "ttft_ratio": srv["ttft_s"] / loc["ttft_s"],
        "decode_slowdown": loc["decode_tok_s"] / srv["decode_tok_s"],
        "ask_warm_server_s": warm,
        "ask_no_server_s": cold,
        "ask_ratio": warm / cold,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{n} tokens, median of {args.runs}")
    print(
        f"TTFT    server {srv['ttft_s'] * 1000:7.1f} ms  in-process {loc['ttft_s'] * 1000:7.1f} ms"
        f"  ratio {result['ttft_ratio']:.2f}x (target <= 1.10)"
    )
    print(
        f"decode  server {srv['decode_tok_s']:7.1f} tok/s in-process {loc['decode_tok_s']:7.1f} "
        f"tok/s  slowdown {result['decode_slowdown']:.2f}x (target <= 1.10)"
    )
    print(f"ga ask  warm server {warm:.2f} s, --no-server {cold:.2f} s: {result['ask_ratio']:.2f}x")


if __name__ == "__main__":
    main()
