"""bench/abuse.py's server campaign: requests that used to kill `ga serve` or reach it from a
web page, sent to a real server (the embedded model on llama.cpp) over real HTTP. After every
probe the server must still answer; its peak resident memory (VmHWM) is read at the end."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GA = [sys.executable, "-m", "ga_cli"]

KILLER_SCHEMAS = [
    {"enum": []},
    {"anyOf": []},
    {"oneOf": []},
    {"type": []},
    {"type": "string", "maxLength": 10000},
    {"const": "\u0000"},
    {"enum": ["a\u0000b"]},
    {"properties": {"a\u0000": {"type": "string"}}},
    {"type": "array", "items": {"type": "string"}, "minItems": 100000},
    {"type": "string", "pattern": "a{100000}"},
    {"type": "integer", "minimum": 3},
    {"type": "string", "minLength": 9, "maxLength": 2},
    {"$ref": "https://evil.example/schema.json"},
    {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(2000)}},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _probes(port: int) -> list[tuple[str, str, bytes, dict[str, str], tuple[int, ...]]]:
    """(name, path, body, headers, statuses that count as a clean answer)."""
    msg = [{"role": "user", "content": "hi"}]

    def chat(**extra: object) -> bytes:
        return json.dumps(
            {"model": "ga-personal", "max_tokens": 8, "messages": msg, **extra}
        ).encode()

    out = []
    for schema in KILLER_SCHEMAS:
        fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
        out.append(
            (
                f"schema {json.dumps(schema)[:40]}",
                "/v1/chat/completions",
                chat(response_format=fmt),
                {},
                (400,),
            )
        )
    embed = {"model": "ga-personal", "input": "word " * 100_000}
    out += [
        ("embeddings 100,000 words", "/v1/embeddings", json.dumps(embed).encode(), {}, (400,)),
        (
            "embeddings 65 inputs",
            "/v1/embeddings",
            json.dumps({"model": "ga-personal", "input": ["x"] * 65}).encode(),
            {},
            (400,),
        ),
        (
            "embeddings 32 MB body",
            "/v1/embeddings",
            b'{"input": "' + b"a" * (32 << 20) + b'"}',
            {},
            (413,),
        ),
        ("chat 32 MB body", "/v1/chat/completions", b"x" * (32 << 20), {}, (413,)),
        ("deeply nested JSON", "/v1/chat/completions", b"[" * 200_000 + b"]" * 200_000, {}, (400,)),
        (
            "cross-origin text/plain POST",
            "/v1/chat/completions",
            chat(),
            {"Content-Type": "text/plain", "Origin": "http://attacker.example"},
            (403,),
        ),
        (
            "DNS rebinding GET /v1/models",
            "/v1/models",
            b"",
            {"Host": f"attacker.example:{port}", "Origin": f"http://attacker.example:{port}"},
            (403,),
        ),
        (
            "DNS rebinding chat",
            "/v1/chat/completions",
            chat(),
            {"Host": f"attacker.example:{port}"},
            (403,),
        ),
        (
            "non-ASCII Authorization",
            "/v1/models",
            b"",
            {"Authorization": "Bearer caf\u00e9".encode("latin-1")},  # as a browser may send it
            (200,),
        ),
        ("tool_choice without tools", "/v1/chat/completions", chat(tool_choice="auto"), {}, (400,)),
        ("logprobs", "/v1/chat/completions", chat(logprobs=True), {}, (400,)),
    ]
    return out


def server_probes(env: dict) -> dict:
    import httpx

    port = _free_port()
    proc = subprocess.Popen(
        [
            *GA,
            "serve",
            "--model",
            "embedded",
            "--engine",
            "llama.cpp",
            "--port",
            str(port),
            "--quiet",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    deaths, clean, failed = 0, 0, []
    probes = _probes(port)
    for name, path, body, headers, ok in probes:
        method = "GET" if not body else "POST"
        try:
            r = httpx.request(
                method, url + path, content=body or None, headers=headers, timeout=120
            )
            shaped = r.status_code in ok and (r.status_code == 200 or "error" in r.json())
        except (httpx.HTTPError, ValueError) as exc:
            shaped, r = False, None
            failed.append(f"{name}: {type(exc).__name__}")
        alive = proc.poll() is None
        deaths += not alive
        clean += bool(shaped and alive)
        if r is not None and not (shaped and alive):
            failed.append(f"{name} -> {r.status_code} {r.text[:80]}")
        if not alive:
            break
    peak = _peak_rss_mb(proc.pid) if proc.poll() is None else None
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    return {
        "probes": len(probes),
        "answered_cleanly": clean,
        "server_deaths": deaths,
        "tracebacks": err.count("Traceback"),
        "peak_rss_mb": round(peak) if peak else None,
        "failed": failed,
    }
