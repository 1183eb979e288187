"""/v1/responses, OpenAI's Responses API (what newer SDKs and agents call), on the same
checks, memory, queue and history as /v1/chat/completions (`Routes.checked_turn`).

A request is translated to the chat route's form: `instructions` is the system message,
`input` a string or a list of messages (text parts only), `max_output_tokens`, `temperature`,
`top_p` and `text.format` (json_object, json_schema) as the chat route takes them. The answer
is a `response` object, or with `stream` the Responses API's semantic events (created, the
message's text deltas, completed), each with its `sequence_number`. ga stores no responses:
`previous_response_id` and `conversation` are refused, as are tools, reasoning settings and
anything but text, by name (never ignored).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ga_cli.errors import ProviderError
from ga_cli.models.base import Cancel, Usage
from ga_cli.serve.replies import Streamed, error, upstream_body
from ga_cli.serve.routes import Routes, Turn

REFUSED = {
    "previous_response_id": "ga serve stores no responses: send the whole conversation as `input`",
    "conversation": "ga serve stores no conversations: send the whole conversation as `input`",
    "tools": "`tools` (function calling) is not supported by ga serve",
    "reasoning": "`reasoning` settings are not supported by ga serve",
    "include": "`include` is not supported by ga serve",
    "background": "`background` responses are not supported by ga serve",
    "prompt": "stored prompt templates are not supported by ga serve: send `input`",
    "max_tool_calls": "ga serve has no tools",
}
TEXT_PARTS = ("input_text", "output_text", "text")


def _text(content: Any) -> str | None:
    """A message's text: a string, or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        parts = [
            p.get("text") for p in content if isinstance(p, dict) and p.get("type") in TEXT_PARTS
        ]
        if len(parts) == len(content) and all(isinstance(t, str) for t in parts):
            return "".join(t for t in parts if isinstance(t, str))
    return None


def messages_of(body: dict[str, Any]) -> list[dict[str, Any]] | str:
    """The chat messages of a Responses request, or why it cannot be answered."""
    given = body.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given
    if not isinstance(items, list) or not items:
        return "`input` must be a string or a non-empty list of messages"
    msgs: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            return "`instructions` must be a string"
        msgs.append({"role": "system", "content": instructions})
    for i, item in enumerate(items):
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind != "message":
            return f"`input[{i}]`: only messages are supported by ga serve (got {kind!r})"
        text = _text(item.get("content"))
        if text is None:
            return f"`input[{i}].content`: only text is supported by ga serve"
        msgs.append({"role": item.get("role"), "content": text})
    return msgs


def chat_body(body: dict[str, Any]) -> dict[str, Any] | str:
    """The /v1/chat/completions body this Responses request stands for, or the 400's text."""
    for key, why in REFUSED.items():
        if body.get(key) not in (None, [], False):
            return f"`{key}`: {why}; send the request without it"
    if body.get("tool_choice") not in (None, "none", "auto"):
        return "`tool_choice`: ga serve has no tools; send the request without it"
    msgs = messages_of(body)
    if isinstance(msgs, str):
        return msgs
    chat: dict[str, Any] = {"model": body.get("model"), "messages": msgs}
    for theirs, ours in (("max_output_tokens", "max_tokens"), ("temperature", "temperature"),
                         ("top_p", "top_p"), ("ga_memory", "ga_memory")):  # fmt: skip
        if body.get(theirs) is not None:
            chat[ours] = body[theirs]
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        chat["response_format"] = {"type": "json_schema", "json_schema": fmt}
    elif fmt is not None:
        chat["response_format"] = fmt
    return chat


class ResponseRoutes:
    def __init__(self, routes: Routes):
        self.routes = routes

    async def respond(self, request: Request) -> Response:
        body = await self.routes.read(request)
        if isinstance(body, Response):
            return body
        chat = chat_body(body)
        if isinstance(chat, str):
            return error(400, chat)
        turn = await self.routes.checked_turn(request, chat)
        if isinstance(turn, Response):
            return turn
        made = Made(turn, body)
        if body.get("stream"):
            return self._stream(turn, made)
        answered = await self.routes.choices(turn.msgs, turn.asked.params, 1)
        if isinstance(answered, Response):
            return answered
        choices, usage = answered
        ((text, finish),) = choices
        await turn.answered(text, usage)
        return JSONResponse(made.response(text, usage, finish))

    def _stream(self, turn: Turn, made: Made) -> Response:
        import asyncio

        queue: asyncio.Queue = asyncio.Queue()
        cancel = Cancel()
        future = self.routes.submit(turn.msgs, turn.asked.params, cancel, queue)
        if isinstance(future, Response):
            return future
        answer = Streamed(queue, future, cancel, turn.state)
        return StreamingResponse(
            made.events(answer), media_type="text/event-stream", background=turn.background()
        )


class Made:
    """One response's identity and shapes: the whole object, and its stream of events."""

    def __init__(self, turn: Turn, body: dict[str, Any]):
        self.turn, self.body = turn, body
        self.id, self.msg_id = f"resp_{secrets.token_hex(12)}", f"msg_{secrets.token_hex(12)}"
        self.created, self.seq = int(time.time()), 0

    def message(self, text: str, done: bool) -> dict[str, Any]:
        content = [{"type": "output_text", "text": text, "annotations": []}] if done else []
        return {"type": "message", "id": self.msg_id, "role": "assistant",
                "status": "completed" if done else "in_progress", "content": content}  # fmt: skip

    def response(
        self, text: str | None, usage: Usage | None, finish: str | None = None
    ) -> dict[str, Any]:
        """The response object: in progress (no usage yet), completed, or incomplete when the
        answer reached `max_output_tokens` (`finish` "length")."""
        cut = usage is not None and (finish or usage.finish_reason) == "length"
        status = "in_progress" if usage is None else "incomplete" if cut else "completed"
        params = self.turn.asked.params
        out: dict[str, Any] = {
            "id": self.id, "object": "response", "created_at": self.created, "status": status,
            "model": self.turn.model, "output": [] if text is None else [self.message(text, True)],
            "error": None, "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "instructions": self.body.get("instructions"), "max_output_tokens": params.max_tokens,
            "temperature": params.temperature, "top_p": params.top_p, "tools": [],
            "tool_choice": "auto", "parallel_tool_calls": False, "store": False,
            "text": {"format": {"type": self.turn.asked.json_mode or "text"}},
            "metadata": self.body.get("metadata") or {}, "usage": None,
        }  # fmt: skip
        if usage is not None:
            out["usage"] = {
                "input_tokens": usage.prompt_tokens,
                "output_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            }
        return out

    def event(self, kind: str, **fields: Any) -> str:
        data = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return f"event: {kind}\ndata: {json.dumps(data)}\n\n"

    async def events(self, answer: Streamed) -> Any:
        """The Responses API's stream for one message of text."""
        at = {"item_id": self.msg_id, "output_index": 0, "content_index": 0}
        try:
            yield self.event("response.created", response=self.response(None, None))
            yield self.event("response.in_progress", response=self.response(None, None))
            item = self.message("", False)
            yield self.event("response.output_item.added", output_index=0, item=item)
            part = {"type": "output_text", "text": "", "annotations": []}
            yield self.event("response.content_part.added", **at, part=part)
            async for piece in answer.pieces():
                yield self.event("response.output_text.delta", **at, delta=piece, logprobs=[])
            try:
                usage = await answer.ended()
            except ProviderError as exc:  # headers are sent: the failure goes as an event
                yield self.event("error", **upstream_body(exc)["error"])
                return
            text = "".join(answer.answer)
            yield self.event("response.output_text.done", **at, text=text, logprobs=[])
            yield self.event("response.content_part.done", **at, part={**part, "text": text})
            done = self.message(text, True)
            yield self.event("response.output_item.done", output_index=0, item=done)
            whole = self.response(text, usage)
            yield self.event(f"response.{whole['status']}", response=whole)
        finally:
            answer.close()
