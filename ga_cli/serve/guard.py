"""What stands between the network and the model: which sites may call the server, and how
much of a request body is read.

A server on loopback without a token is still reachable from every web page the principal
opens: a `text/plain` POST needs no CORS preflight, and a DNS-rebinding page talks to
127.0.0.1 under its own name. So, as Jupyter and Ollama (`OLLAMA_ORIGINS`) do, requests whose
`Host` is not the server's own address are refused, and so are cross-origin browser requests
unless `--allow-origin` names the origin.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def host_names(bound: str) -> tuple[str, ...]:
    """The `Host` names a server bound to the loopback address `bound` answers to: the
    address itself and the loopback names. (Bound elsewhere, it needs a token and checks no
    Host: serve/server.py passes none.)"""
    return tuple(dict.fromkeys((bound.strip("[]").lower(), *LOCAL_NAMES)))


def hostname(value: str) -> str:
    """`example.com:8765` -> `example.com`; `[::1]:8765` -> `::1`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def origins(allowed: str | None) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/").lower() for o in (allowed or "").split(",") if o.strip())


class SiteGuard:
    """ASGI middleware: 403 for a foreign `Host` (DNS rebinding) and for an `Origin` that is
    neither the server itself nor one `--allow-origin` lets in."""

    def __init__(self, app: Any, hosts: tuple[str, ...], allowed: tuple[str, ...]):
        self.app, self.hosts, self.allowed = app, hosts, allowed

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self.refusal(headers)
        if refused is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {
                "error": {
                    "message": refused,
                    "type": "permission_error",
                    "param": None,
                    "code": "forbidden",
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def refusal(self, headers: dict[str, str]) -> str | None:
        host = hostname(headers.get("host", ""))
        if self.hosts and host not in self.hosts:
            return (
                f"Host `{host[:100]}` is not this server's address; ga serve answers to "
                f"{', '.join(self.hosts)}"
            )
        origin = headers.get("origin")
        if origin is None:  # not a browser: curl, SDKs, editors
            return None
        origin = origin.strip().rstrip("/").lower()
        if "*" in self.allowed or origin in self.allowed:
            return None
        if urlsplit(origin).netloc == headers.get("host", "").strip().lower():
            return None  # same origin: the Host was checked above
        return (
            f"cross-origin requests from {origin[:100]} are refused; start the server with "
            f"--allow-origin {origin[:100]} to allow them"
        )


class BodyTooLarge(Exception):
    pass


async def read_body(request: Any, limit: int) -> bytes:
    """The request body, read no further than `limit` bytes (BodyTooLarge past it): a 32 MB
    body is refused after its first megabyte, not parsed whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """JSON, or ValueError (deep nesting included: a RecursionError is a client mistake)."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError("the request body is not valid JSON") from exc
