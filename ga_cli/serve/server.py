"""Run the app on uvicorn, follow the registry's `current` run, and leave a discovery file."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
from pathlib import Path
from typing import Any, Callable

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.serve.engine import Engine, Loaded

GRACE_S = 3  # seconds open connections get to finish after SIGTERM


def discovery_file() -> Path:
    return paths.runtime_dir() / "server.json"


def find_running() -> dict[str, Any] | None:
    """The running server's {url, pid, token}, if its process is alive. A file left by a
    server that died (kill -9) is removed."""
    f = discovery_file()
    try:
        info = json.loads(f.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        _remove_if_pid(f, pid)
        return None
    except OSError:
        return None
    return info


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
    model: str | None, fallback_spec: str, progress: Callable[[str], None]
) -> tuple[Callable[[], Loaded], Callable[[], str]]:
    """How to load what should be served, and a key that changes when that changes."""
    from ga_cli import models
    from ga_cli.models import aliases
    from ga_cli.training import registry

    model = aliases.resolve(model) if model else None  # `ga serve -m ALIAS`, as `ga ask -m`
    if model and not (model.startswith("r-") or model in ("current", "ga-personal")):
        models.check_spec(model)  # a name that cannot load is refused before anything loads
    if model and not (model.startswith("r-") or model in ("current", "ga-personal")):

        def fixed() -> Loaded:
            backend = models.load(model, progress=progress)
            return Loaded(backend, ["ga-personal", backend.name], None)

        return fixed, lambda: "fixed"
    if model:  # one named run, no following
        run = registry.get(model)

        def pinned() -> Loaded:
            return Loaded(run.backend(progress), ["ga-personal", run.id], run.id)

        return pinned, lambda: run.id

    def follow() -> Loaded:
        run = registry.current()
        if run is None:
            backend = models.load(fallback_spec, progress=progress)
            return Loaded(backend, ["ga-personal", backend.name], None)
        return Loaded(run.backend(progress), ["ga-personal", run.id], run.id)

    def key() -> str:
        run = registry.current()
        return run.id if run else "base"

    return follow, key


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


def serve(
    host: str,
    port: int,
    model: str | None,
    fallback_spec: str,
    token: str | None,
    allow_origin: str | None,
    ledger: Any,
    max_queue: int,
    say: Callable[[str], None],
    quiet: bool = False,
) -> None:
    import uvicorn

    from ga_cli.prompt import conversation
    from ga_cli.serve import guard
    from ga_cli.serve.app import Settings, create_app

    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
        say(f"Binding {host} needs a token. Generated one (shown once): {token}")
    sock = _bind(host, port)  # a wrong --host is said before the model loads
    load, key = loader(model, fallback_spec, say)
    engine = Engine(load, key, max_queue=max_queue)
    try:
        engine.start()
    except BaseException:
        sock.close()
        raise

    def system_for(question: str, backend: Any) -> str | None:
        if ledger is None or backend is None:
            return None
        prepared = conversation.prepare(
            backend, question, context=conversation.ledger_context(ledger)
        )
        return prepared.messages[0]["content"]

    f = discovery_file()

    def forget() -> None:
        _remove_if_pid(f, os.getpid())

    settings = Settings(
        token=token,
        allow_origin=allow_origin,
        log=None if quiet else say,
        hosts=guard.host_names(host) if is_loopback(host) else (),  # else a token guards it
    )
    app = create_app(engine, settings, system_for, forget)
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
