"""The OpenAI-compatible HTTP surface: /v1/chat/completions, /v1/embeddings, /v1/models,
/health.

Client mistakes get 4xx in OpenAI's error format, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ga_cli.dataset.tokens import PER_MESSAGE
from ga_cli.models.base import Cancel, GenerationParams, Usage
from ga_cli.serve import guard, requests
from ga_cli.serve.engine import Closed, Engine, QueueFull


@dataclass
class Settings:
    token: str | None = None
    max_body: int = 1_000_000
    allow_origin: str | None = None  # `*`, or origins separated by commas
    max_tokens_cap: int = 4096
    hosts: tuple[str, ...] = ()  # Host names it answers to; empty: any (a token guards it)
    log: Callable[[str], None] | None = None  # one line per request; None: quiet


class RequestLog:
    """ASGI middleware: `METHOD PATH STATUS TOKENS ms` once a response has been sent whole
    (a stream: when it ends). TOKENS is the completion's token count, `-` where none."""

    def __init__(self, app: Any, log: Callable[[str], None]):
        self.app, self.log = app, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [0]

        def line() -> None:
            tokens = scope.get("state", {}).get("ga_completion_tokens", "-")
            ms = (time.perf_counter() - start) * 1000
            self.log(f"{scope['method']} {scope['path']} {status[0]} {tokens} {ms:.0f}ms")

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                line()

        try:
            await self.app(scope, receive, sending)
        except Exception:  # the 500 is sent further out: log it here, where it happened
            status[0] = 500
            line()
            raise


def error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status_code=status,
        headers=headers,
    )


def _prompt_tokens(backend: Any, messages: list[dict[str, str]]) -> int:
    if hasattr(backend, "prompt_ids"):
        return len(backend.prompt_ids(messages))
    return sum(backend.count_tokens(m["content"]) + PER_MESSAGE for m in messages)


def create_app(
    engine: Engine,
    settings: Settings,
    system_for: Callable[[str, Any], str | None],
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """`system_for(question, backend)`: the ledger-derived system prompt (or None)."""

    def check_auth(request: Request) -> Response | None:
        if settings.token is None:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = settings.token.encode("utf-8")  # bytes: a non-ASCII header cannot raise
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            given.strip().encode("latin-1"), expected
        ):
            return error(
                401, "missing or wrong bearer token", "authentication_error", "invalid_api_key"
            )
        return None

    async def health(request: Request) -> Response:
        from ga_cli import __version__

        if (
            check_auth(request) is not None
        ):  # beyond loopback: liveness only, details need the token
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "models": engine.names(),
                "engine": getattr(engine.loaded.backend, "engine", None) if engine.loaded else None,
                "queued": engine.pending,
                "served": engine.served,
                "generated_tokens": engine.generated_tokens,
            }
        )

    async def models(request: Request) -> Response:
        denied = check_auth(request)
        if denied:
            return denied
        window = getattr(engine.loaded.backend, "context_window", None) if engine.loaded else None
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {
                        "id": n,
                        "object": "model",
                        "created": 0,
                        "owned_by": "ga",
                        "context_window": window,
                    }
                    for n in engine.names()
                ],
            }
        )

    async def read(request: Request) -> dict[str, Any] | Response:
        """The request's JSON object, read within the body limit, or the 4xx to answer."""
        try:
            body = guard.parse_json(await guard.read_body(request, settings.max_body))
        except guard.BodyTooLarge:
            return error(413, f"request body over {settings.max_body} bytes", code="too_large")
        except ValueError as exc:
            return error(400, str(exc))
        if not isinstance(body, dict):
            return error(400, "the request body must be a JSON object")
        return body

    async def embeddings(request: Request) -> Response:
        denied = check_auth(request)
        if denied:
            return denied
        body = await read(request)
        if isinstance(body, Response):
            return body
        if body.get("model") not in engine.names():
            return error(404, "`model` must be one of GET /v1/models", code="model_not_found")
        texts = requests.embedding_inputs(body)
        if isinstance(texts, str):
            return error(400, texts)
        backend: Any = engine.loaded.backend if engine.loaded else None
        if backend is None or not hasattr(backend, "embed"):
            return error(400, "embeddings need the llama.cpp engine: `ga serve --engine llama.cpp`")
        window = int(getattr(backend, "context_window", 0) or 0)
        if window and any(len(t) > window * 64 for t in texts):  # before paying for counting
            return _too_long(window, None, 0, "input")
        try:  # in the worker, behind --max-queue, like every generation
            future = engine.submit(lambda loaded: embed_within(loaded.backend, texts, window))
        except (QueueFull, Closed) as exc:
            return _refused(exc)
        try:
            vectors, tokens = await asyncio.wrap_future(future)
        except _InputTooLong as exc:
            return _too_long(window, exc.tokens, 0, "input")
        except ValueError as exc:  # llama.cpp: a text beyond the context window
            return error(400, f"cannot embed: {exc}", code="context_length_exceeded")
        fmt = body.get("encoding_format", "float")
        return JSONResponse(
            {
                "object": "list",
                "model": body["model"],
                "data": [
                    {
                        "object": "embedding",
                        "index": i,
                        "embedding": requests.encode_embedding(v, fmt),
                    }
                    for i, v in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def chat(request: Request) -> Response:
        denied = check_auth(request)
        if denied:
            return denied
        body = await read(request)
        if isinstance(body, Response):
            return body
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return error(400, "`model` is required")
        if model not in engine.names():
            return error(
                404,
                f"model `{model}` does not exist; GET /v1/models lists them",
                code="model_not_found",
            )
        msgs = requests.messages(body)
        if isinstance(msgs, str):
            return error(400, msgs)
        asked = requests.parse(body, settings.max_tokens_cap)
        if isinstance(asked, str):
            return error(400, asked)
        params = asked.params
        backend = engine.loaded.backend if engine.loaded else None
        if asked.json_mode and getattr(backend, "engine", None) != "llama.cpp":
            return error(
                400,
                f"`response_format` {asked.json_mode} needs the llama.cpp engine (constrained "
                f"decoding); this server runs {getattr(backend, 'engine', 'another engine')}: "
                f"start it with `ga serve --engine llama.cpp`",
            )
        model_path = getattr(backend, "model_path", None)
        if params.grammar and model_path:
            from ga_cli.errors import GaError
            from ga_cli.models import grammar_probe

            try:  # in a child process: a grammar that would crash libllama crashes only it
                await asyncio.to_thread(grammar_probe.check, model_path, params.grammar)
            except GaError as exc:
                return error(400, f"`response_format` {asked.json_mode}: {exc.message}")
        if asked.n > 1 and body.get("stream"):
            return error(400, "`n` > 1 is supported without `stream` only")
        window = getattr(backend, "context_window", None)
        if window and sum(len(m["content"]) for m in msgs) > window * 64:
            # far beyond any tokenizer's chars-per-token: refuse before paying for counting
            return _too_long(window, None, params.max_tokens)
        if not any(m["role"] == "system" for m in msgs):
            system = await asyncio.to_thread(system_for, msgs[-1]["content"], backend)
            if system:
                msgs = [{"role": "system", "content": system}, *msgs]
        if window and backend is not None:  # counted before queueing: one request cannot
            used = await asyncio.to_thread(_prompt_tokens, backend, msgs)  # hold the worker
            if used + params.max_tokens > window:
                return _too_long(window, used, params.max_tokens)
        cid, created = f"chatcmpl-{secrets.token_hex(8)}", int(time.time())
        state = request.scope.setdefault("state", {})  # the request log's token count
        if body.get("stream"):
            queue: asyncio.Queue = asyncio.Queue()
            cancel = Cancel()
            future = submit(msgs, params, cancel, queue)
            if isinstance(future, Response):
                return future
            return StreamingResponse(
                _sse(queue, future, cancel, cid, created, model, state),
                media_type="text/event-stream",
            )
        # `n` choices, one after another (seed, seed + 1, ... when a seed is given)
        choices, total = [], Usage()
        for i in range(asked.n):
            queue = asyncio.Queue()
            cancel = Cancel()
            seed = None if params.seed is None else params.seed + i
            future = submit(msgs, replace(params, seed=seed), cancel, queue)
            if isinstance(future, Response):
                return future
            try:
                text = await _collect(queue)
            except asyncio.CancelledError:  # the client went away
                cancel.set()
                raise
            usage = await asyncio.wrap_future(future)
            choices.append((text, usage.finish_reason))
            total.prompt_tokens = usage.prompt_tokens
            total.completion_tokens += usage.completion_tokens
        state["ga_completion_tokens"] = total.completion_tokens
        return _completion(cid, created, model, choices, total)

    def submit(
        msgs: list[dict[str, str]], params: GenerationParams, cancel: Cancel, queue: asyncio.Queue
    ) -> Future | Response:
        """Queue one generation whose pieces land on `queue`; a busy or closing server answers
        429 or 503 instead."""
        loop = asyncio.get_running_loop()

        def emit(piece: str | None, loaded: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (piece, loaded))

        try:
            return engine.stream(msgs, params, cancel, emit)
        except (QueueFull, Closed) as exc:
            return _refused(exc)

    middleware = []
    if settings.log is not None:
        middleware.append(Middleware(RequestLog, log=settings.log))
    allowed = guard.origins(settings.allow_origin)
    middleware.append(Middleware(guard.SiteGuard, hosts=settings.hosts, allowed=allowed))
    if allowed:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(allowed),
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            )
        )
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        if on_shutdown:  # uvicorn re-raises SIGTERM after shutdown: clean up here, not later
            on_shutdown()

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            404: lambda r, e: error(404, f"no route {r.url.path}", code="not_found"),
            405: lambda r, e: error(405, "method not allowed"),
            500: lambda r, e: error(
                500, "internal server error (see the server's log)", "server_error"
            ),
        },
    )


async def _collect(queue: asyncio.Queue) -> str:
    pieces: list[str] = []
    while True:
        piece, _ = await queue.get()
        if piece is None:
            return "".join(pieces)
        pieces.append(piece)


def _completion(
    cid: str, created: int, model: str, choices: list[tuple[str, str]], usage: Usage
) -> JSONResponse:
    return JSONResponse(
        {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": i,
                    "finish_reason": finish,
                    "message": {"role": "assistant", "content": text},
                }
                for i, (text, finish) in enumerate(choices)
            ],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            },
        }
    )


def _refused(exc: Exception) -> JSONResponse:
    """A full queue (429, retry shortly) or a server shutting down (503)."""
    if isinstance(exc, QueueFull):
        return error(
            429,
            "the server is busy; retry shortly",
            "rate_limit_error",
            headers={"Retry-After": "2"},
        )
    return error(503, "the server is shutting down", "server_error", "shutting_down")


class _InputTooLong(ValueError):
    def __init__(self, tokens: int):
        super().__init__(f"{tokens} tokens")
        self.tokens = tokens


def embed_within(backend: Any, texts: list[str], window: int) -> tuple[list[list[float]], int]:
    """Embed `texts`, each counted first: llama.cpp would cut an over-long one silently."""
    total = 0
    for text in texts:
        used = backend.count_tokens(text)
        total += used
        if window and used > window:
            raise _InputTooLong(used)
        if total > requests.MAX_EMBED_TOKENS:
            raise ValueError(f"the inputs hold over {requests.MAX_EMBED_TOKENS} tokens together")
    return backend.embed(texts)


def _too_long(
    window: int, used: int | None, max_tokens: int, param: str = "messages"
) -> JSONResponse:
    """OpenAI's answer to a prompt that does not fit the model's context window."""
    if param == "input":
        reduce = "Please reduce the length of the input."
        asked = (
            f"However, an input has {used} tokens"
            if used is not None
            else "However, an input is far longer than that"
        )
    else:
        reduce = "Please reduce the length of the messages or completion."
        asked = (
            f"However, you requested {used + max_tokens} tokens ({used} in the messages, "
            f"{max_tokens} in the completion)"
            if used is not None
            else "However, your messages alone are far longer than that"
        )
    return JSONResponse(
        {
            "error": {
                "message": f"This model's maximum context length is {window} tokens. {asked}. "
                + reduce,
                "type": "invalid_request_error",
                "param": param,
                "code": "context_length_exceeded",
            }
        },
        status_code=400,
    )


async def _sse(
    queue: asyncio.Queue,
    future: Any,
    cancel: Cancel,
    cid: str,
    created: int,
    model: str,
    state: dict[str, Any],
) -> Any:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return (
            "data: "
            + json.dumps(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
            )
            + "\n\n"
        )

    try:
        yield chunk({"role": "assistant", "content": ""})
        while True:
            piece, _ = await queue.get()
            if piece is None:
                break
            yield chunk({"content": piece})
        usage = await asyncio.wrap_future(future)
        state["ga_completion_tokens"] = usage.completion_tokens
        last = json.loads(chunk({}, usage.finish_reason)[6:])
        last["usage"] = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        }
        yield "data: " + json.dumps(last) + "\n\n"
        yield "data: [DONE]\n\n"
    finally:  # runs when the client disconnects too: stop generating for nobody
        cancel.set()
