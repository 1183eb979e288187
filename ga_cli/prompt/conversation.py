"""One place that turns a question (plus history and piped data) into messages, and an answer.

Used by `ga ask`, `ga chat` and `ga prompt show`, so what `prompt show` prints is exactly what the
model sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ga_cli.models.base import Backend, Message
from ga_cli.prompt import prompting, ranking
from ga_cli.prompt.prompting import Entry

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger

SYSTEM_SHARE = 0.4  # at most this share of the context window goes to the ledger's system prompt


@dataclass
class Prepared:
    messages: list[Message]
    system: prompting.BuiltPrompt | None
    warnings: list[str] = field(default_factory=list)
    data: str | None = None  # the piped data as the model got it (trimmed to fit): what is logged


@dataclass
class LedgerContext:
    """What the system prompt is built from: the principal and their *trusted* entries."""

    principal: Any
    values: Sequence[Entry]
    corrections: Sequence[Entry]
    invalid: int = 0  # files that fail the ledger's schema: left out, named by `ga doctor`
    corrections_mode: str = prompting.DEFAULT_CORRECTIONS  # config `prompt_corrections`
    told: Sequence[prompting.Told] = ()  # interview answers (`ga interview`)
    lessons: Sequence[Entry] = ()  # corrections' whys kept as lessons (`ga correct --lesson`)


def ledger_context(ledger: Ledger) -> LedgerContext:
    """The principal, their trusted values and corrections, read once per conversation."""
    good, bad = ledger.scan()
    trusted = [e for e in good if e.trusted]
    return LedgerContext(
        ledger.principal(),
        [e for e in trusted if e.kind.name == "value"],
        ranking.Index(e for e in trusted if e.kind.name == "correction"),
        len({p.path for p in bad}),
        prompting.setting(ledger.config()),
        prompting.told([e for e in trusted if e.kind.name == "interview"]),
        [e for e in trusted if e.is_lesson],
    )


# what the ledger adds to a system prompt of the caller's, from the most to the least
MEMORY_MODES = ("merge", "fill", "off")
CALLER_HEADER = (
    "\n\nThe principal is using a tool that adds the instructions below. Follow them where "
    "they do not conflict with the principal's values and lessons above:\n"
)


def _system(
    backend: Backend,
    question: str,
    context: LedgerContext | None,
    caller: str | None,
    memory: str,
    max_tokens: int,
) -> tuple[str, prompting.BuiltPrompt | None]:
    """The system prompt: the ledger's, the caller's, or (`merge`) the principal's block
    ahead of the caller's, marked as the principal's; the trust rule alone without either."""
    if memory not in MEMORY_MODES:
        raise ValueError(f"unknown memory mode {memory!r}")
    wanted = memory == "merge" or (memory == "fill" and caller is None)
    if context is None or not wanted:
        return (caller if caller is not None else prompting.TRUST), None
    count = backend.count_tokens
    room = int(backend.context_window * SYSTEM_SHARE) - max_tokens // 4
    budget = max(64, room - (count(caller) if caller is not None else 0))
    built = prompting.build_system(
        context.principal,
        context.values,
        context.corrections,
        question,
        budget,
        count,
        corrections_mode=prompting.corrections_mode(
            context.corrections_mode, remote=backend.remote
        ),
        about=context.told,
        lessons=context.lessons,
    )
    if caller is None:
        return built.system, built
    return built.system + CALLER_HEADER + caller, built


class LedgerReader:
    """`ledger_context` for a long-running process (`ga serve`, `ga mcp`): read again only
    when a commit has changed the ledger (`Ledger.revision`; every `ga` change is a commit,
    and any `ga` command commits hand edits), not on every request."""

    def __init__(self, ledger: Ledger):
        import threading

        self.ledger = ledger
        self._read: tuple[tuple[int, ...], LedgerContext] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> LedgerContext:
        stamp = self.ledger.revision()
        with self._lock:
            if self._read is None or self._read[0] != stamp:
                self._read = (stamp, ledger_context(self.ledger))
            return self._read[1]


def standing_system(context: LedgerContext) -> str:
    """The part of the system prompt that does not depend on the question: who the principal
    is, the trust rule and their values (what an exported model carries as its SYSTEM)."""
    return prompting.build_system(
        context.principal,
        context.values,
        [],
        "",
        budget=1 << 30,
        count=lambda _: 0,
        lessons=context.lessons,
    ).system


def prepare(
    backend: Backend,
    question: str,
    *,
    context: LedgerContext | None,
    history: list[Message] | None = None,
    data: str | None = None,
    system_override: str | None = None,
    memory: str = "fill",
    max_tokens: int = 512,
) -> Prepared:
    """`system_override`: a system prompt of the caller's own (`ga ask -s`, a client's through
    `ga serve`); `memory` says what the ledger adds to it (MEMORY_MODES)."""
    count = backend.count_tokens
    window = backend.context_window
    warnings: list[str] = []
    system, built = _system(backend, question, context, system_override, memory, max_tokens)
    if built is not None:
        if context is not None and context.invalid:
            warnings.append(
                f"{context.invalid} ledger file(s) fail the schema and were left out "
                f"of the system prompt; run `ga doctor`"
            )
        if built.dropped:
            warnings.append(
                f"{built.dropped} value(s)/correction(s) left out of the system "
                f"prompt to fit its {built.budget}-token budget"
            )
    user = question
    if data is not None:
        room = (
            window
            - count(system)
            - count(question)
            - max_tokens
            - 64
            - sum(count(m["content"]) for m in history or [])
        )
        trimmed, cut = prompting.trim_middle(data, max(room, 64), count)
        if cut:
            warnings.append(
                f"piped input trimmed from {len(data)} characters to ~{count(trimmed)} tokens "
                f"to fit the {window}-token context window"
            )
        data = trimmed
        user = prompting.frame_untrusted(question, trimmed)
    history = list(history or [])
    # drop the oldest turns until everything fits
    while (
        history
        and (count(system) + count(user) + max_tokens + sum(count(m["content"]) for m in history))
        > window
    ):
        history = history[2:]
        warnings.append("oldest conversation turns dropped to fit the context window")
    messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": user}]
    return Prepared(messages, built, warnings, data)
