"""The kinds of ledger entry: where each lives, its id prefix, and its fields with their types
(the schema `entries.check` validates every entry against)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

STATUSES = ("active", "pending", "retired")
PROVENANCES = ("principal", "stdin", "teacher", "tool")  # tool: an agent, through `ga mcp`


@dataclass(frozen=True)
class Kind:
    name: str
    directory: str
    prefix: str
    markdown: bool  # front matter + body, or a whole YAML file
    fields: dict[str, type | tuple[type, ...]]  # required fields and their types
    optional: dict[str, type | tuple[type, ...]] = field(default_factory=dict)
    body_name: str | None = None  # what the markdown body holds
    dated: bool = False  # YYYY/MM/<ts>-<slug> paths


Types = dict[str, "type | tuple[type, ...]"]
COMMON: Types = {"id": str, "created": (str, datetime), "status": str, "provenance": str}
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "value",
            "values",
            "v",
            True,
            COMMON,
            {"priority": int, "tags": list, "why": str},
            body_name="text",
        ),
        Kind(
            "example",
            "examples",
            "e",
            True,
            {**COMMON, "prompt": str},
            {"tags": list},
            body_name="answer",
        ),
        Kind(
            "correction",
            "corrections",
            "c",
            False,
            {**COMMON, "prompt": str, "rejected": str, "chosen": str},
            {
                "why": str,
                "context": str,
                "implied": list,
                "session": str,
                "turn": int,
                "model": str,
                "tags": list,
                "via": str,  # "interview": a pick between two of the model's answers
                "also_rejected": list,  # more rejected answers than `rejected`
            },
            dated=True,
        ),
        Kind("interview", "interviews", "i", False, {**COMMON, "answers": list}, dated=True),
        Kind(
            "derived",
            "derived",
            "d",
            False,
            {**COMMON, "source": str, "type": str},
            {"prompt": str, "chosen": str, "rejected": str, "lesson": str, "approved": str},
            dated=True,
        ),
    )
}
for _k in KINDS.values():  # approval marks, set by `ga review`
    _k.optional.setdefault("approved", str)
    _k.optional.setdefault("rejected_at", str)
BY_DIRECTORY = {k.directory: k for k in KINDS.values()}
ID_RE = re.compile(r"^[a-z]-[0-9a-f]{8}$")
