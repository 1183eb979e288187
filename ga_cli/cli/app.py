"""The root `ga` command: registers the command modules and maps exceptions to messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from ga_cli.cli.group import new_app
from ga_cli.errors import GaError
from ga_cli.ledger import hooks

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger

app = new_app(
    help="ga: your guardian angel. It learns your values, corrections and examples, "
    "keeps them in a private git ledger, and trains a personal model on them."
)


def _version(value: bool) -> None:
    if value:
        from ga_cli import __version__

        typer.echo(f"ga {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print ga's version and exit."
    ),
) -> None:
    """ga: your guardian angel. It learns your values, corrections and examples, keeps them in a
    private git ledger, and trains a personal model on them."""


def _register() -> None:
    from ga_cli.cli import (
        data_cmds,
        eval_cmd,
        export_cmd,
        ledger_cmds,
        models_cmds,
        repl,
        serve_cmds,
        talk,
        teach,
        train_cmds,
    )

    ledger_cmds.register(app)
    teach.register(app)
    talk.register(app)
    repl.register(app)
    data_cmds.register(app)
    train_cmds.register(app)
    eval_cmd.register(app)
    models_cmds.register(app)
    export_cmd.register(app)
    serve_cmds.register(app)


def _train_when_due(ledger: Ledger) -> None:
    """After a ledger change: start a background `ga train` if `train.auto` says it is time."""
    from ga_cli.cli import output
    from ga_cli.training import auto

    try:
        started = auto.maybe_start(ledger)
    except (GaError, OSError) as exc:  # the principal's change is committed: only say so
        output.warn(f"automatic training did not start: {exc}")
        return
    if started is not None:
        output.info(
            f"{started.new} new entries since the current model: training in the background "
            f"(pid {started.pid}, low priority; `ga status` follows it, log {started.log})."
        )


_register()
hooks.after_change.append(_train_when_due)


def main() -> None:
    app()
