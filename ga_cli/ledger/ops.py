"""What the principal can teach: values, examples and corrections, each one commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ga_cli.errors import GaError, LedgerFormatError
from ga_cli.fileio import yamlio
from ga_cli.ledger import entries as E
from ga_cli.ledger.store import Ledger


def short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _required(text: str | None, what: str, flag: str) -> str:
    if text is None or not text.strip():
        raise GaError(f"{what} is empty", f"give it with {flag}")
    return text.strip()


def _pending_if_piped(provenance: str) -> str:
    """Piped-in material, and what an agent wrote through `ga mcp`, is untrusted until the
    principal approves it (`ga review`)."""
    return "pending" if provenance in ("stdin", "tool") else "active"


def add_value(
    ledger: Ledger,
    text: str,
    why: str | None = None,
    tags: list[str] | None = None,
    priority: int | None = None,
    allow_secret: bool = False,
    provenance: str = "principal",
) -> E.Entry:
    text = _required(text, "the value text", '`ga values add "TEXT"`')
    fields: dict[str, Any] = {
        "priority": priority,
        "tags": list(tags) if tags else None,
        "why": why,
    }
    entry = E.new_entry(
        "value", fields, body=text, provenance=provenance, status=_pending_if_piped(provenance)
    )
    ledger.change(
        f"Add value {entry.id}: {short(text)}",
        {entry.path: entry.render()},
        allow_secret=allow_secret,
    )
    return entry


def add_example(
    ledger: Ledger,
    prompt: str,
    answer: str,
    tags: list[str] | None = None,
    provenance: str = "principal",
    allow_secret: bool = False,
) -> E.Entry:
    prompt = _required(prompt, "the example prompt", "--prompt")
    answer = _required(answer, "the example answer", "a FILE, `-` for stdin, or your $EDITOR")
    entry = E.new_entry(
        "example",
        {"prompt": prompt, "tags": list(tags) if tags else None},
        body=answer,
        provenance=provenance,
        status=_pending_if_piped(provenance),
    )
    ledger.change(
        f"Add example {entry.id} for the prompt: {short(prompt)}",
        {entry.path: entry.render()},
        allow_secret=allow_secret,
    )
    return entry


CORRECTION_KEYS = (
    "prompt",
    "rejected",
    "chosen",
    "why",
    "context",
    "tags",
    "session",
    "turn",
    "model",
    "lesson",  # yes: the why holds for every answer (add_correction's `lesson`)
)


@dataclass(frozen=True)
class Recorded:
    """A correction as committed, with the lesson committed beside it (if one was)."""

    correction: E.Entry
    lesson: E.Entry | None = None
    lesson_known: bool = False  # a lesson was asked for, and a trusted one already says it


def add_correction(
    ledger: Ledger,
    prompt: str,
    rejected: str,
    better: str,
    why: str | None = None,
    context: str | None = None,
    tags: list[str] | None = None,
    provenance: str = "principal",
    extra: dict[str, Any] | None = None,
    allow_secret: bool = False,
    subject: str | None = None,
    lesson: bool = False,
) -> Recorded:
    """A correction (pending when piped), in one commit; `subject` replaces the commit's
    default subject line ("correct: <why>"). `lesson`: the principal says the `why` holds for
    every answer, not only this one: it also becomes a lesson (a derived entry, in the same
    commit), which goes into the system prompt and the training data."""
    fields: dict[str, Any] = {
        "prompt": _required(prompt, "the prompt", "--prompt"),
        "context": context or None,
        "rejected": _required(rejected, "the rejected answer", "--rejected"),
        "chosen": _required(better, "the answer you wanted", "--chosen"),
        "why": (why or "").strip() or None,
        "implied": [],
        "tags": list(tags) if tags else None,
        **(extra or {}),
    }
    entry = E.new_entry(
        "correction", fields, provenance=provenance, status=_pending_if_piped(provenance)
    )
    reason = fields["why"] or f"better answer for {short(fields['prompt'], 40)}"
    changes = {entry.path: entry.render()}
    taught = None
    if lesson:
        if not fields["why"]:
            raise GaError(
                "a lesson is the correction's `why`, and it is empty",
                "give it (--why, or `why:` in the editor), or leave the lesson out",
            )
        taught = lesson_of(ledger, entry, fields["why"])
        if taught is not None:
            changes[taught.path] = taught.render()
            reason += " (and a lesson)"
    ledger.change(subject or f"correct: {short(reason, 72)}", changes, allow_secret=allow_secret)
    return Recorded(entry, taught, lesson and taught is None)


def lesson_of(ledger: Ledger, correction: E.Entry, why: str) -> E.Entry | None:
    """The `why` of a correction as a lesson for every answer, with the correction's provenance
    (pending when piped); None when a trusted lesson already says the same."""
    said = {" ".join(e.text("lesson").lower().split()) for e in lessons(ledger) if e.trusted}
    if " ".join(why.lower().split()) in said:
        return None
    return E.new_lesson(correction, why, correction.provenance, correction.status)


def lessons(ledger: Ledger) -> list[E.Entry]:
    """Lessons in the ledger that are not retired (trusted or pending); a file that does not
    parse is skipped here (`ga doctor` names it)."""
    out = []
    for rel in ledger.entry_files("derived"):
        try:
            e = ledger.load(rel)
        except LedgerFormatError:
            continue
        if e.is_lesson and e.status != "retired":
            out.append(e)
    return out


@dataclass(frozen=True)
class CorrectionText:
    """A correction as the principal wrote it (piped YAML, or the editor's template); a field
    left out is None, so a flag given beside it can fill it."""

    prompt: str | None = None
    rejected: str | None = None
    chosen: str | None = None
    why: str | None = None
    context: str | None = None
    tags: list[str] | None = None
    lesson: bool | None = None


def parse_correction_yaml(text: str, source: str = "<stdin>") -> CorrectionText:
    """A correction given as YAML: prompt, rejected, chosen, why, context, tags, lesson
    (`better`, its name before 0.2, is read as `chosen`)."""
    data = yamlio.load(text, source)
    if not isinstance(data, dict):
        raise LedgerFormatError(
            source, 1, "expected a YAML mapping with prompt, rejected, chosen, why"
        )
    if "better" in data and "chosen" not in data:
        data["chosen"] = data.pop("better")
    unknown = sorted(set(data) - set(CORRECTION_KEYS))
    if unknown:
        line = yamlio.key_line(data, unknown[0])
        raise LedgerFormatError(
            source,
            line,
            f"unknown key `{unknown[0]}`",
            "use only: prompt, rejected, chosen, why, context, tags, lesson",
        )
    if "lesson" in data:
        said = str(data["lesson"]).lower()  # YAML 1.2 reads `yes` as a string
        if said not in ("yes", "no", "true", "false"):
            line = yamlio.key_line(data, "lesson")
            raise LedgerFormatError(
                source, line, "`lesson` must be yes or no", "write `lesson: yes` or leave it out"
            )
        data["lesson"] = said in ("yes", "true")

    def field(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    tags = data.get("tags")
    return CorrectionText(
        field("prompt"),
        field("rejected"),
        field("chosen"),
        field("why"),
        field("context"),
        [str(t) for t in tags] if isinstance(tags, list) else None,
        data.get("lesson"),
    )


def replace_file(
    ledger: Ledger, entry: E.Entry, new_text: str, verb: str = "Edit", allow_secret: bool = False
) -> E.Entry:
    """Store a hand-edited version of an entry after checking that it parses and validates."""
    updated = E.parse(entry.kind, entry.path, new_text)
    found = E.problems(updated)
    if found:
        line, message = found[0]
        raise LedgerFormatError(entry.path, line, message)
    if updated.id != entry.id:
        raise LedgerFormatError(entry.path, updated.line_of("id"), "the id cannot be changed")
    ledger.change(
        f"{verb} {entry.kind.name} {entry.id}: {short(updated.summary())}",
        {entry.path: new_text},
        allow_secret=allow_secret,
    )
    return updated


def set_status(ledger: Ledger, entry: E.Entry, status: str, verb: str) -> E.Entry:
    if entry.status == status:
        raise GaError(f"{entry.kind.name} {entry.id} is already {status}")
    entry.meta["status"] = status
    ledger.change(
        f"{verb} {entry.kind.name} {entry.id}: {short(entry.summary())}",
        {entry.path: entry.render()},
    )
    return entry
