"""Every test gets its own GA_HOME (ledger, sessions, models) and a clean git environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
GA = [sys.executable, "-m", "ga_cli"]


@pytest.fixture(autouse=True)
def ga_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("ga_home")
    monkeypatch.setenv("GA_HOME", str(home))
    monkeypatch.delenv("GA_LEDGER", raising=False)
    monkeypatch.delenv("GA_DEBUG", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GA_CACHE_DIR", str(REPO / ".cache" / "test"))
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def ga(runner):
    """Invoke ga in-process; returns the Result (stdout and stderr kept apart)."""
    from ga_cli.cli import app

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(app, list(args), input=input, env=env, prog_name="ga")

    return invoke


@pytest.fixture
def ledger(ga, ga_home):
    from ga_cli.ledger.store import Ledger

    result = ga("init", "--name", "Test Principal", "--email", "p@example.org")
    assert result.exit_code == 0, result.stderr
    return Ledger.open()


def run_ga(
    *args: str, input: str | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """ga as a real process, as a shell pipeline would run it."""
    return subprocess.run(
        [*GA, *args],
        input=input,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL if input is None else None,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=REPO,
    )


def spawn_ga(*args: str, term: str = "xterm", timeout: float = 60) -> Any:
    """ga in a real pseudo-terminal (pexpect), as a person at a terminal runs it. TERM=dumb
    gives plain line input; otherwise prompt_toolkit reads the keys."""
    import pexpect

    env = {**os.environ, "TERM": term, "COLUMNS": "120", "PROMPT_TOOLKIT_NO_CPR": "1"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "ga_cli", *args],
        cwd=str(REPO),
        env=env,
        encoding="utf-8",
        timeout=timeout,
    )


def run_helper(script: str, *args: object) -> str:
    """A script from tests/helpers/ in its own process (Unsloth patches transformers when
    imported: that must not leak into the test session); its stdout, or the test fails."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "helpers" / script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def listed_runs() -> list[dict[str, Any]]:
    """`ga models list --json`'s trained runs (it also lists the embedded model, aliases and
    what a running server has loaded)."""
    import json

    rows = json.loads(run_ga("models", "list", "--json").stdout)
    return [r for r in rows if r["kind"] == "run"]


def commits(ledger) -> list[str]:
    return ledger.git("log", "--format=%s").splitlines()


MODEL_FIXTURES = {"embedded_dir", "tiny_model"}


def pytest_collection_modifyitems(items):
    """One rule for the fast lane (`make test-fast`, `-m "not slow"`): a test that loads a real
    model (through either model fixture) or is marked slow by hand runs only in `make test`."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# -- models ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    """The real embedded SmolLM2-135M, converted once per cache (about a minute the first time)."""
    os.environ.setdefault("GA_CACHE_DIR", str(REPO / ".cache" / "test"))
    from ga_cli.models import embedded

    return embedded.ensure_converted()


@pytest.fixture(scope="session")
def tiny_model(embedded_dir) -> Path:
    """A randomly initialised 2-layer Llama with SmolLM2's real tokenizer and chat template."""
    target = REPO / ".cache" / "test" / "tiny-llama"
    if (target / "config.json").exists():
        return target
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(embedded_dir)
    torch.manual_seed(0)
    from families import TINY

    config = LlamaConfig(
        vocab_size=len(tok),
        **TINY,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    tmp = target.with_name("tiny-llama.tmp")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    tmp.rename(target)
    return target


# -- a fake OpenAI-compatible provider: real HTTP, scripted answers -----------------------------
class FakeProvider:
    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[str] = []
        self.default = "Hello from the fake provider."
        self.delay = 0.0  # seconds between streamed words

    def next_reply(self) -> str:
        return self.replies.pop(0) if self.replies else self.default


@pytest.fixture
def fake_provider():
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # keep test output clean
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            reply = state.next_reply()
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = reply.split(" ")
                for i, w in enumerate(words):
                    piece = w if i == 0 else " " + w
                    chunk = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                    try:
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the client stopped listening: it was cancelled
                    time.sleep(state.delay)
                end = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                return
            payload = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": reply},
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
