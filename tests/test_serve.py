"""ga serve: the real server on a free loopback port, real clients (openai, litellm, httpx)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import GA, REPO, run_ga

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *args: str, host: str = "127.0.0.1"):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [*GA, "serve", "--host", host, "--port", str(self.port), *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.stderr.read())
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("server did not come up")

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=30)
        return err


@pytest.fixture
def server(ledger, tiny_model):
    s = Server("--model", str(tiny_model))
    yield s
    s.stop()


def chat(model="ga-personal", **kw):
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, **kw}


def test_openai_client_streaming_and_not(server):
    from openai import OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="unused")
    assert {m.id for m in client.models.list().data} == {"ga-personal", "tiny-llama"}
    r = client.chat.completions.create(
        model="ga-personal",
        max_tokens=5,
        temperature=0,
        seed=1,
        messages=[{"role": "user", "content": "Say hello"}],
    )
    assert r.choices[0].message.role == "assistant" and r.choices[0].message.content
    assert r.usage.completion_tokens == 5 and r.choices[0].finish_reason == "length"
    again = client.chat.completions.create(
        model="ga-personal",
        max_tokens=5,
        temperature=0,
        messages=[{"role": "user", "content": "Say hello"}],
    )
    assert again.choices[0].message.content == r.choices[0].message.content  # greedy
    pieces = [
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="ga-personal",
            max_tokens=5,
            temperature=0,
            stream=True,
            messages=[{"role": "user", "content": "Say hello"}],
        )
        if c.choices
    ]
    assert "".join(pieces) == r.choices[0].message.content
    # litellm, the way ga itself talks to remote models
    from ga_cli.models import load
    from ga_cli.models.base import GenerationParams

    backend = load("openai/ga-personal", api_base=server.url + "/v1")
    text = "".join(
        backend.stream(
            [{"role": "user", "content": "Say hello"}],
            GenerationParams(temperature=0, max_tokens=5),
        )
    )
    assert text == r.choices[0].message.content


def test_client_mistakes_get_4xx_in_openai_format(server):
    post = lambda body, **kw: httpx.post(
        server.url + "/v1/chat/completions", content=body, timeout=30, **kw
    )
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode(), 400, "`model`"),
        (json.dumps(chat(model="gpt-99")).encode(), 404, "does not exist"),
        (json.dumps({"model": "ga-personal", "messages": []}).encode(), 400, "messages"),
        (
            json.dumps(
                {"model": "ga-personal", "messages": [{"role": "wizard", "content": "x"}]}
            ).encode(),
            400,
            "role",
        ),
        (json.dumps(chat(max_tokens=-3)).encode(), 400, "max_tokens"),
        (json.dumps(chat(temperature="hot")).encode(), 400, "numbers"),
        (b"x" * 1_100_000, 413, "over"),
    ]
    for body, status, words in cases:
        r = post(body)
        assert r.status_code == status, (body[:60], r.text)
        err = r.json()["error"]
        assert words in err["message"] and err["type"]
    assert httpx.get(server.url + "/v1/nothing").status_code == 404
    assert httpx.get(server.url + "/v1/chat/completions").status_code == 405


def test_twenty_concurrent_clients_all_complete_and_health_stays_up(server):
    results, errors = [], []

    def one(i: int) -> None:
        try:
            r = httpx.post(
                server.url + "/v1/chat/completions",
                json=chat(max_tokens=8, messages=[{"role": "user", "content": f"n{i}"}]),
                timeout=120,
            )
            results.append(r)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    h = httpx.get(server.url + "/health", timeout=5)  # answers while generations queue
    assert h.status_code == 200
    for t in threads:
        t.join()
    assert not errors and [r.status_code for r in results] == [200] * 20
    assert all(r.json()["usage"]["completion_tokens"] >= 1 for r in results)


def test_full_queue_answers_429_with_retry_after(ledger, tiny_model):
    s = Server("--model", str(tiny_model), "--max-queue", "1")
    try:
        codes = []

        def one() -> None:
            r = httpx.post(s.url + "/v1/chat/completions", json=chat(max_tokens=200), timeout=120)
            codes.append((r.status_code, r.headers.get("retry-after")))

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert (200, None) in codes and (429, "2") in codes
    finally:
        s.stop()


def test_disconnect_cancels_generation(server):
    with httpx.stream(
        "POST",
        server.url + "/v1/chat/completions",
        json=chat(max_tokens=2000, stream=True),
        timeout=60,
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data:") and '"content": "' in line and '""' not in line:
                break  # got a token: hang up
    start = time.monotonic()
    r = httpx.post(server.url + "/v1/chat/completions", json=chat(max_tokens=2), timeout=60)
    assert r.status_code == 200
    assert time.monotonic() - start < 30  # not stuck behind 2000 tokens for nobody


def test_non_loopback_needs_a_token(ledger, tiny_model):
    s = Server("--model", str(tiny_model), host="0.0.0.0")
    try:
        r = httpx.post(s.url + "/v1/chat/completions", json=chat(), timeout=30)
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        assert httpx.get(s.url + "/v1/models").status_code == 401
        # liveness for anyone; what it serves, its queue and version only with the token
        assert httpx.get(s.url + "/health").json() == {"status": "ok"}
    finally:
        err = s.stop()
    token = err.split("(shown once): ")[1].split()[0]
    s = Server("--model", str(tiny_model), "--token", "s3cret-token", host="0.0.0.0")
    try:
        ok = httpx.post(
            s.url + "/v1/chat/completions",
            json=chat(),
            timeout=30,
            headers={"Authorization": "Bearer s3cret-token"},
        )
        assert ok.status_code == 200
        bad = httpx.post(
            s.url + "/v1/chat/completions",
            json=chat(),
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert bad.status_code == 401
        auth = {"Authorization": "Bearer s3cret-token"}
        health = httpx.get(s.url + "/health", headers=auth).json()
        assert health["models"] and health["version"] and "queued" in health
    finally:
        err = s.stop()
    # one request-log line per request on stderr: method, path, status, tokens, ms
    lines = [line for line in err.splitlines() if line.startswith(("GET ", "POST "))]
    assert any(re.fullmatch(r"POST /v1/chat/completions 200 \d+ \d+ms", x) for x in lines), err
    assert any(re.fullmatch(r"POST /v1/chat/completions 401 - \d+ms", x) for x in lines), err
    assert any(re.fullmatch(r"GET /health 200 - \d+ms", x) for x in lines), err
    assert "s3cret-token" not in err  # the log never repeats a credential
    quiet = Server("--model", str(tiny_model), "--quiet")
    try:
        assert httpx.post(quiet.url + "/v1/chat/completions", json=chat(), timeout=30).is_success
    finally:
        assert "POST /v1/chat/completions" not in quiet.stop()


def _fake_run(run_id: str, tiny_model: Path, seed: int) -> None:
    """A registry run with a real (randomly initialised, non-zero) LoRA adapter."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model),
        LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    run = Path(os.environ["GA_HOME"]) / "models" / run_id
    model.save_pretrained(run / "adapter")
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(run / "adapter")
    (run / "run.json").write_text(
        json.dumps(
            {
                "id": run_id,
                "base_model": str(tiny_model),
                "base_model_path": str(tiny_model),
                "ledger_sha": "0" * 40,
                "recipe_name": "fake",
                "promoted": True,
                "eval": {"after": {"pref_accuracy": None}},
            }
        )
    )


@pytest.mark.parametrize("engine", ["transformers", "llama.cpp"])
def test_hot_swap_follows_current_and_ask_uses_the_server(ga, ledger, tiny_model, engine):
    _fake_run("r-20260101-000000-aaaa", tiny_model, 1)
    _fake_run("r-20260101-000000-bbbb", tiny_model, 2)
    assert run_ga("models", "use", "r-20260101-000000-aaaa").returncode == 0
    s = Server("--engine", engine)  # follows `current`; llama.cpp: adapters converted to GGUF
    try:
        assert httpx.get(s.url + "/health").json()["engine"] == engine
        ids = lambda: {m["id"] for m in httpx.get(s.url + "/v1/models").json()["data"]}
        assert ids() == {"ga-personal", "r-20260101-000000-aaaa"}
        body = chat(max_tokens=6, temperature=0)
        first = httpx.post(s.url + "/v1/chat/completions", json=body, timeout=60).json()
        assert run_ga("models", "use", "r-20260101-000000-bbbb").returncode == 0
        second = httpx.post(s.url + "/v1/chat/completions", json=body, timeout=60).json()
        assert ids() == {"ga-personal", "r-20260101-000000-bbbb"}
        assert (
            first["choices"][0]["message"]["content"] != second["choices"][0]["message"]["content"]
        )
        # ga ask finds the running server and uses it instead of loading a model
        served = httpx.get(s.url + "/health").json()["served"]
        r = run_ga("ask", "hello", "--max-tokens", "3", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["model"] == "ga-serve:r-20260101-000000-bbbb"
        assert json.loads(r.stdout)["usage"]["completion_tokens"] == 3
        assert httpx.get(s.url + "/health").json()["served"] == served + 1
        r = run_ga("ask", "hello", "--max-tokens", "3", "--json", "--no-server")
        assert json.loads(r.stdout)["model"] == "tiny-llama+r-20260101-000000-bbbb"
    finally:
        s.stop()
    assert not (Path(os.environ["GA_HOME"]) / "run" / "server.json").exists()


def test_cors_only_when_allowed_and_stop_strings(ledger, tiny_model):
    s = Server("--model", str(tiny_model))
    try:
        pre = httpx.options(
            s.url + "/v1/chat/completions",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in pre.headers
        full = httpx.post(
            s.url + "/v1/chat/completions", timeout=60, json=chat(max_tokens=12, temperature=0)
        ).json()
        text = full["choices"][0]["message"]["content"]
        cut = text.strip()[2:4] or text[:1]
        stopped = httpx.post(
            s.url + "/v1/chat/completions",
            timeout=60,
            json=chat(max_tokens=12, temperature=0, stop=[cut]),
        ).json()
        assert stopped["choices"][0]["message"]["content"] == text[: text.index(cut)]
        assert stopped["choices"][0]["finish_reason"] == "stop"
    finally:
        s.stop()
    s = Server("--model", str(tiny_model), "--allow-origin", "https://app.example")
    try:
        pre = httpx.options(
            s.url + "/v1/chat/completions",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )
        assert pre.headers.get("access-control-allow-origin") == "https://app.example"
        other = httpx.options(
            s.url + "/v1/chat/completions",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
    finally:
        s.stop()


# -- abuse: requests that must not take the server down ---------------------------------------
def test_prompt_beyond_the_context_window_is_refused_before_queueing(server):
    window = httpx.get(server.url + "/v1/models").json()["data"][0]["context_window"]
    huge = "lighthouse " * (window * 2)
    r = httpx.post(
        server.url + "/v1/chat/completions",
        timeout=60,
        json=chat(messages=[{"role": "user", "content": huge}]),
    )
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "context_length_exceeded" and err["param"] == "messages"
    assert f"maximum context length is {window} tokens" in err["message"]
    r = httpx.post(server.url + "/v1/chat/completions", timeout=60, json=chat(max_tokens=window))
    assert r.status_code == 400 and "in the completion" in r.json()["error"]["message"]
    assert httpx.get(server.url + "/health").json()["served"] == 0  # nothing reached the worker
    far = "x" * 900_000  # refused without tokenizing 900 KB
    r = httpx.post(
        server.url + "/v1/chat/completions",
        timeout=60,
        json=chat(messages=[{"role": "user", "content": far}]),
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"


def test_malformed_fields_get_openai_shaped_400s(server):
    bad = [
        chat(messages=[{"role": "user", "content": [{"type": "text", "text": 5}]}]),
        chat(messages=[{"role": "user", "content": ["a", "b"]}]),
        chat(messages=[{"role": "user", "content": None}]),
        chat(seed=2**70),
        chat(seed=-1),
        chat(seed=1.5),
        chat(max_tokens=0),
        chat(max_tokens=True),
        chat(n=50),
        chat(n="2"),
        chat(stop=[1, 2]),
        chat(stream="yes"),
        chat(top_p=0),
        chat(temperature=float("nan")),
        chat(repetition_penalty=0.5),
        chat(repetition_penalty="high"),
    ]
    for body in bad:
        r = httpx.post(
            server.url + "/v1/chat/completions", timeout=30, content=json.dumps(body).encode()
        )
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["type"] == "invalid_request_error"
    ok = chat(
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        n=1,
        seed=7,
        max_tokens=2,
        repetition_penalty=1.3,
    )
    assert httpx.post(server.url + "/v1/chat/completions", json=ok, timeout=30).status_code == 200
    # what ga cannot honour is refused by name through the official client, never ignored
    from openai import BadRequestError, OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="x")
    hi = [{"role": "user", "content": "hi"}]
    for extra, says in (
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"response_format": {"type": "yaml"}}, "yaml is not supported"),
        # JSON mode is constrained decoding: this server's transformers engine cannot do it
        ({"response_format": {"type": "json_object"}}, "needs the llama.cpp engine"),
        ({"n": 2, "stream": True}, "without `stream` only"),
    ):
        with pytest.raises(BadRequestError, match=says):
            client.chat.completions.create(model="ga-personal", messages=hi, **extra)
    developer = [{"role": "developer", "content": "Answer in one word."}, *hi]
    done = client.chat.completions.create(model="ga-personal", messages=developer, max_tokens=2)
    assert done.choices[0].message.role == "assistant"


def test_disconnect_stops_generation_counted_in_tokens(server):
    """Cancellation is proven by what was generated, not by how long it took."""
    body = chat(max_tokens=600, temperature=0)
    full = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=120).json()
    assert full["usage"]["completion_tokens"] == 600  # this prompt runs to the limit
    before = httpx.get(server.url + "/health").json()["generated_tokens"]
    with httpx.stream(
        "POST", server.url + "/v1/chat/completions", json={**body, "stream": True}, timeout=60
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data:") and '"content": "' in line and '""' not in line:
                break  # got a token: hang up
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the cancelled request is counted once it stops
        health = httpx.get(server.url + "/health").json()
        if health["served"] == 2 and health["queued"] == 0:
            break
        time.sleep(0.05)
    cancelled = health["generated_tokens"] - before
    assert 0 < cancelled < 600


def test_sigterm_stops_the_server_mid_generation_and_removes_discovery(ledger, tiny_model, ga_home):
    s = Server("--model", str(tiny_model), "--no-ledger-prompt")
    discovery = ga_home / "run" / "server.json"
    assert discovery.is_file()
    body = chat(max_tokens=900, temperature=0, stream=True)
    got = []
    with httpx.stream("POST", s.url + "/v1/chat/completions", json=body, timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("data:") and '"content": "' in line:
                got.append(line)
                if len(got) == 3:
                    s.proc.terminate()  # SIGTERM while it generates
    s.proc.communicate(timeout=20)  # it exits: it does not finish 900 tokens for nobody
    assert len(got) < 900 and not discovery.exists()


def test_stale_discovery_file_is_ignored_and_removed(ledger, tiny_model, ga_home):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    discovery = ga_home / "run" / "server.json"
    discovery.parent.mkdir(parents=True, exist_ok=True)
    discovery.write_text(
        json.dumps({"url": "http://127.0.0.1:9/v1", "pid": dead.pid, "token": None})
    )
    run_ga("config", "set", "model", str(tiny_model))
    r = run_ga("ask", "hi", "--max-tokens", "2")
    assert r.returncode == 0, r.stderr
    assert not discovery.exists()


def test_generated_request_bodies_get_200_or_an_openai_shaped_4xx(tiny_model):
    """Property test: whatever JSON arrives, the answer is 200 or a 4xx JSON error."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from starlette.testclient import TestClient

    from ga_cli.models.local import LocalBackend
    from ga_cli.serve.app import Settings, create_app
    from ga_cli.serve.engine import Engine, Loaded

    backend = LocalBackend(tiny_model)
    engine = Engine(lambda: Loaded(backend, ["ga-personal"], None), lambda: "fixed")
    engine.start()
    client = TestClient(create_app(engine, Settings(max_tokens_cap=4), lambda q, b: None))
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    )
    anything = st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
    message = st.fixed_dictionaries(
        {
            "role": st.sampled_from(["user", "system", "assistant", "tool", 5]),
            "content": st.one_of(st.text(max_size=30), anything),
        }
    )
    body = st.fixed_dictionaries(
        {"model": st.sampled_from(["ga-personal", "other", 3])},
        optional={
            "messages": st.one_of(st.lists(message, max_size=3), anything),
            "max_tokens": anything,
            "temperature": anything,
            "top_p": anything,
            "seed": anything,
            "n": anything,
            "stop": anything,
            "stream": st.booleans(),
        },
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(body, anything))
    def check(payload):
        r = client.post("/v1/chat/completions", content=json.dumps(payload).encode())
        assert r.status_code == 200 or 400 <= r.status_code < 500, (payload, r.text)
        if r.status_code != 200:
            assert r.json()["error"]["message"]

    check()


def test_the_principals_memory_goes_ahead_of_a_clients_system_prompt(ga, ledger, tiny_model):
    """Editors and agents always send a system prompt of their own: under the default
    `--memory merge` the ledger's block still goes in ahead of it (what `ga prompt show -s`
    prints; tests/test_pipelines checks the text), seen here in the prompt's token count."""
    ga("values", "add", "Cite a source for every number.", "--priority", "1")

    def prompt_tokens(url: str, system: str | None, memory: str | None = None) -> int:
        msgs = [{"role": "user", "content": "hi"}]
        msgs = [{"role": "system", "content": system}, *msgs] if system else msgs
        headers = {"X-GA-Memory": memory} if memory else {}
        body = {"model": "ga-personal", "messages": msgs, "max_tokens": 1, "temperature": 0}
        r = httpx.post(url + "/v1/chat/completions", json=body, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["usage"]["prompt_tokens"]

    client = "You are a coding assistant in an editor."
    s = Server("--model", str(tiny_model))
    try:
        alone = prompt_tokens(s.url, client, "off")
        assert prompt_tokens(s.url, client) > alone + 10  # merged: the memory, then the client's
        assert prompt_tokens(s.url, client, "fill") == alone  # fill: the client's prompt alone
        assert prompt_tokens(s.url, None) > prompt_tokens(s.url, None, "off")
        merged = prompt_tokens(s.url, client)
        ga("values", "add", "Name the file and the line for every code change.")
        assert prompt_tokens(s.url, client) > merged + 5  # the server reads the new commit
        body = {**chat(), "ga_memory": "everything"}
        r = httpx.post(s.url + "/v1/chat/completions", json=body, timeout=30)
        assert r.status_code == 400 and "merge, fill, off" in r.json()["error"]["message"]
    finally:
        s.stop()
    s = Server("--model", str(tiny_model), "--memory", "off")
    try:  # a request can keep the ledger out, never put it in against the principal's --memory
        assert prompt_tokens(s.url, client, "merge") == alone
    finally:
        s.stop()


def test_served_exchanges_land_in_history_and_can_be_corrected(ga, ledger, tiny_model):
    """What an editor got through `ga serve` is in `ga history` (redacted, under the client's
    name, a conversation per thread the client resends) and `ga correct --cid` corrects it."""
    from openai import OpenAI

    from ga_cli.ledger.secrets_guard import REDACTED

    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    s = Server("--model", str(tiny_model))
    try:
        client = OpenAI(base_url=s.url + "/v1", api_key="unused")
        thread = [{"role": "system", "content": "You are an editor's assistant."},
                  {"role": "user", "content": f"Rename this variable. token={secret}"}]  # fmt: skip
        first = client.chat.completions.create(model="ga-personal", messages=thread, max_tokens=4)
        thread += [{"role": "assistant", "content": first.choices[0].message.content},
                   {"role": "user", "content": "And the function too."}]  # fmt: skip
        second = client.chat.completions.create(
            model="ga-personal", messages=thread, max_tokens=4, stream=True
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in second if c.choices)
        other = client.with_options(default_headers={"X-GA-Client": "my-editor"})
        other.chat.completions.create(
            model="ga-personal", messages=[{"role": "user", "content": "Unrelated."}], max_tokens=2
        )
        quiet = client.with_options(default_headers={"X-GA-Log": "off"})
        quiet.chat.completions.create(
            model="ga-personal", messages=[{"role": "user", "content": "Not this."}], max_tokens=2
        )
    finally:
        s.stop()
    listed = json.loads(run_ga("history", "--json").stdout)
    kinds = {row["kind"]: row for row in listed}
    assert set(kinds) == {"serve:OpenAI/Python", "serve:my-editor"}  # "Not this." not logged
    thread_id = kinds["serve:OpenAI/Python"]["id"]
    turns = json.loads(run_ga("history", "show", thread_id, "--json").stdout)["turns"]
    assert [t["prompt"] for t in turns] == [f"Rename this variable. token={REDACTED}",
                                            "And the function too."]  # fmt: skip
    assert turns[1]["answer"] == streamed
    assert turns[0]["system"].endswith("You are an editor's assistant.")  # merged, as sent
    assert secret not in (Path(os.environ["GA_HOME"]) / "history.db").read_bytes().decode(
        "utf-8", "replace"
    )
    r = run_ga("correct", "--cid", thread_id, "--turn", "2", "--chosen", "Renamed both.",
               "--why", "Do the whole rename.")  # fmt: skip
    assert r.returncode == 0, r.stderr
    entry = ledger.find(r.stdout.strip())
    assert (
        entry.meta["prompt"] == "And the function too."
        and entry.meta["rejected"] == streamed.strip()
    )
    assert entry.meta["chosen"] == "Renamed both."
    r = run_ga("ask", "-c", "hi", "--max-tokens", "2", "--json")  # -c: the terminal's, not served
    assert r.returncode == 1 and "no conversation yet" in r.stderr


def listed_all() -> list[dict]:
    return json.loads(run_ga("models", "list", "--json").stdout)


def test_a_provider_behind_ga_serve_gets_the_memory(ga, ledger, fake_provider):
    """`ga serve -m openai/NAME` puts the principal's memory in front of any provider: the
    provider receives it ahead of the client's own system prompt; streaming, history and the
    provider's failures (in OpenAI's error shape) go through the same routes."""
    from openai import APIStatusError, OpenAI

    ga("values", "add", "Cite a source for every number.", "--priority", "1")
    fake_provider.replies += ["Forty-two (source: the Guide).", "Streamed answer here."]
    s = Server("--model", "openai/fake", "--api-base", fake_provider.url)
    try:
        client = OpenAI(base_url=s.url + "/v1", api_key="unused")
        msgs = [{"role": "system", "content": "You are a terse assistant."},
                {"role": "user", "content": "How many?"}]  # fmt: skip
        answer = client.chat.completions.create(model="ga-personal", messages=msgs)
        assert answer.choices[0].message.content == "Forty-two (source: the Guide)."
        system = fake_provider.requests[-1]["messages"][0]["content"]
        assert "Cite a source for every number." in system
        assert system.endswith("You are a terse assistant.")
        stream = client.chat.completions.create(model="ga-personal", messages=msgs, stream=True)
        pieces = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert pieces == "Streamed answer here."
        served = [r for r in listed_all() if r["kind"] == "served"]  # ollama ps, in models list
        assert {r["name"] for r in served} == {"ga-personal", "openai/fake"}
    finally:
        s.stop()
    listed = json.loads(run_ga("history", "--json").stdout)
    assert [row["kind"] for row in listed] == ["serve:OpenAI/Python"] * 2  # two fresh threads
    assert {(row["turns"], row["first_prompt"]) for row in listed} == {(1, "How many?")}
    gone = Server("--model", "openai/fake", "--api-base", f"http://127.0.0.1:{free_port()}/v1")
    try:
        client = OpenAI(base_url=gone.url + "/v1", api_key="unused", max_retries=0)
        with pytest.raises(APIStatusError) as refused:
            client.chat.completions.create(model="ga-personal", messages=msgs)
        assert refused.value.status_code == 502 and "cannot reach" in refused.value.message
    finally:
        gone.stop()


def test_ollama_clients_and_models_retrieve(ga, ledger, tiny_model):
    """Ollama's own API on the same port, driven by the `ollama` Python client: list, ps,
    show, chat and generate (streamed and whole), embed, Ollama's errors; the exchanges land
    in history under the client's name; and the openai SDK's models.retrieve."""
    import ollama
    from openai import NotFoundError, OpenAI

    s = Server("--model", str(tiny_model), "--engine", "llama.cpp")
    try:
        client = ollama.Client(host=s.url)
        assert httpx.get(s.url + "/api/version").json()["version"]
        assert "ga-personal:latest" in [m.model for m in client.list().models]
        assert "ga-personal:latest" in [m.model for m in client.ps().models]
        assert client.show("ga-personal").modelinfo["general.context_length"] > 0
        options = {"num_predict": 4, "temperature": 0}
        msgs = [{"role": "user", "content": "hi"}]
        whole = client.chat(model="ga-personal", messages=msgs, options=options)
        assert whole.done and whole.message.role == "assistant"
        chunks = list(client.chat(model="ga-personal:latest", messages=msgs, options=options,
                                  stream=True))  # fmt: skip
        assert chunks[-1].done and chunks[-1].eval_count == 4 and not chunks[0].done
        assert "".join(c.message.content for c in chunks) == whole.message.content  # greedy
        made = client.generate(model="ga-personal", prompt="hi", options=options)
        assert made.done and isinstance(made.response, str) and made.eval_count == 4
        vectors = client.embed(model="ga-personal", input=["one", "two"]).embeddings
        assert len(vectors) == 2 and len(vectors[0]) > 0
        with pytest.raises(ollama.ResponseError) as missing:
            client.chat(model="nope", messages=msgs)
        assert missing.value.status_code == 404
        openai = OpenAI(base_url=s.url + "/v1", api_key="unused")
        assert openai.models.retrieve("ga-personal").id == "ga-personal"
        with pytest.raises(NotFoundError):
            openai.models.retrieve("nope")
    finally:
        s.stop()
    kinds = {row["kind"] for row in json.loads(run_ga("history", "--json").stdout)}
    assert any(k.startswith("serve:ollama-python") for k in kinds), kinds
