"""Beyond the minimal fix: a teacher model proposes what a correction implies in general.

Proposals are stored under derived/ as `pending`, provenance `teacher`; only the principal's
approval (`ga review`) makes them usable, and only approved material is ever trained on.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ga_cli.errors import GaError
from ga_cli.ledger import entries as E
from ga_cli.ledger.store import Ledger
from ga_cli.models.base import GenerationParams

INSTRUCTIONS = """You help a person teach their personal assistant. They corrected one answer.
Work out what the correction implies beyond this one case.

Question they asked:
{prompt}

The answer they rejected:
{rejected}

The answer they wanted:
{chosen}

What they said was wrong: {why}

Reply with JSON only, in this shape:
{{"lessons": ["a general rule the person would agree with", "..."],
  "examples": [{{"prompt": "a new, different question",
                "answer": "an answer that follows the lessons"}}]}}
Give 1 to 3 lessons and {n} examples."""


def _extract_json(text: str) -> dict[str, Any]:
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.S)
    candidate = fenced.group(1) if fenced else text[text.find("{") : text.rfind("}") + 1]
    try:
        data = json.loads(candidate)
    except (json.JSONDecodeError, ValueError) as exc:
        raise GaError(
            "the teacher did not answer with the JSON it was asked for",
            "try another teacher model (teacher: in .ga/config.yaml)",
        ) from exc
    if not isinstance(data, dict):
        raise GaError("the teacher's JSON was not an object")
    return data


def propose(
    ledger: Ledger,
    correction: E.Entry,
    teacher: str,
    api_base: str | None = None,
    n_examples: int = 4,
) -> list[E.Entry]:
    """Ask the teacher, store its proposals as pending derived entries in one commit."""
    from ga_cli import models

    backend = models.load(teacher, api_base=api_base)
    meta = correction.meta
    prompt = INSTRUCTIONS.format(
        prompt=meta.get("prompt"),
        rejected=meta.get("rejected"),
        chosen=meta.get("chosen"),
        why=meta.get("why") or "(not said)",
        n=n_examples,
    )
    messages = [{"role": "user", "content": prompt}]
    text = "".join(backend.stream(messages, GenerationParams(temperature=0.2, max_tokens=1024)))
    data = _extract_json(text)
    proposals: list[E.Entry] = []
    for lesson in data.get("lessons") or []:
        if isinstance(lesson, str) and lesson.strip():
            proposals.append(E.new_lesson(correction, lesson.strip(), "teacher", "pending"))
    for ex in (data.get("examples") or [])[: max(n_examples, 5)]:
        if (
            isinstance(ex, dict)
            and str(ex.get("prompt", "")).strip()
            and str(ex.get("answer", "")).strip()
        ):
            proposals.append(
                E.new_entry(
                    "derived",
                    {
                        "type": "example",
                        "source": correction.id,
                        "prompt": str(ex["prompt"]).strip(),
                        "chosen": str(ex["answer"]).strip(),
                    },
                    provenance="teacher",
                    status="pending",
                )
            )
    if not proposals:
        raise GaError("the teacher proposed nothing usable")
    _unique_paths(proposals)
    ledger.change(
        f"derive: {len(proposals)} pending proposal(s) from correction {correction.id} "
        f"by teacher {teacher}.",
        {p.path: p.render() for p in proposals},
    )
    return proposals


def _unique_paths(entries: list[E.Entry]) -> None:
    seen: set[str] = set()
    for e in entries:
        if e.path in seen:
            e.path = e.path.replace(".yaml", f"-{e.id[2:]}.yaml")
        seen.add(e.path)
