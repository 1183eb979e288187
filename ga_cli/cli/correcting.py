"""Correcting a past answer: the editor template, and the teacher's generalisation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ga_cli.cli import output
from ga_cli.ledger import ops

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger

TEMPLATE = """# Correct this answer. Write the answer you wanted under `chosen: |` and what was
# wrong under `why: |`, indented by two spaces (any text is safe there, `: ` and `#` too).
# `lesson: yes` keeps `why` as a rule for every answer, not only this one.
# Leave `chosen:` empty to abort; nothing is written then. Lines starting with # are ignored.
"""


def _edit_correction(
    prompt: str, rejected: str, why: Optional[str], lesson: bool
) -> ops.CorrectionText | None:
    """The correction as the principal edits it in $EDITOR (None: `chosen:` left empty). A
    text that does not parse is opened again with the problem at its top, or kept in a file."""
    from ga_cli.cli import editor
    from ga_cli.fileio import yamlio
    from ga_cli.ledger import ops

    fields = [("prompt", prompt), ("rejected", rejected), ("chosen", ""), ("why", why or "")]
    doc = "".join(yamlio.block_field(key, text) for key, text in fields)
    doc += f"lesson: {'yes' if lesson else 'no'}\n"

    def accept(text: str) -> ops.CorrectionText | None:
        data = ops.parse_correction_yaml(text, "the correction you edited")
        return data if (data.chosen or "").strip() else None

    return editor.edit_until_valid(
        TEMPLATE + doc,
        ".yaml",
        accept,
        "fix it, then record it with `ga correct < {file}` (piped corrections wait for "
        "`ga review`)",
    )


def correct_exchange(
    ledger: Ledger,
    prompt: str,
    rejected: str,
    better: Optional[str],
    why: Optional[str],
    session: Optional[str] = None,
    turn: Optional[int] = None,
    model: Optional[str] = None,
    lesson: bool = False,
) -> ops.Recorded:
    """Record a correction of one exchange; with no `better`, ask for it in $EDITOR."""
    from ga_cli.errors import GaError
    from ga_cli.ledger import ops

    if better is None:
        data = _edit_correction(prompt, rejected, why, lesson)
        if data is None:
            raise GaError("`chosen:` is empty; nothing was written")
        better = (data.chosen or "").strip()
        why = (data.why or "").strip() or None
        lesson = data.lesson if data.lesson is not None else lesson
        edited = (data.prompt or "").rstrip("\n")  # a block ends in a newline
        prompt = prompt if edited in ("", prompt.rstrip("\n")) else edited
    extra = {"session": session, "turn": turn, "model": model}
    recorded = ops.add_correction(
        ledger,
        prompt,
        rejected,
        better,
        why=why,
        extra={k: v for k, v in extra.items() if v is not None},
        lesson=lesson,
    )

    teacher = ledger.config().teacher_target
    if teacher:
        from ga_cli.chat import teacher as T
        from ga_cli.cli import modelopts

        with modelopts.spinner(f"Asking the teacher ({teacher[0]}) what this correction implies…"):
            proposals = T.propose(ledger, recorded.correction, teacher[0], api_base=teacher[1])
        output.info(
            f"The teacher proposed {len(proposals)} item(s); approve or reject them "
            f"with `ga review`."
        )
    return recorded
