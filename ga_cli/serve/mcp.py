"""`ga mcp`: the principal's ledger to any agent that speaks the Model Context Protocol (Claude
Code, Cursor, Claude Desktop, Zed...), over stdio, with the official SDK.

Tools that read: `preferences(query)` (the block every ga prompt carries: who the principal is,
their values and lessons, the past corrections most relevant to `query`) and
`history_search(query)`. Tools that write: `record_correction` and `add_value`, which land as
*pending* entries with provenance `tool`: nothing an agent writes shapes a model or a prompt
until the principal approves it in `ga review` (the ledger's one trust rule).

Every argument is bounded (MAX_CHARS) and checked before it reaches the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# the SDK reads the tools' annotations (`Context` among them) from this module's globals; the
# module is imported by `ga mcp` alone
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ga_cli.errors import GaError
from ga_cli.ledger import ops
from ga_cli.ledger.store import Ledger
from ga_cli.prompt.conversation import LedgerContext, LedgerReader

MAX_CHARS = 20_000  # per argument: a correction or a value, never a document
PREFERENCES_TOKENS = 1_500  # the block's budget (counted as a provider would: tiktoken)
PROVENANCE = "tool"
INSTRUCTIONS = (
    "The principal's own preferences, kept in their ga ledger. Call `preferences` with the "
    "task at hand before answering them, and follow what it returns. When the principal "
    "corrects you, call `record_correction` so the lesson is kept (they approve it in ga)."
)


def _text(value: str, name: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise GaError(f"`{name}` is empty", f"give the {name}")
    if len(text) > MAX_CHARS:
        raise GaError(f"`{name}` is {len(text)} characters; at most {MAX_CHARS}", "shorten it")
    if "\x00" in text:
        raise GaError(f"`{name}` contains a NUL character", "send plain text")
    return text


def preferences(context: LedgerContext, query: str) -> str:
    """The principal's block for `query`, as ga's own prompts carry it."""
    from ga_cli.models.remote import token_counter
    from ga_cli.prompt import prompting

    built = prompting.build_system(
        context.principal,
        context.values,
        context.corrections,
        _text(query, "query", required=False),
        PREFERENCES_TOKENS,
        token_counter(),
        corrections_mode="chosen",
        about=context.told,
        lessons=context.lessons,
    )
    return built.system


def history_search(query: str, limit: int = 5) -> list[dict[str, Any]]:
    """Past conversations whose prompts or answers match `query` (newest last)."""
    from ga_cli.chat.sessions import Session, summaries

    found = summaries(limit=max(1, min(limit, 20)), query=_text(query, "query"))
    return [
        {
            "id": s["id"],
            "kind": s["kind"],
            "time": s["time"],
            "turns": [
                {"prompt": t["prompt"][:2000], "answer": t["answer"][:2000]}
                for t in Session(s["id"]).turns()[:10]
            ],
        }
        for s in found
    ]


def record_correction(
    ledger: Ledger, client: str, prompt: str, rejected: str, chosen: str, why: str
) -> str:
    recorded = ops.add_correction(
        ledger,
        _text(prompt, "prompt"),
        _text(rejected, "rejected"),
        _text(chosen, "chosen"),
        why=_text(why, "why", required=False) or None,
        context=f"recorded by {client} through ga mcp",
        provenance=PROVENANCE,
        subject=f"correct (pending, from {client}): {ops.short(_text(why or chosen, 'why'))}",
    )
    return _pending(recorded.correction.id)


def add_value(ledger: Ledger, client: str, text: str, why: str) -> str:
    entry = ops.add_value(
        ledger,
        _text(text, "text"),
        why=_text(why, "why", required=False) or f"proposed by {client} through ga mcp",
        provenance=PROVENANCE,
    )
    return _pending(entry.id)


@contextmanager
def _said() -> Iterator[None]:
    """A problem the agent can act on reaches it as the tool's error, in one line."""
    try:
        yield
    except GaError as exc:
        raise ToolError(f"{exc.message}; {exc.hint}" if exc.hint else exc.message) from exc


def _pending(entry_id: str) -> str:
    return (
        f"Recorded as pending entry {entry_id}. It has no effect until the principal approves "
        "it with `ga review`."
    )


def server(ledger: Ledger, client: str | None = None) -> Any:
    """The MCP server (SDK's MCPServer) over this ledger; `client`: who the writes are from
    (default: the name the client gives when it connects)."""
    app = MCPServer("ga", instructions=INSTRUCTIONS)
    read = LedgerReader(ledger)  # the ledger read again only when a commit changed it

    def who(ctx: Context) -> str:
        params = getattr(getattr(ctx, "session", None), "client_params", None)
        info = getattr(params, "client_info", None) or getattr(params, "clientInfo", None)
        return client or str(getattr(info, "name", "") or "an MCP client")[:60]

    @app.tool(name="preferences")
    def get_preferences(query: str = "") -> str:
        """The principal's preferences for a task: who they are, their values and lessons,
        and their past corrections most relevant to `query`. Follow them."""
        with _said():
            return preferences(read(), query)

    @app.tool(name="history_search")
    def search_history(query: str, limit: int = 5) -> list[dict[str, Any]]:
        """Past conversations with the principal whose words match `query`."""
        with _said():
            return history_search(query, limit)

    @app.tool(name="record_correction")
    def correction(prompt: str, rejected: str, chosen: str, why: str, ctx: Context) -> str:
        """Record a correction the principal made: what was asked, the answer they rejected,
        the answer they wanted and why. Kept pending until they approve it."""
        with _said():
            return record_correction(ledger, who(ctx), prompt, rejected, chosen, why)

    @app.tool(name="add_value")
    def value(text: str, why: str, ctx: Context) -> str:
        """Propose a value the principal stated ("always cite sources"). Kept pending until
        they approve it."""
        with _said():
            return add_value(ledger, who(ctx), text, why)

    return app
