"""`ga serve --engine llama.cpp` and llama-cpp-python's own server, side by side on the same
GGUF, threads and context: one client, then 1, 2, 4 and 8 concurrent streaming clients
(bench/serve.py's `clients` part; run it from there)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

QUESTIONS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle works, step by step.",
    "Describe a day at a busy market.",
    "Give advice to someone learning to cook.",
    "Tell me about the history of trains.",
    "Describe the ocean to someone who has never seen it.",
    "Write a letter to a friend about a trip to the mountains.",
    "Explain why the sky changes colour at sunset.",
]
ANCHOR = Path(__file__).resolve().parent.parent / ".venv" / "anchor"
# llama_cpp.server as shipped segfaults on its first chat request on a CPU with AMX (the Q4
# weights repacked into llama.cpp's extra buffer types; see llamacpp_params.plain_buffers): it
# runs here with the plain-buffer load ga itself uses, and is otherwise untouched
LAUNCH = (
    "import runpy, sys, llama_cpp.llama_cpp as C\n"
    "default = C.llama_model_default_params\n"
    "def plain():\n    p = default(); p.use_extra_bufts = False; return p\n"
    "C.llama_model_default_params = plain\n"
    "sys.argv[0] = 'llama_cpp.server'\n"
    "runpy.run_module('llama_cpp.server', run_name='__main__')\n"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, field: str) -> float:
    """VmRSS or VmHWM of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _stream(base: str, model: str, question: str, tokens: int) -> tuple[float, float, int]:
    """(seconds to the first content, seconds in all, content chunks) of one streamed answer."""
    import httpx

    body = {
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
    }
    start, first, chunks = time.perf_counter(), None, 0
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=600) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            if (choices[0].get("delta") or {}).get("content"):
                chunks += 1
                if first is None:
                    first = time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start, chunks


def _together(base: str, model: str, k: int, tokens: int) -> dict[str, float]:
    """k clients at once, each its own question: content chunks per second over them all."""
    counts: list[int] = []
    barrier = threading.Barrier(k + 1)

    def one(i: int) -> None:
        barrier.wait()
        counts.append(_stream(base, model, QUESTIONS[i % len(QUESTIONS)], tokens)[2])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(k)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {"clients": k, "tokens": sum(counts), "seconds": wall, "tok_s": sum(counts) / wall}


def _measure(name: str, cmd: list[str], env: dict[str, str], model: str, port: int, args: dict):
    import httpx

    log = tempfile.TemporaryFile()  # noqa: SIM115 (read on failure; llama.cpp fills pipes)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            sys.exit(f"{name} did not start: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(base + "/v1/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    time.sleep(1)
    idle = _status(proc.pid, "VmRSS")
    try:
        _stream(base, model, QUESTIONS[0], 8)  # warm
        asked = [QUESTIONS[(r + 1) % len(QUESTIONS)] for r in range(args["runs"])]
        single = [_stream(base, model, q, args["tokens"]) for q in asked]  # no prefix repeats
        ttft = statistics.median(s[0] for s in single)
        decode = statistics.median((s[2] - 1) / max(s[1] - s[0], 1e-9) for s in single)
        rows = [_together(base, model, k, args["tokens"]) for k in args["clients"]]
        peak = _status(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        "ttft_s": ttft,
        "decode_tok_s": decode,
        "concurrent": rows,
        "idle_rss_mb": idle,
        "peak_rss_mb": peak,
    }


def compare(clients: list[int], tokens: int, runs: int, as_json: bool) -> dict:
    from ga_cli.models import threads
    from ga_cli.models.embedded import gguf_path
    from ga_cli.models.llamacpp import MAX_CONTEXT

    gguf, n = str(gguf_path()), threads.count()
    ga = os.path.join(os.path.dirname(sys.executable), "ga")
    subprocess.run([ga, "init"], check=True, capture_output=True)
    args = {"tokens": tokens, "runs": runs, "clients": clients}
    env = {**os.environ, "GA_THREADS": str(n)}
    port = _port()
    served = [ga, "serve", "--port", str(port), "--model", "embedded", "--engine", "llama.cpp"]
    served += ["--memory", "off"]  # the same prompt tokens as the anchor gets
    result = {"gguf": gguf, "threads": n, "tokens": tokens}
    result["ga_serve"] = _measure("ga serve", served, env, "ga-personal", port, args)
    port = _port()
    anchor = [sys.executable, "-c", LAUNCH, "--model", gguf, "--port", str(port)]
    anchor += ["--n_ctx", str(MAX_CONTEXT), "--n_threads", str(n), "--n_threads_batch", str(n)]
    anchor += ["--model_alias", "anchor", "--interrupt_requests", "False"]
    path = os.pathsep.join(p for p in (str(ANCHOR), env.get("PYTHONPATH")) if p)
    result["llama_cpp_server"] = _measure(
        "llama_cpp.server", anchor, {**env, "PYTHONPATH": path}, "anchor", port, args
    )
    _report(result, as_json)
    return result


def _report(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
        return
    ours, theirs = result["ga_serve"], result["llama_cpp_server"]
    print(f"{Path(result['gguf']).name}, {result['threads']} threads, {result['tokens']} tokens")
    print(
        f"one client  TTFT ga {ours['ttft_s'] * 1000:.0f} ms, llama_cpp.server "
        f"{theirs['ttft_s'] * 1000:.0f} ms; decode ga {ours['decode_tok_s']:.1f} tok/s, "
        f"llama_cpp.server {theirs['decode_tok_s']:.1f} tok/s"
    )
    one = ours["concurrent"][0]["tok_s"]
    for mine, anchor in zip(ours["concurrent"], theirs["concurrent"]):
        print(
            f"{mine['clients']} clients  ga {mine['tok_s']:6.1f} tok/s ({mine['tok_s'] / one:.2f}x "
            f"its first row)  llama_cpp.server {anchor['tok_s']:6.1f} tok/s  ratio "
            f"{mine['tok_s'] / anchor['tok_s']:.2f}x"
        )
    print(
        f"ga serve RSS idle {ours['idle_rss_mb']:.0f} MB, peak {ours['peak_rss_mb']:.0f} MB "
        f"(llama_cpp.server {theirs['idle_rss_mb']:.0f} / {theirs['peak_rss_mb']:.0f} MB)"
    )
