"""The root `ga` command: registers the command modules and maps exceptions to messages."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from ga_cli.errors import GaError
from ga_cli.ledger import hooks


class GaGroup(TyperGroup):
    """Turns GaError (and any surprise) into `Error:`/`Hint:` lines and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        from ga_cli.cli import output

        # Everything ga writes derives from the private ledger or from conversations:
        # datasets, caches, runs, exports and logs are the principal's alone (0700/0600).
        os.umask(0o077)
        try:
            return super().invoke(ctx)
        except (Exit, Abort, TyperException):
            raise
        except GaError as exc:
            output.error(exc.message, exc.hint)
        except KeyboardInterrupt:
            output.error("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise typer.Exit(1) from None
        except Exception as exc:  # the last line of defence: one line, not a traceback
            output.error(
                f"unexpected {type(exc).__name__}: {exc}",
                "run again with GA_DEBUG=1 to see the traceback, and report it",
            )
        raise typer.Exit(1)

    def list_commands(self, ctx: Any) -> list[str]:
        """The order a new principal meets them in; unlisted commands follow as registered."""
        rank = {name: i for i, name in enumerate(ORDER)}
        return sorted(self.commands, key=lambda n: rank.get(n, len(ORDER)))


ORDER = [
    "init",
    "chat",
    "ask",
    "correct",
    "values",
    "example",
    "interview",
    "review",
    "status",
    "log",
    "show",
    "doctor",
    "sync",
    "build",
    "dataset",
    "train",
    "eval",
    "models",
    "export",
    "serve",
    "prompt",
    "history",
    "templates",
    "config",
    "ledger",
]


def new_app(**kwargs: Any) -> typer.Typer:
    kwargs.setdefault("no_args_is_help", True)
    return typer.Typer(
        cls=GaGroup,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode=None,
        **kwargs,
    )


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
        export_cmd,
        ledger_cmds,
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
    export_cmd.register(app)
    serve_cmds.register(app)


def _train_when_due(ledger: Any) -> None:
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
