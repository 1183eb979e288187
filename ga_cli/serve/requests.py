"""What a /v1/chat/completions request asks for, checked: generation settings, messages, and
the fields ga serve honours or refuses by name (never silently ignores).

Honoured: temperature, top_p, max_tokens/max_completion_tokens, seed, stop, stream,
repetition_penalty, `n` (choices generated one after another), `response_format` json_object and
json_schema (constrained decoding with a llama.cpp grammar: on the llama.cpp engine only), the
`developer` role (as system) and `tool` messages (framed as untrusted data, like piped input).
Refused with a 400 that names the field: `tools`/`functions` and the fields that steer them
(`tool_choice`, `function_call`, `parallel_tool_calls`), `logprobs`/`top_logprobs`, other
response formats, and JSON schemas the grammar cannot honour safely (serve/schema.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ga_cli.models.base import ANSWER_MAX_TOKENS, ANSWER_REPETITION_PENALTY, GenerationParams

ROLES = ("system", "developer", "user", "assistant", "tool")  # developer: newer name for system
SEED_MAX = 2**63 - 1
MAX_CHOICES = 8  # `n`: each choice is a whole generation on one worker


@dataclass(frozen=True)
class Asked:
    params: GenerationParams
    n: int = 1
    json_mode: str | None = None  # `json_object` or `json_schema` when the answer is constrained


def _number(
    body: dict[str, Any], key: str, default: float, low: float, high: float, low_open: bool = False
) -> float | str:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return f"`{key}` must be a number (temperature, top_p, max_tokens and seed are numbers)"
    if value < low or value > high or (low_open and value == low):
        return f"`{key}` must be {'above' if low_open else 'at least'} {low} and at most {high}"
    return float(value)


def _int(body: dict[str, Any], key: str, low: int, high: int) -> int | str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"`{key}` must be a whole number"  # max_tokens, seed, n
    if not low <= value <= high:
        return f"`{key}` must be between {low} and {high}"
    return value


def response_format(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(grammar, json mode name, error): JSON mode and JSON schema become a GBNF grammar."""
    fmt = body.get("response_format")
    if fmt is None:
        return None, None, None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return None, None, None
    if kind not in ("json_object", "json_schema"):
        name = kind if isinstance(kind, str) else repr(fmt)
        return (
            None,
            None,
            f"`response_format` {name} is not supported by ga serve; use text, "
            f"json_object or json_schema",
        )
    from ga_cli.errors import GaError

    schema = None
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            return None, None, "`response_format.json_schema.schema` must be a JSON schema object"
    try:
        return schema_grammar(schema), kind, None
    except GaError as exc:
        where = "`response_format.json_schema`" if schema is not None else "`response_format`"
        return None, None, f"{where}: {exc.message}"


def schema_grammar(schema: dict[str, Any] | None) -> str:
    """GBNF for answers that match `schema` (None: any JSON object), checked before llama.cpp
    sees it (a bad schema can crash libllama, not just fail) and bounded in size; GaError
    naming the problem. `response_format` and `ga ask --schema` both come here."""
    from ga_cli.errors import GaError
    from ga_cli.models.llamacpp import json_grammar
    from ga_cli.serve import schema as checked

    if schema is not None:
        try:
            checked.check(schema)
        except checked.SchemaError as exc:
            raise GaError(str(exc)) from exc
    try:
        grammar = json_grammar(schema)
    except RecursionError as exc:
        raise GaError(f"the schema nests too deeply ({exc})") from exc
    if len(grammar) > checked.MAX_GRAMMAR:
        raise GaError(
            f"the schema makes a grammar of {len(grammar)} characters; at most "
            f"{checked.MAX_GRAMMAR}: simplify the schema"
        )
    return grammar


def _unsupported(body: dict[str, Any]) -> str | None:
    if body.get("tools") or body.get("functions"):
        return (
            "`tools` (function calling) is not supported by ga serve; send the request without it"
        )
    for key in ("tool_choice", "function_call", "parallel_tool_calls"):
        if body.get(key) is not None:
            return (
                f"`{key}` is not supported by ga serve: it has no function calling; send the "
                f"request without it"
            )
    for key in ("logprobs", "top_logprobs"):
        if body.get(key) not in (None, False):
            return f"`{key}` is not supported by ga serve; send the request without it"
    return None


def parse(body: dict[str, Any], cap: int) -> Asked | str:
    """What the request asks for, or the message of the 400 that names the field."""
    temperature = _number(body, "temperature", 0.7, 0.0, 2.0)
    top_p = _number(body, "top_p", 1.0, 0.0, 1.0, low_open=True)
    max_tokens = _int(body, "max_tokens", 1, cap)
    max_completion = _int(body, "max_completion_tokens", 1, cap)
    seed = _int(body, "seed", 0, SEED_MAX)
    n = _int(body, "n", 1, MAX_CHOICES)
    penalty = _number(body, "repetition_penalty", ANSWER_REPETITION_PENALTY, 1.0, 2.0)
    for checked in (temperature, top_p, max_tokens, max_completion, seed, n, penalty):
        if isinstance(checked, str):
            return checked
    refused = _unsupported(body)
    if refused:
        return refused
    grammar, json_mode, bad_format = response_format(body)
    if bad_format:
        return bad_format
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop
    if stops is not None and (
        not isinstance(stops, list) or len(stops) > 4 or not all(isinstance(x, str) for x in stops)
    ):
        return "`stop` must be a string or a list of up to 4 strings"
    if not isinstance(body.get("stream", False), (bool, type(None))):
        return "`stream` must be true or false"
    assert not isinstance(temperature, str) and not isinstance(top_p, str)
    assert not isinstance(penalty, str)
    limit = max_tokens if max_tokens is not None else max_completion
    params = GenerationParams(
        temperature=temperature,
        top_p=top_p,
        max_tokens=int(limit) if limit is not None else min(ANSWER_MAX_TOKENS, cap),
        stop=[x for x in stops if x] or None if stops else None,
        seed=seed if isinstance(seed, int) else None,
        repetition_penalty=penalty,
        grammar=grammar,
    )
    return Asked(params, int(n or 1), json_mode)


def _content(content: Any) -> str | None:
    """A message's text: a string, or a list of {"type": "text", "text": "..."} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        texts = []
        for part in content:
            if not (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            ):
                return None
            texts.append(part["text"])
        return "".join(texts)
    return None


def messages(body: dict[str, Any]) -> list[dict[str, str]] | str:
    """The conversation as ga's roles: developer -> system; a tool's output -> a user turn that
    frames it as untrusted data (it is material to work on, never instructions)."""
    from ga_cli.prompt.prompting import frame_untrusted

    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "`messages` must be a non-empty list"
    out: list[dict[str, str]] = []
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"messages[{i}].role must be one of {', '.join(ROLES)}"
        raw = m.get("content")
        if raw is None and m["role"] == "assistant" and m.get("tool_calls"):
            raw = ""  # an assistant turn that only called a tool
        text = _content(raw)
        if text is None:
            return (
                f"messages[{i}].content must be a string or a list of "
                f'{{"type": "text", "text": "..."}} parts'
            )
        role = str({"developer": "system", "tool": "user"}.get(m["role"], m["role"]))
        if m["role"] == "tool":
            text = frame_untrusted("Here is the output of a tool call.", text)
        out.append({"role": role, "content": text})
    return out


MAX_EMBED_INPUTS = 64
MAX_EMBED_TOKENS = 32_768  # in one request, all inputs together


def embedding_inputs(body: dict[str, Any]) -> list[str] | str:
    """/v1/embeddings `input`: one text or a list of texts (an error message otherwise)."""
    given = body.get("input")
    texts = [given] if isinstance(given, str) else given
    if not isinstance(texts, list) or not texts:
        return "`input` must be a string or a non-empty list of strings"
    if not all(isinstance(t, str) for t in texts):
        return "`input` as token ids is not supported by ga serve; send text"
    if len(texts) > MAX_EMBED_INPUTS:
        return f"`input` has {len(texts)} texts; at most {MAX_EMBED_INPUTS} a request"
    if any(not t.strip() for t in texts):
        return "`input` has an empty text"
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        return "`encoding_format` must be float or base64"
    return list(texts)


def encode_embedding(vector: list[float], fmt: str) -> list[float] | str:
    """A vector as OpenAI sends it: floats, or base64 of little-endian float32."""
    if fmt != "base64":
        return vector
    import base64
    import struct

    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
