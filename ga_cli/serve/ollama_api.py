"""Ollama's own API on `ga serve`'s port, for the tools that speak it (Open WebUI, Ollama
clients, editor plugins set to Ollama): /api/version, /api/tags, /api/ps, /api/show, /api/chat,
/api/generate (streamed as NDJSON as Ollama streams it, or whole with `stream: false`) and
/api/embed, with Ollama's field names and its `{"error": "..."}` errors.

A request is translated to the OpenAI route's form and goes through the same checks, memory,
queue and history (`Routes.checked_turn`); only the answer's shape differs.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ga_cli import __version__
from ga_cli.errors import ProviderError
from ga_cli.models.base import Cancel, Usage
from ga_cli.serve.replies import Streamed
from ga_cli.serve.routes import Routes, Turn

OPTIONS = {  # Ollama's options -> the OpenAI request's fields
    "temperature": "temperature",
    "top_p": "top_p",
    "num_predict": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "repeat_penalty": "repetition_penalty",
}


STAYS = "2318-01-01T00:00:00Z"  # /api/ps's expiry for a model that stays loaded (as keep_alive -1)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _said(turn: Turn, text: str, generate: bool) -> dict[str, Any]:
    """A piece (or the whole) of an answer as Ollama says it: /api/generate's `response`,
    /api/chat's `message`."""
    said: dict[str, Any] = {"model": f"{turn.model}:latest", "created_at": _now()}
    if generate:
        said["response"] = text
    else:
        said["message"] = {"role": "assistant", "content": text}
    return said


def _done(usage: Usage, start: int, generate: bool) -> dict[str, Any]:
    """What Ollama's last object adds: done, why, and the counts and durations (ns)."""
    took = time.perf_counter_ns() - start
    return {
        "done": True,
        "done_reason": usage.finish_reason,
        "total_duration": took,
        "load_duration": 0,
        "prompt_eval_count": usage.prompt_tokens,
        "eval_count": usage.completion_tokens,
        "eval_duration": took,
        **({"context": []} if generate else {}),
    }


def _ollama_error(response: Response) -> Response:
    """An OpenAI-shaped error as Ollama's `{"error": "..."}`, same status."""
    try:
        message = json.loads(bytes(response.body))["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response
    return JSONResponse({"error": message}, status_code=response.status_code)


class OllamaRoutes:
    def __init__(self, routes: Routes):
        self.routes = routes

    def _model(self, name: Any) -> str:
        """Ollama names carry a tag (`ga-personal:latest`); ga's names do not."""
        text = str(name or "")
        return text.removesuffix(":latest")

    def _entry(self, name: str) -> dict[str, Any]:
        backend = self.routes.backend
        return {
            "name": f"{name}:latest",
            "model": f"{name}:latest",
            "modified_at": _now(),
            "size": 0,
            "digest": "",
            "details": {
                "format": "gguf" if backend and backend.engine == "llama.cpp" else "",
                "family": "",
                "families": None,
                "parameter_size": "",
                "quantization_level": "",
            },
        }

    async def version(self, request: Request) -> Response:
        return JSONResponse({"version": __version__})

    async def tags(self, request: Request) -> Response:
        denied = self.routes.denied(request)
        if denied:
            return _ollama_error(denied)
        return JSONResponse({"models": [self._entry(n) for n in self.routes.engine.names()]})

    async def ps(self, request: Request) -> Response:
        denied = self.routes.denied(request)
        if denied:
            return _ollama_error(denied)
        loaded = self.routes.engine.names() if self.routes.backend is not None else []
        return JSONResponse(
            {"models": [{**self._entry(n), "expires_at": STAYS, "size_vram": 0} for n in loaded]}
        )

    async def show(self, request: Request) -> Response:
        body = await self.routes.read(request)
        if isinstance(body, Response):
            return _ollama_error(body)
        name = self._model(body.get("model") or body.get("name"))
        if name not in self.routes.engine.names():
            return JSONResponse({"error": f"model '{name}' not found"}, status_code=404)
        backend = self.routes.backend
        window = backend.context_window if backend is not None else None
        entry = self._entry(name)
        return JSONResponse(
            {
                "modelfile": "",
                "parameters": "",
                "template": "",
                "details": entry["details"],
                "model_info": {"general.context_length": window},
                "capabilities": ["completion"],
                "modified_at": entry["modified_at"],
            }
        )

    async def chat(self, request: Request) -> Response:
        return await self._answer(request, generate=False)

    async def generate(self, request: Request) -> Response:
        return await self._answer(request, generate=True)

    def _openai_body(self, body: dict[str, Any], generate: bool) -> dict[str, Any]:
        messages: Any
        if generate:
            messages = [{"role": "user", "content": body.get("prompt") or ""}]
            if body.get("system"):
                messages.insert(0, {"role": "system", "content": body["system"]})
        else:
            messages = body.get("messages")  # checked by the OpenAI route's rules
        out: dict[str, Any] = {"model": self._model(body.get("model")), "messages": messages}
        given = body.get("options")
        options: dict[str, Any] = given if isinstance(given, dict) else {}
        for theirs, ours in OPTIONS.items():
            if options.get(theirs) is not None:
                out[ours] = options[theirs]
        if out.get("max_tokens") == -1:  # Ollama: no limit; ga: its cap
            del out["max_tokens"]
        fmt = body.get("format")
        if fmt == "json":
            out["response_format"] = {"type": "json_object"}
        elif isinstance(fmt, dict):
            out["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
        if "ga_memory" in body:
            out["ga_memory"] = body["ga_memory"]
        return out

    async def _answer(self, request: Request, generate: bool) -> Response:
        body = await self.routes.read(request)
        if isinstance(body, Response):
            return _ollama_error(body)
        turn = await self.routes.checked_turn(request, self._openai_body(body, generate))
        if isinstance(turn, Response):
            return _ollama_error(turn)
        start = time.perf_counter_ns()
        if body.get("stream", True) is False:
            answered = await self.routes.choices(turn.msgs, turn.asked.params, 1)
            if isinstance(answered, Response):
                return _ollama_error(answered)
            choices, usage = answered
            text = choices[0][0]
            await turn.answered(text, usage)
            said = _said(turn, text, generate)
            return JSONResponse({**said, **_done(usage, start, generate)})
        queue: asyncio.Queue = asyncio.Queue()
        cancel = Cancel()
        future = self.routes.submit(turn.msgs, turn.asked.params, cancel, queue)
        if isinstance(future, Response):
            return _ollama_error(future)
        lines = self._lines(turn, Streamed(queue, future, cancel, turn.state), start, generate)
        return StreamingResponse(
            lines, media_type="application/x-ndjson", background=turn.background()
        )

    async def _lines(self, turn: Turn, answer: Streamed, start: int, generate: bool) -> Any:
        """Ollama's stream: one JSON object per line, `done: true` with the counts last."""
        try:
            async for piece in answer.pieces():
                yield json.dumps({**_said(turn, piece, generate), "done": False}) + "\n"
            try:
                usage = await answer.ended()
            except ProviderError as exc:
                yield json.dumps({"error": exc.message}) + "\n"
                return
            yield json.dumps({**_said(turn, "", generate), **_done(usage, start, generate)}) + "\n"
        finally:
            answer.close()

    async def embed(self, request: Request) -> Response:
        body = await self.routes.read(request)
        if isinstance(body, Response):
            return _ollama_error(body)
        openai = {"model": self._model(body.get("model")), "input": body.get("input")}
        answer = await self.routes.embed_body(request, openai)
        if answer.status_code != 200:
            return _ollama_error(answer)
        data = json.loads(bytes(answer.body))
        return JSONResponse(
            {
                "model": f"{openai['model']}:latest",
                "embeddings": [d["embedding"] for d in data["data"]],
                "prompt_eval_count": data["usage"]["prompt_tokens"],
            }
        )
