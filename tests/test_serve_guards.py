"""Requests that used to take `ga serve` down or reach it from a web page: the real server on
the embedded model's llama.cpp engine, real HTTP clients, and the server still answering after
each one."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from conftest import run_ga
from test_serve import Server, chat

pytestmark = pytest.mark.slow

CRASHED_LIBLLAMA = [  # each one ended the server for every client before
    {"enum": []},
    {"anyOf": []},
    {"type": []},
    {"type": "string", "maxLength": 10000},
    {"const": "\u0000"},
]
NOT_HONOURED = [
    ({"type": "integer", "minimum": 3}, "minimum"),
    ({"type": "number", "maximum": 3}, "maximum"),
    ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength (5) is above maxLength"),
    ({"type": "array", "items": {"type": "string"}, "maxItems": 100000}, "maxItems"),
    ({"type": "string", "pattern": "a{100000}"}, "pattern"),
]


def shaped(schema: dict) -> dict:
    return chat(
        max_tokens=16,
        temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
    )


@pytest.fixture(scope="module")
def fast_server():
    s = Server("--model", "embedded", "--engine", "llama.cpp", "--max-queue", "2")
    yield s
    s.stop()


def alive(s: Server) -> bool:
    return s.proc.poll() is None and httpx.get(s.url + "/health").status_code == 200


def test_schemas_that_crashed_libllama_get_a_400_and_the_server_lives(fast_server):
    s = fast_server
    for schema in CRASHED_LIBLLAMA:
        r = httpx.post(s.url + "/v1/chat/completions", json=shaped(schema), timeout=60)
        assert r.status_code == 400, (schema, r.text)
        assert "json_schema" in r.json()["error"]["message"]
        assert alive(s), schema
    for schema, keyword in NOT_HONOURED:
        r = httpx.post(s.url + "/v1/chat/completions", json=shaped(schema), timeout=60)
        assert r.status_code == 400 and keyword in r.json()["error"]["message"], (schema, r.text)
    ok = httpx.post(
        s.url + "/v1/chat/completions",
        json=shaped({"type": "object", "properties": {"colour": {"enum": ["red", "blue"]}}}),
        timeout=120,
    )
    assert ok.status_code == 200 and alive(s)


def test_the_grammar_probe_refuses_what_would_crash_the_engine():
    """The second guard, in a child process: a grammar the schema check let through but that
    llama.cpp cannot take is refused, and this process lives."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from ga_cli.errors import GaError
    from ga_cli.models import embedded, grammar_probe

    gguf = str(embedded.gguf_path())
    grammar_probe.check(gguf, 'root ::= "{" [a-z]+ "}"')
    converted = [json_schema_to_gbnf(json.dumps(s)) for s in CRASHED_LIBLLAMA[:2]]
    for bad in ["root ::= (((", 'root ::= "\\u0000"', *converted]:
        with pytest.raises(GaError):
            grammar_probe.check(gguf, bad)


def test_embeddings_are_bounded_and_queued(fast_server):
    s = fast_server
    start = time.monotonic()
    r = httpx.post(
        s.url + "/v1/embeddings",
        json={"model": "ga-personal", "input": "word " * 100_000},
        timeout=60,
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"
    assert r.json()["error"]["param"] == "input"
    assert time.monotonic() - start < 20  # counted, not embedded for minutes
    r = httpx.post(
        s.url + "/v1/embeddings", json={"model": "ga-personal", "input": ["x"] * 65}, timeout=60
    )
    assert r.status_code == 400 and "at most 64" in r.json()["error"]["message"]
    big = b'{"model": "ga-personal", "input": "' + b"a" * (32 << 20) + b'"}'
    r = httpx.post(s.url + "/v1/embeddings", content=big, timeout=60)
    assert r.status_code == 413
    r = httpx.post(s.url + "/v1/embeddings", json={"model": "ga-personal", "input": "hi"})
    assert r.status_code == 200 and alive(s)


def test_web_pages_cannot_reach_it(fast_server):
    s = fast_server
    body = json.dumps(chat(max_tokens=2)).encode()
    # a page on another site posting text/plain (no preflight), and a DNS-rebinding page
    simple = {"Content-Type": "text/plain", "Origin": "http://attacker.example"}
    r = httpx.post(s.url + "/v1/chat/completions", content=body, headers=simple)
    assert r.status_code == 403 and "--allow-origin" in r.json()["error"]["message"]
    rebound = {"Host": f"attacker.example:{s.port}", "Origin": f"http://attacker.example:{s.port}"}
    assert httpx.get(s.url + "/v1/models", headers=rebound).status_code == 403
    r = httpx.post(s.url + "/v1/chat/completions", content=body, headers=rebound)
    assert r.status_code == 403
    # the names it is bound under still work, from a client or from its own origin
    for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}"):
        same = {"Host": host, "Origin": f"http://{host}"}
        assert httpx.get(s.url + "/v1/models", headers=same).status_code == 200


def test_allow_origin_names_the_pages_that_may(ledger, tiny_model):
    s = Server("--model", str(tiny_model), "--allow-origin", "https://app.example")
    try:
        ok = {"Origin": "https://app.example"}
        assert httpx.get(s.url + "/v1/models", headers=ok).status_code == 200
        other = {"Origin": "https://other.example"}
        assert httpx.get(s.url + "/v1/models", headers=other).status_code == 403
    finally:
        s.stop()


def test_fields_never_silently_ignored_and_odd_headers(fast_server):
    s = fast_server
    for field, value in [
        ("tool_choice", "auto"),
        ("function_call", "none"),
        ("parallel_tool_calls", False),
        ("logprobs", True),
        ("top_logprobs", 2),
    ]:
        r = httpx.post(s.url + "/v1/chat/completions", json=chat(**{field: value}))
        assert r.status_code == 400 and f"`{field}`" in r.json()["error"]["message"], field
    deep = b"[" * 100_000 + b"]" * 100_000
    r = httpx.post(s.url + "/v1/chat/completions", content=deep)
    assert r.status_code == 400 and alive(s)


def test_token_auth_takes_any_case_and_refuses_odd_bytes(ledger, tiny_model):
    s = Server("--model", str(tiny_model), "--token", "s3cret", "--quiet")
    try:
        for scheme in ("Bearer", "bearer", "BEARER"):
            r = httpx.get(s.url + "/v1/models", headers={"Authorization": f"{scheme} s3cret"})
            assert r.status_code == 200, scheme
        odd = {"Authorization": "Bearer s3cr\u00e9t".encode("latin-1")}
        r = httpx.get(s.url + "/v1/models", headers=odd)
        assert r.status_code == 401
    finally:
        s.stop()


def test_serve_resolves_aliases_and_checks_the_host_first(ledger, tiny_model):
    r = run_ga("serve", "--host", "not a host", "--model", "/no/such/model")
    assert r.returncode == 1 and "--host 'not a host'" in r.stderr, r.stderr
    assert run_ga("models", "alias", "tiny", str(tiny_model)).returncode == 0
    s = Server("--model", "tiny")
    try:
        assert "tiny-llama" in {m["id"] for m in httpx.get(s.url + "/v1/models").json()["data"]}
    finally:
        s.stop()


def test_the_request_log_names_500s(tiny_model):
    """A handler that fails is logged like every other request (it was skipped before)."""
    from starlette.testclient import TestClient

    from ga_cli import models
    from ga_cli.serve.app import Settings, create_app
    from ga_cli.serve.engine import Engine, Loaded

    backend = models.load(str(tiny_model))
    engine = Engine(lambda: Loaded(backend, ["ga-personal"], None), lambda: "fixed")
    engine.start()
    lines: list[str] = []

    def broken(question: str, backend: object) -> str:
        raise RuntimeError("the ledger could not be read")

    app = create_app(engine, Settings(log=lines.append), broken)
    client = TestClient(app, raise_server_exceptions=False)
    r = client.post("/v1/chat/completions", json=chat())
    assert r.status_code == 500
    assert any(re.fullmatch(r"POST /v1/chat/completions 500 - \d+ms", x) for x in lines), lines
