"""`ga serve`: the personal model for every OpenAI client, editor plugin and script."""

from __future__ import annotations

from typing import Optional

import typer

from ga_cli.cli import modelopts, output


def serve(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to bind. Anything but loopback requires a bearer token.",
    ),
    port: int = typer.Option(8765, "--port", "-p", min=0, max=65535, help="0 picks a free port."),
    model: Optional[str] = typer.Option(
        None,
        "--model",
        "-m",
        help="A run id to pin, a model, or a provider through litellm (openai/gpt-4o-mini, "
        "ollama/llama3.2, an alias) to put your memory in front of; default: follow the "
        "current run (hot swap).",
    ),
    api_base: Optional[str] = modelopts.API_BASE,
    token: Optional[str] = typer.Option(
        None, "--token", envvar="GA_SERVE_TOKEN", help="Require `Authorization: Bearer TOKEN`."
    ),
    allow_origin: Optional[str] = typer.Option(
        None,
        "--allow-origin",
        help="Let web pages from this origin call the server (CORS), e.g. "
        "https://app.example; several comma-separated, or `*`. Pages from other sites, and "
        "requests naming another Host (DNS rebinding), are refused with 403.",
    ),
    max_queue: int = typer.Option(
        64, "--max-queue", min=1, help="Requests waiting beyond this get 429 with Retry-After."
    ),
    memory: str = typer.Option(
        "merge",
        "--memory",
        help="What your ledger adds to each request: `merge` puts your values, lessons and "
        "relevant corrections ahead of the client's own system prompt, marked as yours (editors "
        "and agents always send one); `fill` only to requests that carry none; `off` never. A "
        "request can choose with the header `X-GA-Memory` or the field `ga_memory`.",
    ),
    no_ledger_prompt: bool = typer.Option(
        False, "--no-ledger-prompt", help="The same as --memory off."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="No request log (method, path, status, tokens, ms) on stderr."
    ),
    no_log: bool = typer.Option(
        False,
        "--no-log",
        help="Keep served exchanges out of `ga history` (by default each is logged, redacted, "
        "under the client's name, so `ga correct --cid ID` can correct it; a request can opt "
        "out with the header `X-GA-Log: off`).",
    ),
    threads: Optional[int] = modelopts.THREADS,
    engine: Optional[str] = modelopts.ENGINE,
) -> None:
    """Serve the personal model as an OpenAI-compatible API (chat completions, models, health).

    curl http://127.0.0.1:8765/v1/chat/completions -d '{"model": "ga-personal", "messages":
    [{"role": "user", "content": "hi"}]}'"""
    from ga_cli.serve import server

    memory = "off" if no_ledger_prompt else modelopts.memory_mode(memory)
    ledger = modelopts.open_ledger_or_none()
    server.serve(
        host,
        port,
        model,
        ledger.config().model if ledger is not None else None,
        token,
        allow_origin,
        ledger,
        max_queue,
        output.info,
        quiet,
        memory,
        history=not no_log,
        api_base=api_base,
    )


def mcp(
    client: Optional[str] = typer.Option(
        None,
        "--client",
        help="Who the entries it writes are from (default: the name the client gives).",
    ),
) -> None:
    """Serve your ledger to agents over MCP (stdio): Claude Code, Cursor, Claude Desktop, Zed.

    Tools: preferences(query), history_search(query), and record_correction / add_value,
    which stay pending until you approve them in `ga review`.

    claude mcp add ga -- ga mcp"""
    from ga_cli.serve import mcp as mcp_server

    mcp_server.server(modelopts.open_ledger(), client).run("stdio")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("mcp")(mcp)
