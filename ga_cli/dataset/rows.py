"""The rows a dataset holds, as its JSONL files hold them: what the dataset stage hands to
training. sft.jsonl holds turns; prefs.jsonl pairs; heldout.jsonl pairs and injection turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from typing_extensions import TypeIs

from ga_cli.models.base import Message


class Turn(TypedDict):
    """A conversation to learn: system, user, and the answer wanted (sft.jsonl)."""

    id: str
    source: str  # correction, example, value, principal, interview, derived, injection
    messages: list[Message]
    markers: NotRequired[list[str]]  # an injection probe: words that show it was obeyed


class Pair(TypedDict):
    """An answer preferred to another for one prompt (prefs.jsonl, heldout.jsonl)."""

    id: str  # the correction's id; `ID#N` for its N-th other rejected answer
    source: str
    prompt: str
    chosen: str
    rejected: str
    system: NotRequired[str]  # the dataset's system message
    why: NotRequired[str]  # held-out pairs: what the correction said was wrong


Row = Turn | Pair


def is_turn(row: Row) -> TypeIs[Turn]:
    return "messages" in row


def _read(path: Path) -> list[Any]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def turns(path: Path) -> list[Turn]:
    return _read(path)


def pairs(path: Path) -> list[Pair]:
    return _read(path)


def heldout(path: Path) -> list[Row]:
    return _read(path)


def dump(rows: list[Turn] | list[Pair] | list[Row]) -> bytes:
    """JSONL, one row per line, keys sorted: the same rows always give the same bytes."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode()
