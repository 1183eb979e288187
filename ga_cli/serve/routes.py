"""The OpenAI-compatible routes, one handler each: /health, /v1/models, /v1/chat/completions,
/v1/embeddings (/v1/completions: completions_api.py). Client mistakes get 4xx in OpenAI's
error format, never a 500."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ga_cli.errors import GaError, ProviderError
from ga_cli.models.base import Backend, Cancel, Embedder, GenerationParams, Usage
from ga_cli.serve import guard, requests
from ga_cli.serve.engine import Closed, Engine, QueueFull
from ga_cli.serve.history import CLIENT_HEADER, LOG_HEADER, ServedHistory, client_name
from ga_cli.serve.replies import (
    InputTooLong,
    collect,
    completion,
    embed_within,
    error,
    prompt_tokens,
    refused,
    sse,
    too_long,
    upstream,
)

# (question, backend, the client's system prompt or None) -> the system prompt, merged with the
# principal's memory; None: no ledger (the request goes as it came)
SystemFor = Callable[[str, Any, "str | None"], "str | None"]
MEMORY_HEADER = "x-ga-memory"  # per request: merge, fill or off (or the body's `ga_memory`)


@dataclass
class Turn:
    """One chat request, checked and ready to generate."""

    model: str
    msgs: list[dict[str, str]]  # as the model gets them (the memory in)
    asked: requests.Asked
    log: Any  # Routes.exchange_log's logger, or None
    state: dict[str, Any]  # the request's state: tokens for the request log, the answer

    def background(self) -> BackgroundTask | None:
        """Logs a streamed answer once it has been sent whole."""
        return BackgroundTask(self.log, self.msgs, self.state) if self.log else None

    async def answered(self, answer: str, usage: Usage) -> None:
        self.state["ga_completion_tokens"] = usage.completion_tokens
        if self.log is not None:
            self.state.update(ga_answer=answer, ga_usage=usage)
            await self.log(self.msgs, self.state)


@dataclass
class Routes:
    engine: Engine
    token: str | None
    max_body: int
    max_tokens_cap: int
    system_for: SystemFor
    memory: str = "merge"  # `ga serve --memory`
    history: ServedHistory | None = None  # None: `ga serve --no-log`

    @property
    def backend(self) -> Backend | None:
        return self.engine.loaded.backend if self.engine.loaded else None

    def denied(self, request: Request) -> Response | None:
        """401 unless the request carries the bearer token (when the server has one)."""
        if self.token is None:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = self.token.encode("utf-8")  # bytes: a non-ASCII header cannot raise
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            given.strip().encode("latin-1"), expected
        ):
            return error(
                401, "missing or wrong bearer token", "authentication_error", "invalid_api_key"
            )
        return None

    async def read(self, request: Request) -> dict[str, Any] | Response:
        """The request's JSON object, read within the body limit, or the 4xx to answer."""
        denied = self.denied(request)
        if denied:
            return denied
        try:
            body = guard.parse_json(await guard.read_body(request, self.max_body))
        except guard.BodyTooLarge:
            return error(413, f"request body over {self.max_body} bytes", code="too_large")
        except ValueError as exc:
            return error(400, str(exc))
        if not isinstance(body, dict):
            return error(400, "the request body must be a JSON object")
        return body

    async def health(self, request: Request) -> Response:
        from ga_cli import __version__

        if self.denied(request) is not None:  # beyond loopback: liveness only, details need
            return JSONResponse({"status": "ok"})  # the token
        engine, backend = self.engine, self.backend
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "models": engine.names(),
                "engine": backend.engine if backend is not None else None,
                "queued": engine.pending,
                "decoding": len(engine.running),
                "most_together": engine.most_together,
                "served": engine.served,
                "generated_tokens": engine.generated_tokens,
            }
        )

    async def models(self, request: Request) -> Response:
        denied = self.denied(request)
        if denied:
            return denied
        listed = [self._model_entry(n) for n in self.engine.names()]
        return JSONResponse({"object": "list", "data": listed})

    async def model(self, request: Request) -> Response:
        """GET /v1/models/{id}: the openai SDK's `models.retrieve`."""
        denied = self.denied(request)
        if denied:
            return denied
        name = request.path_params["model"]
        if name not in self.engine.names():
            return error(404, f"model `{name}` does not exist", code="model_not_found")
        return JSONResponse(self._model_entry(name))

    def _model_entry(self, name: str) -> dict[str, Any]:
        window = self.backend.context_window if self.backend is not None else None
        return {"id": name, "object": "model", "created": 0, "owned_by": "ga",
                "context_window": window}  # fmt: skip

    async def embeddings(self, request: Request) -> Response:
        body = await self.read(request)
        if isinstance(body, Response):
            return body
        return await self.embed_body(request, body)

    async def embed_body(self, request: Request, body: dict[str, Any]) -> Response:
        """An embeddings request already read (the OpenAI and Ollama routes share it)."""
        if body.get("model") not in self.engine.names():
            return error(404, "`model` must be one of GET /v1/models", code="model_not_found")
        texts = requests.embedding_inputs(body)
        if isinstance(texts, str):
            return error(400, texts)
        backend = self.backend
        if not isinstance(backend, Embedder):
            return error(400, "embeddings need the llama.cpp engine: `ga serve --engine llama.cpp`")
        window = backend.context_window
        if window and any(len(t) > window * 64 for t in texts):  # before paying for counting
            return too_long(window, None, 0, "input")
        try:  # in the worker, behind --max-queue, like every generation
            future = self.engine.submit(lambda loaded: embed_within(loaded.backend, texts, window))
        except (QueueFull, Closed) as exc:
            return refused(exc)
        try:
            vectors, tokens = await asyncio.wrap_future(future)
        except InputTooLong as exc:
            return too_long(window, exc.tokens, 0, "input")
        except ValueError as exc:  # llama.cpp: a text beyond the context window
            return error(400, f"cannot embed: {exc}", code="context_length_exceeded")
        fmt = body.get("encoding_format", "float")
        data = [
            {"object": "embedding", "index": i, "embedding": requests.encode_embedding(v, fmt)}
            for i, v in enumerate(vectors)
        ]
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return JSONResponse(
            {"object": "list", "model": body["model"], "data": data, "usage": usage}
        )

    async def chat(self, request: Request) -> Response:
        body = await self.read(request)
        if isinstance(body, Response):
            return body
        turn = await self.checked_turn(request, body)
        if isinstance(turn, Response):
            return turn
        return await self.answer(turn, bool(body.get("stream")))

    async def answer(self, turn: Turn, stream: bool, text: bool = False) -> Response:
        """The answer to a checked turn, whole or streamed, as chat.completion or (with
        `text`: /v1/completions) text_completion."""
        cid, created = f"{'cmpl' if text else 'chatcmpl'}-{secrets.token_hex(8)}", int(time.time())
        if stream:
            queue: asyncio.Queue = asyncio.Queue()
            cancel = Cancel()
            future = self.submit(turn.msgs, turn.asked.params, cancel, queue)
            if isinstance(future, Response):
                return future
            return StreamingResponse(
                sse(queue, future, cancel, cid, created, turn.model, turn.state, text),
                media_type="text/event-stream",
                background=turn.background(),
            )
        answered = await self.choices(turn.msgs, turn.asked.params, turn.asked.n)
        if isinstance(answered, Response):
            return answered
        choices, total = answered
        await turn.answered(choices[0][0], total)
        return completion(cid, created, turn.model, choices, total, text)

    async def checked_turn(self, request: Request, body: dict[str, Any]) -> Turn | Response:
        """A chat request checked, with the principal's memory in, within the context window,
        and how it is logged; or the 4xx it deserves. The OpenAI and Ollama routes share it."""
        checked = await self.chat_request(body)
        if isinstance(checked, Response):
            return checked
        model, msgs, asked = checked
        memory = self.memory_for(request, body)
        if isinstance(memory, Response):
            return memory
        log = self.exchange_log(request, msgs)
        msgs = await self.with_system(msgs, memory)
        window = self.backend.context_window if self.backend is not None else 0
        if window and self.backend is not None:  # counted before queueing: one request cannot
            used = await asyncio.to_thread(prompt_tokens, self.backend, msgs)  # hold the worker
            if used + asked.params.max_tokens > window:
                return too_long(window, used, asked.params.max_tokens)
        state = request.scope.setdefault("state", {})  # the request log's token count
        return Turn(model, msgs, asked, log, state)

    def exchange_log(self, request: Request, asked: list[dict[str, str]]) -> Any:
        """What logs this exchange in history once answered (None: not logged), given the
        messages the client sent and, later, those the model got and the request's state."""
        history = self.history
        if history is None or request.headers.get(LOG_HEADER, "").lower() == "off":
            return None
        client = client_name(request.headers.get(CLIENT_HEADER), request.headers.get("user-agent"))

        async def log(sent: list[dict[str, str]], state: dict[str, Any]) -> None:
            answer, usage = state.get("ga_answer"), state.get("ga_usage") or Usage()
            if answer is None or self.backend is None:
                return
            system = sent[0]["content"] if sent and sent[0]["role"] == "system" else None
            name, cut = self.backend.name, bool(state.get("ga_interrupted"))
            try:
                await asyncio.to_thread(
                    history.record, client, asked, answer, name, usage, system, cut
                )
            except (sqlite3.Error, OSError, GaError) as exc:  # the answer stands; say why
                state["ga_not_logged"] = str(exc)  # the request log's line says it

        return log

    async def chat_request(
        self, body: dict[str, Any]
    ) -> tuple[str, list[dict[str, str]], requests.Asked] | Response:
        """The model, messages and parameters of a chat request, or the 4xx it deserves."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return error(400, "`model` is required")
        if model not in self.engine.names():
            return error(
                404,
                f"model `{model}` does not exist; GET /v1/models lists them",
                code="model_not_found",
            )
        msgs = requests.messages(body)
        if isinstance(msgs, str):
            return error(400, msgs)
        asked = requests.parse(body, self.max_tokens_cap)
        if isinstance(asked, str):
            return error(400, asked)
        bad_format = await self.check_format(asked)
        if bad_format is not None:
            return bad_format
        if asked.n > 1 and body.get("stream"):
            return error(400, "`n` > 1 is supported without `stream` only")
        window = self.backend.context_window if self.backend is not None else 0
        if window and sum(len(m["content"]) for m in msgs) > window * 64:
            # far beyond any tokenizer's chars-per-token: refuse before paying for counting
            return too_long(window, None, asked.params.max_tokens)
        return model, msgs, asked

    async def check_format(self, asked: requests.Asked) -> Response | None:
        """`response_format` needs llama.cpp, and a grammar it can build (probed in a child
        process: a grammar that would crash libllama crashes only that)."""
        backend = self.backend
        engine = backend.engine if backend is not None else "another engine"
        if asked.json_mode and engine != "llama.cpp":
            return error(
                400,
                f"`response_format` {asked.json_mode} needs the llama.cpp engine (constrained "
                f"decoding); this server runs {engine}: start it with "
                "`ga serve --engine llama.cpp`",
            )
        model_path = backend.model_path if backend is not None else None
        if asked.params.grammar and model_path:
            from ga_cli.models import grammar_probe

            try:
                await asyncio.to_thread(grammar_probe.check, model_path, asked.params.grammar)
            except GaError as exc:
                return error(400, f"`response_format` {asked.json_mode}: {exc.message}")
        return None

    def memory_for(self, request: Request, body: dict[str, Any]) -> str | Response:
        """The request's own memory mode (header, else body field) where it asks for less
        than the server's: a client can keep the ledger out, never put it in against
        `--memory`."""
        from ga_cli.prompt.conversation import MEMORY_MODES

        asked = request.headers.get(MEMORY_HEADER) or body.get("ga_memory") or self.memory
        if asked not in MEMORY_MODES:
            choices = ", ".join(MEMORY_MODES)
            return error(400, f"`{MEMORY_HEADER}` / `ga_memory` must be one of {choices}")
        return max(str(asked), self.memory, key=MEMORY_MODES.index)  # most to least memory

    async def with_system(self, msgs: list[dict[str, str]], memory: str) -> list[dict[str, str]]:
        """The principal's memory in the request: `merge` puts it ahead of the client's own
        system prompt (the client's system messages become one, first); `fill` only where the
        client sent none; `off` leaves the request as it came."""
        own = [m["content"] for m in msgs if m["role"] == "system"]
        if memory == "off" or (own and memory == "fill"):
            return msgs
        client = "\n\n".join(own) if own else None
        question = msgs[-1]["content"]
        system = await asyncio.to_thread(self.system_for, question, self.backend, client)
        if not system:
            return msgs
        return [{"role": "system", "content": system}, *(m for m in msgs if m["role"] != "system")]

    async def choices(
        self, msgs: list[dict[str, str]], params: GenerationParams, n: int
    ) -> tuple[list[tuple[str, str]], Usage] | Response:
        """`n` choices (seed, seed + 1, ... when a seed is given), queued together so that a
        model that batches decodes them at once."""
        queues: list[asyncio.Queue] = [asyncio.Queue() for _ in range(n)]
        cancels = [Cancel() for _ in range(n)]
        futures: list[Future] = []
        for i in range(n):
            seed = None if params.seed is None else params.seed + i
            future = self.submit(msgs, replace(params, seed=seed), cancels[i], queues[i])
            if isinstance(future, Response):  # the queue is full: the rest are not wanted
                for cancel in cancels:
                    cancel.set()
                return future
            futures.append(future)
        choices, total = [], Usage()
        try:
            texts = await asyncio.gather(*(collect(q) for q in queues))
            usages = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        except asyncio.CancelledError:  # the client went away
            for cancel in cancels:
                cancel.set()
            raise
        except ProviderError as exc:  # the provider behind `ga serve -m openai/...`
            for cancel in cancels:
                cancel.set()
            return upstream(exc)
        for text, usage in zip(texts, usages):
            choices.append((text, usage.finish_reason))
            total.prompt_tokens = usage.prompt_tokens
            total.completion_tokens += usage.completion_tokens
        return choices, total

    def submit(
        self,
        msgs: list[dict[str, str]],
        params: GenerationParams,
        cancel: Cancel,
        queue: asyncio.Queue,
    ) -> Future | Response:
        """Queue one generation whose pieces land on `queue`; a busy or closing server answers
        429 or 503 instead."""
        loop = asyncio.get_running_loop()

        def emit(piece: str | None, loaded: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (piece, loaded))

        try:
            return self.engine.stream(msgs, params, cancel, emit)
        except (QueueFull, Closed) as exc:
            return refused(exc)
