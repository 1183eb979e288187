"""`ga init`, `status`, `log`, `show`, `doctor`, `sync` and `ledger git`: the ledger itself."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional

import typer

from ga_cli.cli import output
from ga_cli.cli.group import new_app
from ga_cli.cli.options import JSON
from ga_cli.errors import GaError

ledger_app = new_app(help="Work on the ledger repository directly.")
config_app = new_app(help="Read and change .ga/config.yaml (your comments in it are kept).")


def _ledger():
    from ga_cli.ledger.store import Ledger

    return Ledger.open()


def init(
    path: Optional[Path] = typer.Argument(
        None, help="Where to create it (default: $GA_LEDGER, or the ga data dir)."
    ),
    name: Optional[str] = typer.Option(None, "--name", help="Your name, for commits."),
    email: Optional[str] = typer.Option(None, "--email", help="Your email, for commits."),
    remote: Optional[str] = typer.Option(None, "--remote", help="A git remote to sync with."),
) -> None:
    """Create your ledger: a private (0700) git repository of plain files."""
    from ga_cli.ledger.store import Ledger

    ledger = Ledger.init(path, name=name, email=email, remote=remote)
    output.info(f"Created ledger at {ledger.root} ({(ledger.head() or '')[:7]}).")
    output.info('Next: tell it who you are in principal.yaml, then `ga values add "..."`.')
    output.text(str(ledger.root))


def status(json_out: bool = JSON) -> None:
    """Where the ledger is, what it holds, and whether anything is uncommitted."""
    from collections import Counter

    ledger = _ledger()
    entries, problems = ledger.scan()
    counts: dict[str, Counter[str]] = {}
    for e in entries:
        counts.setdefault(e.kind.name, Counter())[e.status] += 1
    head = ledger.head()
    dirty = ledger.dirty_files()
    data = {
        "ledger": str(ledger.root),
        "head": head,
        "counts": {k: dict(v) for k, v in sorted(counts.items())},
        "dirty": dirty,
        "problems": len(problems),
        "remote": ledger.has_remote(),
    }
    from dataclasses import asdict

    from ga_cli.training import auto

    background = auto.read_state() if auto.state_file().is_file() else None
    if background is not None:
        data["training"] = {**asdict(background), "running": auto.running() is not None}
    if json_out:
        output.emit_json(data)
        return
    output.text(f"{'ledger':<12} {ledger.root}")
    output.text(f"{'head':<12} {head[:7] if head else '(no commits)'}")
    from ga_cli.ledger.entries import KINDS

    for kind in KINDS.values():
        c: Counter[str] = counts.get(kind.name, Counter())
        detail = ", ".join(f"{n} {s}" for s, n in sorted(c.items())) if c else "none"
        output.text(f"{kind.directory:<12} {detail}")
    if dirty:
        output.text(f"{'dirty':<12} {', '.join(dirty)} (committed by the next ga change)")
    if problems:
        output.text(f"{'problems':<12} {len(problems)} (run `ga doctor`)")
    if background is not None:
        output.text(f"{'training':<12} {auto.summary(background)}")


def log(
    n: int = typer.Option(20, "-n", min=1, help="How many changes."), json_out: bool = JSON
) -> None:
    """The history of what you taught ga, newest first."""
    commits = _ledger().history(limit=n)
    if json_out:
        output.emit_json(
            [
                {
                    "sha": c.sha,
                    "when": c.when,
                    "kinds": c.kinds,
                    "message": c.message,
                    "files": c.files,
                }
                for c in commits
            ]
        )
        return
    output.table(
        ["when", "kind", "message"],
        ((c.when.replace("T", " ")[:16], ",".join(c.kinds), c.message) for c in commits),
    )


def show(
    ident: str = typer.Argument(..., metavar="ID", help="Entry id (a prefix is enough)."),
    json_out: bool = JSON,
) -> None:
    """Show one entry: its file as stored."""
    ledger = _ledger()
    entry = ledger.find(ident)
    if json_out:
        output.emit_json(entry.as_dict())
        return
    output.info(f"# {entry.path}")
    output.raw(ledger.read(entry.path))


def doctor(
    fix: bool = typer.Option(
        False, "--fix", help="Fill in missing ids, times, status and provenance (one commit)."
    ),
    json_out: bool = JSON,
) -> None:
    """Check every ledger file; report every problem at once as path:line: message."""
    from ga_cli.ledger import doctor as D

    ledger = _ledger()
    fixed = D.fix(ledger) if fix else []
    problems = D.check(ledger)
    if json_out:
        output.emit_json(
            {
                "fixed": fixed,
                "problems": [
                    {"path": p.path, "line": p.line, "message": p.detail} for p in problems
                ],
            }
        )
    else:
        for rel in fixed:
            output.info(f"fixed {rel}")
        for p in problems:
            output.text(p.message)
        if not problems:
            output.info("The ledger is healthy.")
    if problems:
        raise typer.Exit(1)


def sync() -> None:
    """Pull (rebase) then push, when the ledger has a remote."""

    ledger = _ledger()
    if not ledger.has_remote():
        raise GaError("the ledger has no remote", "add one: ga ledger git remote add origin URL")
    with ledger.locked():
        ledger.commit_hand_edits()
        branch = ledger.git("rev-parse", "--abbrev-ref", "HEAD")
        if ledger.git("ls-remote", "--heads", "origin", branch).strip():
            ledger.git("pull", "--rebase", "-q", "origin", branch)
        ledger.git("push", "-q", "-u", "origin", branch)
    output.info(f"Synced {branch} with origin.")


@ledger_app.command(
    "git", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def ledger_git(args: Optional[list[str]] = typer.Argument(None, help="Arguments for git.")) -> None:
    """Run git in the ledger, like `pass git`: ga ledger git log --stat"""
    ledger = _ledger()
    with ledger.locked():
        code = subprocess.call(["git", "-C", str(ledger.root), *(args or [])])
    raise typer.Exit(code)


@config_app.command("show")
def config_show(json_out: bool = JSON) -> None:
    """Print the ledger's settings."""
    from ga_cli.fileio import yamlio

    data = yamlio.plain(dict(_ledger().config_document()))
    if json_out:
        output.emit_json(data)
        return
    for key, value in data.items():
        output.text(f"{key}: {value}")


@config_app.command("set")
def config_set(
    key: str = typer.Argument(
        ...,
        help="One of: model, teacher, teacher_api_base, recipe, prompt_corrections, train.auto.",
    ),
    value: str = typer.Argument(..., help="The new value; `null` clears it."),
) -> None:
    """Change one setting, as one commit: ga config set teacher openai/gpt-4o-mini

    model: `embedded`, a Hugging Face id or local folder, or a litellm provider string.
    teacher: the model that proposes what a correction implies (or null).
    teacher_api_base: the teacher's OpenAI-compatible base URL.
    recipe: the training recipe `ga train` uses (see `ga train recipes`).
    prompt_corrections: how past corrections enter the system prompt: auto (the default:
    chosen for a litellm provider, off for a local model), pairs, chosen or off.
    train.auto: N starts a background `ga train` once N trusted entries are new since the
    current model (0 or null: never)."""
    from ga_cli.chat import settings
    from ga_cli.fileio import yamlio
    from ga_cli.ledger.store import CONFIG_FILE

    cleared = value.strip().lower() in ("null", "none", "")
    stored = settings.check(key, None if cleared else value)
    ledger = _ledger()
    data = ledger.config_document()
    data[key] = stored
    ledger.change(f"config: set {key} to {value}.", {CONFIG_FILE: yamlio.dump(data)})
    output.info(f"{key} = {value}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("status")(status)
    app.command("log")(log)
    app.command("show")(show)
    app.command("doctor")(doctor)
    app.command("sync")(sync)
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(config_app, name="config")
