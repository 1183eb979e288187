"""/v1/completions, the legacy text completion code-completion plugins and older clients call.

As Ollama's OpenAI layer does, the prompt is the user's turn of a chat in the model's own
template: the request goes through the chat route's checks, memory, queue and history
(`Routes.checked_turn`), and only the answer's shape differs (`text_completion`). Fields a
chat model cannot honour are refused by name, never ignored: `suffix` (fill-in-the-middle),
`echo`, `best_of` above 1, `logit_bias`, token-id prompts and more than one prompt.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ga_cli.serve.replies import error
from ga_cli.serve.routes import Routes

TEXT_ONLY = ("prompt", "suffix", "echo", "best_of", "logit_bias")


def prompt_of(body: dict[str, Any]) -> str | None:
    """The one text prompt of a completions request (a string, or a list of one string)."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    return prompt if isinstance(prompt, str) else None


def refusal(body: dict[str, Any]) -> str | None:
    """Why ga serve cannot answer this completions request as asked, naming the field."""
    if prompt_of(body) is None:
        given = body.get("prompt")
        if isinstance(given, list) and len(given) > 1:
            return "`prompt`: one prompt per request (send the others as their own requests)"
        return "`prompt` must be a string (token-id prompts are not supported by ga serve)"
    if body.get("suffix"):
        return "`suffix` (fill-in-the-middle) is not supported by ga serve; send the prompt alone"
    if body.get("echo"):
        return "`echo` is not supported by ga serve; send the request without it"
    best_of = body.get("best_of")
    if best_of not in (None, 1):
        return "`best_of` is not supported by ga serve; ask for `n` choices instead"
    if body.get("logit_bias"):
        return "`logit_bias` is not supported by ga serve; send the request without it"
    return None


class CompletionRoutes:
    def __init__(self, routes: Routes):
        self.routes = routes

    async def complete(self, request: Request) -> Response:
        body = await self.routes.read(request)
        if isinstance(body, Response):
            return body
        refused = refusal(body)
        if refused:
            return error(400, refused)
        chat = {k: v for k, v in body.items() if k not in TEXT_ONLY}
        chat["messages"] = [{"role": "user", "content": prompt_of(body)}]
        turn = await self.routes.checked_turn(request, chat)
        if isinstance(turn, Response):
            return turn
        return await self.routes.answer(turn, bool(body.get("stream")), text=True)
