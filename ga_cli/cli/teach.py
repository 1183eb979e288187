"""`ga values`, `ga example`, `ga correct`: the principal teaching ga, one commit each."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from ga_cli.cli import output
from ga_cli.cli.group import new_app
from ga_cli.cli.options import JSON

if TYPE_CHECKING:
    from ga_cli.ledger import ops
    from ga_cli.ledger.store import Ledger

ALLOW_SECRET = typer.Option(
    False, "--allow-secret", help="Commit even if the text looks like an API key or private key."
)
TAGS = typer.Option(None, "--tag", "-t", help="A tag; repeat for several.")

values_app = new_app(help="Your values: what you care about, in your words. One file each.")
example_app = new_app(help="Exemplars: a prompt and the answer you would have wanted.")


def _ledger():
    from ga_cli.ledger.store import Ledger

    return Ledger.open()


@values_app.command("add")
def values_add(
    text: str = typer.Argument(..., help='The value, e.g. "Tell me when I am wrong."'),
    why: Optional[str] = typer.Option(None, "--why", help="Why it matters to you."),
    tag: Optional[list[str]] = TAGS,
    priority: Optional[int] = typer.Option(
        None, "--priority", "-p", min=1, max=5, help="1 (most important) to 5."
    ),
    allow_secret: bool = ALLOW_SECRET,
) -> None:
    """Add a value. Example: ga values add "Answer briefly; I will ask for more." --tag style"""
    from ga_cli.ledger import ops

    entry = ops.add_value(
        _ledger(), text, why=why, tags=tag, priority=priority, allow_secret=allow_secret
    )
    output.info(f"Added value {entry.id} ({entry.path}).")
    output.text(entry.id)


@values_app.command("list")
def values_list(
    json_out: bool = JSON,
    all_: bool = typer.Option(False, "--all", "-a", help="Include retired values."),
) -> None:
    """List your values, most important first."""
    from ga_cli.ledger.entries import by_priority

    entries = _ledger().entries("value", include_retired=all_)
    entries.sort(key=by_priority)
    if json_out:
        output.emit_json([e.as_dict() for e in entries])
        return
    if not entries:
        output.info('No values yet. Add one: ga values add "..."')
        return
    output.table(
        ["id", "pri", "tags", "value"] + (["status"] if all_ else []),
        (
            [e.id, e.meta.get("priority") or "-", ",".join(map(str, e.items("tags"))), e.summary()]
            + ([e.status] if all_ else [])
            for e in entries
        ),
    )


def _edit_entry(ident: str, allow_secret: bool) -> None:
    from ga_cli.cli import editor
    from ga_cli.errors import GaError
    from ga_cli.ledger import ops

    ledger = _ledger()
    entry = ledger.find(ident)
    original = ledger.read(entry.path)
    suffix = Path(entry.path).suffix
    edited = editor.edit(original, suffix=suffix)
    try:
        updated = ops.replace_file(ledger, entry, edited, allow_secret=allow_secret)
    except GaError as exc:
        kept = editor.keep_rejected(edited, suffix)
        raise GaError(
            f"{exc.message}; nothing was written",
            f"your edit is saved in {kept}: fix it and copy it over {entry.path}, "
            f"or run the edit again",
        ) from exc
    output.info(f"Edited {updated.kind.name} {updated.id}.")


@values_app.command("edit")
def values_edit(
    ident: str = typer.Argument(..., metavar="ID", help="Value id (a prefix is enough)."),
    allow_secret: bool = ALLOW_SECRET,
) -> None:
    """Edit a value in $EDITOR. Quitting without saving changes nothing."""
    _edit_entry(ident, allow_secret)


@values_app.command("rm")
def values_rm(ident: str = typer.Argument(..., metavar="ID", help="Value id.")) -> None:
    """Retire a value: it stops shaping answers and training; git history keeps it."""
    from ga_cli.ledger import ops

    ledger = _ledger()
    entry = ledger.find(ident)
    if entry.kind.name != "value":
        from ga_cli.errors import GaError

        raise GaError(f"{entry.id} is a {entry.kind.name}, not a value")
    ops.set_status(ledger, entry, "retired", "Retire")
    output.info(f"Retired value {entry.id}. `ga ledger git log -p {entry.path}` shows its history.")


@example_app.command("add")
def example_add(
    source: Optional[str] = typer.Argument(
        None,
        metavar="[FILE|-]",
        help="The ideal answer: a file, `-` for stdin, or omit it to write it in $EDITOR.",
    ),
    prompt: str = typer.Option(..., "--prompt", help="The prompt the answer is for."),
    tag: Optional[list[str]] = TAGS,
    allow_secret: bool = ALLOW_SECRET,
) -> None:
    """Add an example: a prompt and your ideal answer.

    Piped answers (`-`) are stored as pending until you approve them: piped text is untrusted."""
    from ga_cli.cli import editor, stdin
    from ga_cli.errors import GaError
    from ga_cli.ledger import entries, ops

    ledger = _ledger()
    provenance = "principal"
    if source == "-":
        answer, provenance = stdin.read_text(), "stdin"
    elif source:
        path = Path(source)
        if not path.is_file():
            raise GaError(f"answer file {source} does not exist", "give a readable file, or `-`")
        answer = entries.decode(path.read_bytes(), source)
    else:
        marker = f"<!-- Write your ideal answer to: {prompt!s} -->\n"
        answer = editor.edit(marker, suffix=".md").replace(marker.strip(), "")
    entry = ops.add_example(
        ledger, prompt, answer, tags=tag, provenance=provenance, allow_secret=allow_secret
    )
    note = " (pending: piped input waits for your approval)" if entry.status == "pending" else ""
    output.info(f"Added example {entry.id}{note}.")
    output.text(entry.id)


@example_app.command("list")
def example_list(json_out: bool = JSON) -> None:
    """List your examples."""
    entries = _ledger().entries("example")
    if json_out:
        output.emit_json([e.as_dict() for e in entries])
        return
    if not entries:
        output.info('No examples yet. Add one: ga example add --prompt "..." answer.md')
        return
    output.table(["id", "status", "prompt"], ([e.id, e.status, e.summary()] for e in entries))


LESSON = typer.Option(
    False,
    "--lesson",
    help="WHY holds for every answer, not only this one: keep it as a lesson too "
    "(in the system prompt and the training data).",
)
LAST = typer.Option(
    False,
    "--last",
    help="Correct the last answer ga gave (default "
    "when no --prompt is given and nothing is piped).",
)
SESSION = typer.Option(
    None,
    "--cid",
    "--session",
    metavar="ID",
    help="Correct a turn of this conversation (`ga history` lists them, served ones included).",
)
CHOSEN = typer.Option(None, "--chosen", help="The answer you wanted (stored as `chosen:`).")


def correct(
    prompt: Optional[str] = typer.Option(None, "--prompt", help="What you asked."),
    rejected: Optional[str] = typer.Option(None, "--rejected", help="The bad answer."),
    better: Optional[str] = CHOSEN,
    better_old: Optional[str] = typer.Option(None, "--better", hidden=True),
    why: Optional[str] = typer.Option(None, "--why", help="What was wrong with it."),
    lesson: bool = LESSON,
    context: Optional[str] = typer.Option(None, "--context", help="Anything else that mattered."),
    last: bool = LAST,
    session: Optional[str] = SESSION,
    turn: Optional[int] = typer.Option(None, "--turn", min=1, help="Which turn (default: last)."),
    tag: Optional[list[str]] = TAGS,
    allow_secret: bool = ALLOW_SECRET,
) -> None:
    """Record a correction: the answer you rejected, the one you wanted (chosen), and why.

    Right after a bad answer: ga correct (opens $EDITOR on the last exchange).
    Scripted: ga correct --last --chosen C --why W, or --prompt P --rejected R --chosen C --why W.
    Or pipe YAML with the keys prompt, rejected, chosen, why (stored pending until approved).

    A correction teaches one answer. When its why is a rule for every answer ("ask me when my
    request is ambiguous"), add --lesson: the why is kept as a lesson as well.
    """
    from ga_cli.cli import stdin
    from ga_cli.ledger import ops

    ledger = _ledger()
    better = better if better is not None else better_old  # --better: its name before 0.2
    piped = ""
    if prompt is None and rejected is None and better is None and not (last or session):
        piped = stdin.read_text() if stdin.piped() else ""
    if prompt is None and rejected is None and not piped.strip():
        recorded = _correct_turn(ledger, session, turn, better, why, lesson)
    elif piped.strip():
        data = ops.parse_correction_yaml(piped, "<stdin>")
        recorded = ops.add_correction(
            ledger,
            data.prompt or "",
            data.rejected or "",
            data.chosen or "",
            why=data.why if data.why is not None else why,
            context=data.context if data.context is not None else context,
            tags=data.tags or tag,
            provenance="stdin",
            allow_secret=allow_secret,
            lesson=data.lesson if data.lesson is not None else lesson,
        )
    else:
        recorded = ops.add_correction(
            ledger,
            prompt or "",
            rejected or "",
            better or "",
            why=why,
            context=context,
            tags=tag,
            allow_secret=allow_secret,
            lesson=lesson,
        )
    entry = recorded.correction
    note = " (pending: piped input waits for your approval)" if entry.status == "pending" else ""
    if recorded.lesson is not None:
        note = f" and lesson {recorded.lesson.id}{note}"
    elif recorded.lesson_known:
        note += "; an active lesson already says the same"
    output.info(f"Recorded correction {entry.id}{note}.")
    output.text(entry.id)


def _correct_turn(
    ledger: Ledger,
    session: Optional[str],
    turn: Optional[int],
    better: Optional[str],
    why: Optional[str],
    lesson: bool,
) -> ops.Recorded:
    """Correct a turn of a session (default: the last answer ga gave)."""
    from ga_cli.chat.sessions import Session
    from ga_cli.cli import correcting
    from ga_cli.errors import GaError

    s = Session.open(session) if session else Session.latest()
    turns = s.turns()
    if not turns:
        raise GaError(f"session {s.id} has no answers to correct")
    if turn is not None and turn > len(turns):
        raise GaError(f"session {s.id} has {len(turns)} turn(s), not {turn}")
    t = turns[(turn or len(turns)) - 1]
    return correcting.correct_exchange(
        ledger,
        t["prompt"],
        t["answer"],
        better,
        why,
        session=s.id,
        turn=t["turn"],
        model=t.get("model"),
        lesson=lesson,
    )


def review(
    approve: Optional[list[str]] = typer.Option(
        None, "--approve", help="Approve this id without asking (repeatable)."
    ),
    reject: Optional[list[str]] = typer.Option(
        None, "--reject", help="Reject this id without asking (repeatable)."
    ),
    list_only: bool = typer.Option(False, "--list", help="Only list what is pending."),
    json_out: bool = JSON,
) -> None:
    """Approve, edit or reject what waits for you: teacher proposals and piped-in entries.

    Nothing pending is used for answers or training until you approve it."""
    from ga_cli.ledger import review as R

    ledger = _ledger()
    if approve or reject:
        for ident in approve or []:
            e = R.approve(ledger, ledger.find(ident))
            output.info(f"Approved {e.id}: it is trusted now (answers and training use it).")
        for ident in reject or []:
            e = R.reject(ledger, ledger.find(ident))
            output.info(f"Rejected {e.id}: it stays in the ledger, unused.")
        return
    items = R.pending(ledger)
    if list_only or json_out or not sys.stdin.isatty():
        if json_out:
            output.emit_json([e.as_dict() for e in items])
        else:
            output.table(
                ["id", "kind", "from", "summary"],
                ([e.id, e.kind.name, e.provenance, e.summary()[:70]] for e in items),
            )
        return
    if not items:
        output.info("Nothing is waiting for review.")
        return
    for e in items:
        output.raw(f"\n--- {e.id} ({e.kind.name}, {e.provenance})\n{ledger.read(e.path)}")
        if not _review_one(ledger, e):
            break


def _review_one(ledger: Ledger, e: Any) -> bool:
    """Ask what to do with one pending entry and do it; False: the principal quit."""
    from ga_cli.ledger import review as R

    choices = {"a": "approve", "e": "edit", "r": "reject", "s": "skip", "q": "quit"}
    while True:  # an unknown key asks again: it never skips or quits by accident
        said = typer.prompt("[a]pprove, [e]dit, [r]eject, [s]kip, [q]uit", default="s")
        choice = said.strip().lower()[:1]
        if choice in choices and choices[choice].startswith(said.strip().lower()):
            break
        output.warn(f"`{said}` is not one of a, e, r, s, q")
    if choice == "q":
        return False
    if choice == "a":
        R.approve(ledger, e)
        output.info(f"Approved {e.id}: it is trusted now (answers and training use it).")
    elif choice == "r":
        R.reject(ledger, e)
        output.info(f"Rejected {e.id}: it stays in the ledger, unused.")
    elif choice == "s":
        output.info(f"Skipped {e.id}: it still waits for review.")
    else:
        from ga_cli.cli import editor
        from ga_cli.ledger import entries

        edited = editor.edit_until_valid(
            ledger.read(e.path),
            ".yaml",
            lambda text: entries.parse(e.kind, e.path, text),
            f"fix it, then copy it over {e.path} in the ledger and run `ga review` again",
        )
        R.approve(ledger, e, edited)
        output.info(f"Approved {e.id} as you edited it.")
    return True


def register(app: typer.Typer) -> None:
    app.add_typer(values_app, name="values")
    app.add_typer(example_app, name="example")
    app.command("correct")(correct)
    app.command("review")(review)
