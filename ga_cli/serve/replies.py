"""The server's answers in OpenAI's shapes: completions, stream chunks, and errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import JSONResponse

from ga_cli.dataset.tokens import PER_MESSAGE
from ga_cli.errors import ProviderError
from ga_cli.models.base import Backend, Cancel, Embedder, LocalModel, Usage
from ga_cli.serve import requests
from ga_cli.serve.engine import QueueFull


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


def prompt_tokens(backend: Backend, messages: list[dict[str, str]]) -> int:
    if isinstance(backend, LocalModel):
        return len(backend.prompt_ids(messages))
    return sum(backend.count_tokens(m["content"]) + PER_MESSAGE for m in messages)


async def collect(queue: asyncio.Queue) -> str:
    pieces: list[str] = []
    while True:
        piece, _ = await queue.get()
        if piece is None:
            return "".join(pieces)
        pieces.append(piece)


def completion(
    cid: str,
    created: int,
    model: str,
    choices: list[tuple[str, str]],
    usage: Usage,
    text: bool = False,
) -> JSONResponse:
    """A whole answer: chat.completion, or with `text` (/v1/completions) text_completion."""
    return JSONResponse(
        {
            "id": cid,
            "object": "text_completion" if text else "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {"index": i, "finish_reason": finish}
                | (
                    {"text": said, "logprobs": None}
                    if text
                    else {"message": {"role": "assistant", "content": said}}
                )
                for i, (said, finish) in enumerate(choices)
            ],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            },
        }
    )


def upstream(exc: ProviderError) -> JSONResponse:
    """The provider behind `ga serve -m PROVIDER/MODEL` refused or failed: its status, in
    OpenAI's error shape."""
    return JSONResponse(upstream_body(exc), status_code=exc.status)


def upstream_body(exc: ProviderError) -> dict[str, Any]:
    kind = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
    code = "upstream_error" if exc.status >= 500 else None
    found = kind.get(exc.status, "api_error")
    return {"error": {"message": exc.message, "type": found, "param": None, "code": code}}


def refused(exc: Exception) -> JSONResponse:
    """A full queue (429, retry shortly) or a server shutting down (503)."""
    if isinstance(exc, QueueFull):
        return error(
            429,
            "the server is busy; retry shortly",
            "rate_limit_error",
            headers={"Retry-After": "2"},
        )
    return error(503, "the server is shutting down", "server_error", "shutting_down")


class InputTooLong(ValueError):
    def __init__(self, tokens: int):
        super().__init__(f"{tokens} tokens")
        self.tokens = tokens


def embed_within(backend: Embedder, texts: list[str], window: int) -> tuple[list[list[float]], int]:
    """Embed `texts`, each counted first: llama.cpp would cut an over-long one silently."""
    total = 0
    for text in texts:
        used = backend.count_tokens(text)
        total += used
        if window and used > window:
            raise InputTooLong(used)
        if total > requests.MAX_EMBED_TOKENS:
            raise ValueError(f"the inputs hold over {requests.MAX_EMBED_TOKENS} tokens together")
    return backend.embed(texts)


def too_long(
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


async def sse(
    queue: asyncio.Queue,
    future: Any,
    cancel: Cancel,
    cid: str,
    created: int,
    model: str,
    state: dict[str, Any],
    text: bool = False,
) -> Any:
    """A generation as OpenAI streams it: chat.completion.chunk deltas, or with `text`
    (/v1/completions) text_completion chunks; usage on the last, then [DONE]."""

    def chunk(piece: str | None, finish: str | None = None, role: bool = False) -> dict[str, Any]:
        if text:
            choice = {"index": 0, "text": piece or "", "logprobs": None, "finish_reason": finish}
        else:
            delta = {} if piece is None else {"content": piece}
            choice = {"index": 0, "delta": {"role": "assistant"} | delta if role else delta,
                      "finish_reason": finish}  # fmt: skip
        kind = "text_completion" if text else "chat.completion.chunk"
        return {"id": cid, "object": kind, "created": created, "model": model, "choices": [choice]}

    def event(data: dict[str, Any]) -> str:
        return "data: " + json.dumps(data) + "\n\n"

    answer = Streamed(queue, future, cancel, state)
    try:
        if not text:
            yield event(chunk("", role=True))
        async for piece in answer.pieces():
            yield event(chunk(piece))
        try:
            usage = await answer.ended()
        except ProviderError as exc:  # headers are sent: the error goes as an event
            yield event(upstream_body(exc))
            return
        last = chunk(None, usage.finish_reason)
        last["usage"] = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        }
        yield event(last)
        yield "data: [DONE]\n\n"
    finally:  # runs when the client disconnects too: stop generating for nobody
        answer.close()


class Streamed:
    """One generation as it streams to a client (OpenAI's SSE, Ollama's NDJSON): its pieces,
    then how it ended. The request's `state` keeps what was answered for the history
    (`ga_answer`, `ga_usage`, `ga_interrupted`) whether or not the client stayed."""

    def __init__(self, queue: asyncio.Queue, future: Any, cancel: Cancel, state: dict[str, Any]):
        self.queue, self.future, self.cancel, self.state = queue, future, cancel, state
        self.answer: list[str] = []
        state["ga_interrupted"] = True  # until it ends whole

    async def pieces(self) -> Any:
        while True:
            piece, _ = await self.queue.get()
            if piece is None:
                return
            self.answer.append(piece)
            yield piece

    async def ended(self) -> Usage:
        """How the generation ended; ProviderError when the provider behind it failed."""
        usage = await asyncio.wrap_future(self.future)
        self.state.update(ga_completion_tokens=usage.completion_tokens, ga_usage=usage)
        self.state["ga_interrupted"] = False
        return usage

    def close(self) -> None:
        """Stop generating (for nobody, if the client left) and keep what was said."""
        self.cancel.set()
        self.state["ga_answer"] = "".join(self.answer)
