"""The dataset's rows -> the conversational shapes TRL's trainers take (TrlRow: the edge to
TRL), and -> the pairs evaluation scores (Scored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence, TypedDict

from ga_cli.dataset import rows
from ga_cli.dataset.rows import Pair, Turn
from ga_cli.models.base import Message

TrlRow = dict[str, list[Message]]  # {prompt, completion} or {prompt, chosen, rejected}


class Scored(TypedDict):
    """A preference pair as evaluation scores it: the prompt side as the model will see it."""

    id: str
    messages: list[Message]
    prompt: str
    chosen: str
    rejected: str
    why: str


def read_jsonl(path: Path) -> list[Any]:
    """Any JSONL file (a --pairs file, a dataset's): one JSON value per line."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sft_row(r: Turn) -> TrlRow:
    """A prompt/completion pair: TRL then computes the loss on the assistant's tokens only."""
    return {"prompt": r["messages"][:-1], "completion": r["messages"][-1:]}


def sft_rows(dataset: Path, chosen_repeats: int = 1) -> list[TrlRow]:
    return weighted(rows.turns(dataset / "sft.jsonl"), chosen_repeats)


def weighted(records: Sequence[Turn], chosen_repeats: int = 1) -> list[TrlRow]:
    """sft.jsonl records as training rows; a correction's chosen answer `chosen_repeats` times
    (the recipe's `sft.chosen_repeats`: more weight on the principal's better answers)."""
    return [
        sft_row(r)
        for r in records
        for _ in range(chosen_repeats if r.get("source") == "correction" else 1)
    ]


def system_prompt(dataset: Path) -> str | None:
    """The system message the dataset was built with (every record carries it)."""
    for r in rows.turns(dataset / "sft.jsonl"):
        first = r["messages"][0]
        if first["role"] == "system":
            return str(first["content"])
    return None


def prompt_messages(r: Pair) -> list[Message]:
    """A preference row's prompt side: its system message (if any) and the user turn."""
    msgs = [{"role": "system", "content": r["system"]}] if r.get("system") else []
    return msgs + [{"role": "user", "content": r["prompt"]}]


def pref_row(r: Pair) -> TrlRow:
    """A preference record in the conversational shape TRL's DPOTrainer takes."""
    return {
        "prompt": prompt_messages(r),
        "chosen": [{"role": "assistant", "content": r["chosen"]}],
        "rejected": [{"role": "assistant", "content": r["rejected"]}],
    }


def pref_rows(dataset: Path) -> list[TrlRow]:
    return [pref_row(r) for r in rows.pairs(dataset / "prefs.jsonl")]


def eval_pairs(
    pairs: Sequence[Pair],
    messages_for: Callable[[str, str | None], list[Message]] | None = None,
    keep_own_system: bool = False,
    leave_out_own: bool = False,
) -> list[Scored]:
    """Pairs ready to score; accepts build or plain rows (a --pairs file's may lack an id).
    With `messages_for(prompt, leave_out)`, the prompt side is what it returns for the row's
    prompt (`leave_out_own`: without the row's own correction, for held-out rows)."""
    out: list[Scored] = []
    for r in pairs:
        if "prompt" in r and "chosen" in r and "rejected" in r:
            own = keep_own_system and r.get("system")
            leave = str(r.get("id", "")).split("#")[0] if leave_out_own else None
            msgs = (
                messages_for(r["prompt"], leave) if messages_for and not own else prompt_messages(r)
            )
            out.append(
                {
                    "id": r.get("id", ""),
                    "messages": msgs,
                    "prompt": r["prompt"],
                    "chosen": r["chosen"],
                    "rejected": r["rejected"],
                    "why": r.get("why") or "",
                }
            )
    return out
