"""The OpenAI-compatible HTTP surface: /v1/chat/completions, /v1/models, /health.

Client mistakes get 4xx in OpenAI's error format, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ga_cli.models.base import Cancel, GenerationParams
from ga_cli.serve.engine import Engine, QueueFull

ROLES = ("system", "user", "assistant")


@dataclass
class Settings:
    token: str | None = None
    max_body: int = 1_000_000
    allow_origin: str | None = None
    ledger_prompt: bool = True
    max_tokens_cap: int = 4096


def error(status: int, message: str, kind: str = "invalid_request_error",
          code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}},
                        status_code=status, headers=headers)


def _params(body: dict[str, Any], cap: int) -> GenerationParams | str:
    try:
        stop = body.get("stop")
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        p = GenerationParams(temperature=float(body.get("temperature", 0.7)),
                             top_p=float(body.get("top_p", 1.0)),
                             max_tokens=int(body.get("max_tokens") or body.get(
                                 "max_completion_tokens") or 256),
                             stop=[str(s) for s in stops] or None,
                             seed=int(body["seed"]) if body.get("seed") is not None else None)
    except (TypeError, ValueError):
        return "temperature, top_p, max_tokens and seed must be numbers; stop a string or list"
    if not 0 <= p.temperature <= 2 or not 0 < p.top_p <= 1 or not 1 <= p.max_tokens <= cap:
        return f"temperature must be 0..2, top_p in (0, 1], max_tokens 1..{cap}"
    return p


def _messages(body: dict[str, Any]) -> list[dict[str, str]] | str:
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "`messages` must be a non-empty list"
    out = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"messages[{i}].role must be one of {', '.join(ROLES)}"
        content = m.get("content")
        if isinstance(content, list):  # [{"type": "text", "text": ...}] parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            return f"messages[{i}].content must be a string"
        out.append({"role": m["role"], "content": content})
    return out


def create_app(engine: Engine, settings: Settings,
               system_for: Callable[[str, Any], str | None],
               on_shutdown: Callable[[], None] | None = None) -> Starlette:
    """`system_for(question, backend)`: the ledger-derived system prompt (or None)."""

    def check_auth(request: Request) -> Response | None:
        if settings.token is None:
            return None
        got = request.headers.get("authorization", "")
        if not secrets.compare_digest(got, f"Bearer {settings.token}"):
            return error(401, "missing or wrong bearer token", "authentication_error",
                         "invalid_api_key")
        return None

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": engine.names(), "queued": engine.pending,
                             "served": engine.served})

    async def models(request: Request) -> Response:
        denied = check_auth(request)
        if denied:
            return denied
        window = getattr(engine.loaded.backend, "context_window", None) if engine.loaded else None
        return JSONResponse({"object": "list", "data": [
            {"id": n, "object": "model", "created": 0, "owned_by": "ga", "context_window": window}
            for n in engine.names()]})

    async def chat(request: Request) -> Response:
        denied = check_auth(request)
        if denied:
            return denied
        raw = await request.body()
        if len(raw) > settings.max_body:
            return error(413, f"request body over {settings.max_body} bytes", code="too_large")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(400, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return error(400, "the request body must be a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return error(400, "`model` is required")
        if model not in engine.names():
            return error(404, f"model `{model}` does not exist; GET /v1/models lists them",
                         code="model_not_found")
        msgs = _messages(body)
        if isinstance(msgs, str):
            return error(400, msgs)
        params = _params(body, settings.max_tokens_cap)
        if isinstance(params, str):
            return error(400, params)
        if settings.ledger_prompt and not any(m["role"] == "system" for m in msgs):
            system = system_for(msgs[-1]["content"], engine.loaded.backend if engine.loaded else None)
            if system:
                msgs = [{"role": "system", "content": system}, *msgs]
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = Cancel()

        def emit(piece: str | None, loaded: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (piece, loaded))

        try:
            future = engine.stream(msgs, params, cancel, emit)
        except QueueFull:
            return error(429, "the server is busy; retry shortly", "rate_limit_error",
                         headers={"Retry-After": "2"})
        cid, created = f"chatcmpl-{secrets.token_hex(8)}", int(time.time())
        if body.get("stream"):
            return StreamingResponse(_sse(queue, future, cancel, cid, created, model),
                                     media_type="text/event-stream")
        pieces = []
        try:
            while True:
                piece, _ = await queue.get()
                if piece is None:
                    break
                pieces.append(piece)
        except asyncio.CancelledError:  # the client went away
            cancel.set()
            raise
        usage = await asyncio.wrap_future(future)
        return JSONResponse({
            "id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "finish_reason": usage.finish_reason,
                         "message": {"role": "assistant", "content": "".join(pieces)}}],
            "usage": {"prompt_tokens": usage.prompt_tokens,
                      "completion_tokens": usage.completion_tokens,
                      "total_tokens": usage.prompt_tokens + usage.completion_tokens}})

    middleware = []
    if settings.allow_origin:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(Middleware(CORSMiddleware, allow_origins=[settings.allow_origin],
                                     allow_methods=["GET", "POST"], allow_headers=["*"]))
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        if on_shutdown:  # uvicorn re-raises SIGTERM after shutdown: clean up here, not later
            on_shutdown()

    return Starlette(routes=[Route("/health", health), Route("/v1/models", models),
                             Route("/v1/chat/completions", chat, methods=["POST"])],
                     middleware=middleware, lifespan=lifespan, exception_handlers={
                         404: lambda r, e: error(404, f"no route {r.url.path}", code="not_found"),
                         405: lambda r, e: error(405, "method not allowed")})


async def _sse(queue: asyncio.Queue, future: Any, cancel: Cancel, cid: str, created: int,
               model: str) -> Any:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return "data: " + json.dumps({"id": cid, "object": "chat.completion.chunk",
                                      "created": created, "model": model, "choices": [
                                          {"index": 0, "delta": delta,
                                           "finish_reason": finish}]}) + "\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        while True:
            piece, _ = await queue.get()
            if piece is None:
                break
            yield chunk({"content": piece})
        usage = await asyncio.wrap_future(future)
        last = json.loads(chunk({}, usage.finish_reason)[6:])
        last["usage"] = {"prompt_tokens": usage.prompt_tokens,
                         "completion_tokens": usage.completion_tokens,
                         "total_tokens": usage.prompt_tokens + usage.completion_tokens}
        yield "data: " + json.dumps(last) + "\n\n"
        yield "data: [DONE]\n\n"
    finally:  # runs when the client disconnects too: stop generating for nobody
        cancel.set()
