"""The HTTP application: routes (routes.py), the guards in front of them (Host/Origin, CORS),
the request log, and OpenAI-shaped answers to what no route handles."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ga_cli.serve import guard
from ga_cli.serve.completions_api import CompletionRoutes
from ga_cli.serve.engine import Engine
from ga_cli.serve.history import ServedHistory
from ga_cli.serve.ollama_api import OllamaRoutes
from ga_cli.serve.replies import error
from ga_cli.serve.responses_api import ResponseRoutes
from ga_cli.serve.routes import Routes, SystemFor


@dataclass
class Settings:
    token: str | None = None
    max_body: int = 1_000_000
    allow_origin: str | None = None  # `*`, or origins separated by commas
    max_tokens_cap: int = 4096
    hosts: tuple[str, ...] = ()  # Host names it answers to; empty: any (a token guards it)
    log: Callable[[str], None] | None = None  # one line per request; None: quiet
    memory: str = "merge"  # what the ledger adds to a request (conversation.MEMORY_MODES)
    history: bool = True  # every exchange into ga's history (serve.history); False: --no-log


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
            state = scope.get("state", {})
            tokens = state.get("ga_completion_tokens", "-")
            ms = (time.perf_counter() - start) * 1000
            unlogged = (
                f" (not in history: {state['ga_not_logged']})" if "ga_not_logged" in state else ""
            )
            self.log(f"{scope['method']} {scope['path']} {status[0]} {tokens} {ms:.0f}ms{unlogged}")

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


def create_app(
    engine: Engine,
    settings: Settings,
    system_for: SystemFor,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """`system_for(question, backend, client_system)`: the system prompt with the principal's
    memory (None: no ledger)."""
    routes = Routes(
        engine,
        settings.token,
        settings.max_body,
        settings.max_tokens_cap,
        system_for,
        settings.memory,
        ServedHistory() if settings.history else None,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if on_shutdown:  # uvicorn re-raises SIGTERM after shutdown: clean up here, not later
            on_shutdown()

    return Starlette(
        routes=[
            Route("/health", routes.health),
            Route("/v1/models", routes.models),
            Route("/v1/chat/completions", routes.chat, methods=["POST"]),
            Route("/v1/completions", CompletionRoutes(routes).complete, methods=["POST"]),
            Route("/v1/responses", ResponseRoutes(routes).respond, methods=["POST"]),
            Route("/v1/embeddings", routes.embeddings, methods=["POST"]),
            Route("/v1/models/{model:path}", routes.model),
            *ollama_routes(OllamaRoutes(routes)),
        ],
        middleware=_middleware(settings),
        lifespan=lifespan,
        exception_handlers={
            404: lambda r, e: error(404, f"no route {r.url.path}", code="not_found"),
            405: lambda r, e: error(405, "method not allowed"),
            500: lambda r, e: error(
                500, "internal server error (see the server's log)", "server_error"
            ),
        },
    )


def ollama_routes(api: OllamaRoutes) -> list[Route]:
    """Ollama's API on the same port (serve.ollama_api)."""
    return [
        Route("/api/version", api.version),
        Route("/api/tags", api.tags),
        Route("/api/ps", api.ps),
        Route("/api/show", api.show, methods=["POST"]),
        Route("/api/chat", api.chat, methods=["POST"]),
        Route("/api/generate", api.generate, methods=["POST"]),
        Route("/api/embed", api.embed, methods=["POST"]),
    ]


def _middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: the request log, the Host/Origin guard, then CORS where allowed."""
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
    return middleware
