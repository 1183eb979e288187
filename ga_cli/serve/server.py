"""Run the app on uvicorn, follow the registry's `current` run, and leave a discovery file."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.serve.engine import Engine, Loaded

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger
    from ga_cli.registry import Target

GRACE_S = 3  # seconds open connections get to finish after SIGTERM


def discovery_file() -> Path:
    return paths.runtime_dir() / "server.json"


@dataclass(frozen=True)
class Running:
    """A `ga serve` on this machine, as its discovery file names it."""

    url: str
    pid: int
    token: str | None = None


def loaded_by_running() -> list[dict[str, Any]]:
    """What a running `ga serve` has loaded (its /health: names, engine, queue), like `ollama
    ps`; empty when none runs or it does not answer within a second."""
    import httpx

    running = find_running()
    if running is None:
        return []
    headers = {"Authorization": f"Bearer {running.token}"} if running.token else {}
    root = running.url.removesuffix("/v1")
    try:
        health = httpx.get(root + "/health", headers=headers, timeout=1.0).json()
    except (httpx.HTTPError, ValueError):
        return []
    engine, queued = health.get("engine"), health.get("queued")
    return [
        {"name": name, "url": running.url, "pid": running.pid, "engine": engine, "queued": queued}
        for name in health.get("models") or []
    ]


def find_running() -> Running | None:
    """The running server, if its process is alive. A file left by a server that died
    (kill -9) is removed."""
    f = discovery_file()
    try:
        info = json.loads(f.read_text())
        pid = int(info["pid"])
        running = Running(str(info["url"]), pid, info.get("token"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        _remove_if_pid(f, pid)
        return None
    except OSError:
        return None
    return running


def _remove_if_pid(f: Path, pid: int) -> None:
    """Remove the discovery file if it still names `pid` (another server may have replaced it)."""
    try:
        if json.loads(f.read_text()).get("pid") == pid:
            f.unlink()
    except (OSError, ValueError):
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loader(
    model: str | None,
    configured: str | None,
    progress: Callable[[str], None],
    api_base: str | None = None,
) -> tuple[Callable[[], Loaded], Callable[[], str]]:
    """How to load what should be served, and a key that changes when that changes: what `-m`
    names (a run is pinned), else the current run followed as it changes, else the ledger's
    configured model (`configured`), else embedded."""
    from ga_cli import registry

    if model:
        named = registry.resolve(model)  # refused here, before anything loads, if it cannot
        fixed = named.spec if named.run is not None else "fixed"
        return lambda: _loaded(named, progress, api_base), lambda: fixed
    fallback = configured or "embedded"
    if not registry.names_a_run(fallback):
        registry.resolve(fallback)

    def key() -> str:
        run = registry.current()
        return run.id if run else "base"

    return lambda: _loaded(registry.resolve_default(fallback), progress), key


def _loaded(target: Target, progress: Callable[[str], None], api_base: str | None = None) -> Loaded:
    backend = target.load(progress, api_base=api_base)  # a provider: litellm, as `ga ask` uses
    run_id = target.run.id if target.run is not None else None
    return Loaded(backend, ["ga-personal", run_id or backend.name], run_id)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a GaError that names what is wrong with them."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise GaError(
            f"--host {host!r} is not an address this machine has",
            "give an IP address such as 127.0.0.1 (the default) or 0.0.0.0",
        ) from exc
    family, _, _, _, address = found[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise GaError(
            f"cannot bind {host}:{port}: {exc.strerror}",
            "choose another --port (0 picks a free one), or another --host",
        ) from exc
    return sock


def _system_for(ledger: Ledger | None) -> Callable[[str, Any, str | None], str | None]:
    """The routes' `system_for`: the ledger's block for a question, ahead of the client's own
    system prompt when it sent one (None without a ledger); the ledger is read again only when
    it has changed (`conversation.LedgerReader`)."""
    from ga_cli.prompt import conversation

    context = conversation.LedgerReader(ledger) if ledger is not None else None

    def system_for(question: str, backend: Any, client: str | None) -> str | None:
        if context is None or backend is None:
            return None
        prepared = conversation.prepare(
            backend,
            question,
            context=context(),
            system_override=client,
            memory="merge",  # the route has decided that the memory goes in
        )
        return prepared.messages[0]["content"]

    return system_for


def serve(
    host: str,
    port: int,
    model: str | None,
    configured: str | None,
    token: str | None,
    allow_origin: str | None,
    ledger: Ledger | None,
    max_queue: int,
    say: Callable[[str], None],
    quiet: bool = False,
    memory: str = "merge",
    history: bool = True,
    api_base: str | None = None,
) -> None:
    """`memory`: what the ledger adds to each request (conversation.MEMORY_MODES); `history`:
    every exchange into ga's history (serve.history)."""
    import uvicorn

    from ga_cli.serve import guard
    from ga_cli.serve.app import Settings, create_app

    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
        say(f"Binding {host} needs a token. Generated one (shown once): {token}")
    sock = _bind(host, port)  # a wrong --host is said before the model loads
    load, key = loader(model, configured, say, api_base)
    engine = Engine(load, key, max_queue=max_queue)
    try:
        engine.start()
    except BaseException:
        sock.close()
        raise

    f = discovery_file()

    def forget() -> None:
        _remove_if_pid(f, os.getpid())

    settings = Settings(
        token=token,
        allow_origin=allow_origin,
        log=None if quiet else say,
        memory=memory,
        history=history,
        hosts=guard.host_names(host) if is_loopback(host) else (),  # else a token guards it
    )
    app = create_app(engine, settings, _system_for(ledger), forget)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{bound}/v1"
    f.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, json.dumps({"url": url, "pid": os.getpid(), "token": token}).encode())
    os.close(fd)
    say(f"Serving {', '.join(engine.names())} at {url} (OpenAI-compatible). Ctrl-C stops.")

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # SIGTERM/SIGINT: stop generating at the next token, so the graceful shutdown
            # does not wait for answers nobody will read
            engine.close()
            super().handle_exit(sig, frame)

    try:
        _Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=GRACE_S)).run(
            sockets=[sock]
        )
    finally:
        engine.close()
        forget()
