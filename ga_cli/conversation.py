"""One place that turns a question (plus history and piped data) into messages, and an answer.

Used by `ga ask`, `ga chat` and `ga prompt show`, so what `prompt show` prints is exactly what the
model sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ga_cli import prompting
from ga_cli.models.base import Backend, Message

SYSTEM_SHARE = 0.4  # at most this share of the context window goes to the ledger's system prompt


@dataclass
class Prepared:
    messages: list[Message]
    system: prompting.BuiltPrompt | None
    warnings: list[str] = field(default_factory=list)


def ledger_context(ledger: Any) -> tuple[Any, list, list]:
    """The principal, their values and their corrections, read once per conversation."""
    principal = ledger.principal()
    return principal, ledger.entries("value"), ledger.entries("correction")


def prepare(backend: Backend, question: str, *, context: tuple[Any, list, list] | None,
            history: list[Message] | None = None, data: str | None = None,
            system_override: str | None = None, max_tokens: int = 512) -> Prepared:
    count = backend.count_tokens
    window = backend.context_window
    warnings: list[str] = []
    built = None
    if system_override is not None:
        system = system_override
    elif context is not None:
        principal, values, corrections = context
        budget = max(64, int(window * SYSTEM_SHARE) - max_tokens // 4)
        built = prompting.build_system(principal, values, corrections, question, budget, count)
        system = built.system
        if built.dropped:
            warnings.append(f"{built.dropped} value(s)/correction(s) left out of the system "
                            f"prompt to fit its {budget}-token budget")
    else:
        system = prompting.TRUST
    user = question
    if data is not None:
        room = window - count(system) - count(question) - max_tokens - 64 - sum(
            count(m["content"]) for m in history or [])
        trimmed, cut = prompting.trim_middle(data, max(room, 64), count)
        if cut:
            warnings.append(f"piped input trimmed from {count(data)} to ~{count(trimmed)} tokens "
                            f"to fit the {window}-token context window")
        user = prompting.frame_untrusted(question, trimmed)
    history = list(history or [])
    # drop the oldest turns until everything fits
    while history and (count(system) + count(user) + max_tokens
                       + sum(count(m["content"]) for m in history)) > window:
        history = history[2:]
        warnings.append("oldest conversation turns dropped to fit the context window")
    messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": user}]
    return Prepared(messages, built, warnings)

