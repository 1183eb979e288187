"""A running `ga serve`, spoken to directly over HTTP (httpx), for fast pipelines.

litellm takes ~3.7 s to import; this client needs none of it, which is the point of a warm
server. Anything else remote still goes through litellm (remote.py).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from ga_cli.errors import GaError
from ga_cli.models.base import Cancel, GenerationParams, Message, Usage


class ServedBackend:
    engine = "ga-serve"
    remote = False
    model_path = None

    def __init__(self, url: str, token: str | None = None, model: str = "ga-personal"):
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.httpx = httpx
        self.client = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=httpx.Timeout(600.0, connect=5.0)
        )
        self.model = model
        self.usage = Usage()
        try:
            listed = self.client.get("/models").json()["data"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise GaError(
                f"the ga server at {url} did not answer ({exc})",
                "restart `ga serve`, or pass --no-server",
            ) from exc
        entry = next((m for m in listed if m["id"] == model), listed[0] if listed else {})
        self.name = f"ga-serve:{next((m['id'] for m in listed if m['id'] != model), model)}"
        self.context_window = int(entry.get("context_window") or 8192)
        self._encoding: Any = None

    def count_tokens(self, text: str) -> int:
        if self._encoding is None:
            from ga_cli.models.remote import tiktoken_encoding

            self._encoding = tiktoken_encoding()
        return len(self._encoding.encode(text, disallowed_special=()))

    def stream(
        self, messages: list[Message], params: GenerationParams, cancel: Cancel | None = None
    ) -> Iterator[str]:
        cancel = cancel or Cancel()
        body = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "stop": params.stop,
            "seed": params.seed,
            "repetition_penalty": params.repetition_penalty,
        }
        self.usage = Usage()
        try:
            with self.client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    detail = response.json().get("error", {}).get("message", response.text)
                    raise GaError(
                        f"the ga server refused the request ({response.status_code}): {detail}"
                    )
                for line in response.iter_lines():
                    if cancel.is_set():
                        break  # closing the response cancels the generation server-side
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    if chunk.get("usage"):
                        self.usage.prompt_tokens = chunk["usage"]["prompt_tokens"]
                        self.usage.completion_tokens = chunk["usage"]["completion_tokens"]
                    choice = (chunk.get("choices") or [{}])[0]
                    if choice.get("finish_reason"):
                        self.usage.finish_reason = choice["finish_reason"]
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except self.httpx.HTTPError as exc:
            raise GaError(f"lost the ga server mid-answer ({exc})", "pass --no-server") from exc

    def answer_logprobs(self, messages: list[Message], answer: str) -> list[float]:
        raise GaError("scoring answers needs the model in-process", "use --no-server")
