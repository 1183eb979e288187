"""Targeted elicitation: ask about what the ledger knows least; one commit per session."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from ga_cli.ledger import entries as E
from ga_cli.ledger.store import Ledger

BANK = Path(__file__).with_name("interview_bank.yaml")


@cache
def bank() -> dict[str, list[str]]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(BANK.read_text(encoding="utf-8"))


def knowledge(ledger: Ledger) -> Counter:
    """How much the ledger holds per category: interview answers, and tagged values/examples."""
    known: Counter = Counter({c: 0 for c in bank()})
    for e in ledger.entries():
        if e.status == "retired":
            continue
        if e.kind.name == "interview":
            for qa in e.items("answers"):
                if isinstance(qa, dict) and qa.get("category") in known:
                    known[qa["category"]] += 1
        for tag in e.items("tags"):
            if tag in known:
                known[tag] += 1
    return known


def plan(ledger: Ledger, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` (category, question) pairs: least-known categories first, unasked first."""
    asked = {
        str(qa.get("question"))
        for e in ledger.entries("interview")
        for qa in (e.items("answers"))
        if isinstance(qa, dict)
    }
    known = knowledge(ledger)
    order = sorted(bank(), key=lambda c: (known[c], list(bank()).index(c)))
    queues = {c: [q for q in bank()[c] if q not in asked] for c in order}
    picked: list[tuple[str, str]] = []
    while len(picked) < limit and any(queues.values()):
        for c in order:  # round-robin from the least known category
            if queues[c] and len(picked) < limit:
                picked.append((c, queues[c].pop(0)))
    return picked


def follow_up(backend: Any, question: str, answer: str) -> str | None:
    """One follow-up question proposed by the model, or None if it proposes nothing usable."""
    from ga_cli.models.base import GenerationParams

    prompt = (
        f'I asked a person: "{question}"\nThey answered: "{answer}"\n'
        f"Write ONE short follow-up question that would help me understand them better. "
        f"Reply with the question only."
    )
    text = "".join(
        backend.stream(
            [{"role": "user", "content": prompt}], GenerationParams(temperature=0.3, max_tokens=60)
        )
    ).strip()
    line = text.splitlines()[0].strip().strip('"') if text else ""
    return line if line.endswith("?") and 8 < len(line) < 200 else None


def save(ledger: Ledger, answers: list[dict[str, str]]) -> E.Entry:
    from ga_cli.fileio import yamlio

    entry = E.new_entry(
        "interview",
        {
            "answers": [
                {k: yamlio.literal(v) if isinstance(v, str) else v for k, v in a.items()}
                for a in answers
            ]
        },
    )
    cats = sorted({a["category"] for a in answers})
    ledger.change(
        f"interview: {len(answers)} answer(s) about {', '.join(cats)}.",
        {entry.path: entry.render()},
    )
    return entry
