"""Correcting a past answer: the editor template, and the teacher's generalisation."""

from __future__ import annotations

from typing import Any, Optional

from ga_cli.cli import output

TEMPLATE = """# Correct this answer. Fill in `chosen:` (the answer you wanted), `why:` (what was
# wrong). `lesson: yes` keeps `why` as a rule for every answer, not only this one.
# Leave `chosen:` empty to abort; nothing is written then. Lines starting with # are ignored.
"""


def correct_exchange(
    ledger: Any,
    prompt: str,
    rejected: str,
    better: Optional[str],
    why: Optional[str],
    session: Optional[str] = None,
    turn: Optional[int] = None,
    model: Optional[str] = None,
    lesson: bool = False,
) -> Any:
    """Record a correction of one exchange; with no `better`, ask for it in $EDITOR."""
    from ga_cli.cli import editor
    from ga_cli.errors import GaError
    from ga_cli.ledger import ops, yamlio

    if better is None:
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
        doc["prompt"] = yamlio.literal(prompt)
        doc["rejected"] = yamlio.literal(rejected)
        doc["chosen"] = ""
        doc["why"] = why or ""
        doc["lesson"] = lesson
        text = editor.edit(TEMPLATE + yamlio.dump(doc), suffix=".yaml")
        data = ops.parse_correction_yaml(text, "the correction you edited")
        better = str(data.get("chosen") or "").strip()
        if not better:
            raise GaError("`chosen:` is empty; nothing was written")
        why = str(data.get("why") or "").strip() or None
        lesson = bool(data.get("lesson", lesson))
        prompt = str(data.get("prompt") or prompt)
    extra = {"session": session, "turn": turn, "model": model}
    entry = ops.add_correction(
        ledger,
        prompt,
        rejected,
        better,
        why=why,
        extra={k: v for k, v in extra.items() if v is not None},
        lesson=lesson,
    )
    from ga_cli.chat import settings

    teacher = settings.teacher(ledger.config())
    if teacher:
        from ga_cli.chat import teacher as T
        from ga_cli.cli import modelopts

        with modelopts.spinner(f"Asking the teacher ({teacher[0]}) what this correction implies…"):
            proposals = T.propose(ledger, entry, teacher[0], api_base=teacher[1])
        output.info(
            f"The teacher proposed {len(proposals)} item(s); approve or reject them "
            f"with `ga review`."
        )
    return entry
