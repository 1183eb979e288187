"""`ga mcp`: the ledger to MCP clients over stdio, tested with the official SDK's own client
against the real `ga mcp` process and a real ledger."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from conftest import GA, REPO


def call_ga_mcp(*calls: tuple[str, dict[str, Any]]) -> tuple[list[str], list[Any]]:
    """Start `ga mcp`, list its tools, make `calls` in order; (tool names, results)."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=GA[0], args=[*GA[1:], "mcp"], env=dict(os.environ), cwd=str(REPO)
    )

    async def session() -> tuple[list[str], list[Any]]:
        async with Client(params) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            return tools, [await client.call_tool(name, args) for name, args in calls]

    return asyncio.run(session())


def text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def test_an_agent_reads_preferences_and_proposes_corrections_it_cannot_trust(ga, ledger):
    from ga_cli.chat.sessions import Session

    ga("values", "add", "Cite a source for every number.", "--priority", "1")
    ga("correct", "--prompt", "Book a table for two", "--rejected", "Done.", "--chosen",
       "Which evening, and which restaurant?", "--why", "Ask when unclear.")  # fmt: skip
    Session.create("ask", "embedded").log_turn("How do I rotate logs?", "Use logrotate.", "m")
    tools, results = call_ga_mcp(
        ("preferences", {"query": "book a table for dinner"}),
        ("history_search", {"query": "logrotate"}),
        (
            "record_correction",
            {
                "prompt": "Summarise the PR",
                "rejected": "It changes code.",
                "chosen": "It renames the config loader and adds a test.",
                "why": "Say what changed.",
            },
        ),
        ("add_value", {"text": "Prefer tables to prose for comparisons.", "why": "Said so."}),
        ("record_correction", {"prompt": "x", "rejected": "y", "chosen": "z" * 30_000, "why": ""}),
    )
    assert set(tools) == {"preferences", "history_search", "record_correction", "add_value"}
    prefs, found, corrected, valued, too_long = results
    assert "Test Principal" in text(prefs) and "Cite a source for every number." in text(prefs)
    assert "Which evening, and which restaurant?" in text(prefs)  # the relevant correction
    assert "Use logrotate." in text(found)
    for result in (corrected, valued):
        assert not result.is_error and "pending" in text(result) and "ga review" in text(result)
    assert too_long.is_error and "at most 20000" in text(too_long)
    pending = [e for e in ledger.scan()[0] if e.provenance == "tool"]
    assert {e.kind.name for e in pending} == {"correction", "value"}
    assert all(e.status == "pending" and not e.trusted for e in pending)  # nothing shapes a model
    assert "recorded by" in json.dumps([e.meta for e in pending])  # says which client
    from ga_cli.ledger import review

    assert {e.id for e in review.pending(ledger)} == {e.id for e in pending}  # ga review has them
    tools, (again,) = call_ga_mcp(("preferences", {"query": "summarise the PR"}))
    assert "renames the config loader" not in text(again)  # untrusted until approved
