"""The command group every `ga` command and sub-app is made with (`new_app`): exceptions become
one-line `Error:`/`Hint:` messages, undecodable arguments are refused at the door, and commands
list in the order a new principal meets them. Command modules import this, never app.py."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from ga_cli.errors import GaError, NotUtf8, has_surrogate


class GaGroup(TyperGroup):
    """Turns GaError (and any surprise) into `Error:`/`Hint:` lines and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        from ga_cli.cli import output

        # Everything ga writes derives from the private ledger or from conversations:
        # datasets, caches, runs, exports and logs are the principal's alone (0700/0600).
        os.umask(0o077)
        _exit_cleanly_on_sigterm()
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
        except OSError as exc:  # the machine said no: a one-line reason, not a bug report
            output.error(*os_error(exc))
        except Exception as exc:  # the last line of defence: one line, not a traceback
            output.error(
                f"unexpected {type(exc).__name__}: {exc}",
                "run again with GA_DEBUG=1 to see the traceback, and report it",
            )
        raise typer.Exit(1)

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """Refuse an argument that is not valid UTF-8 at the door, before any command can store
        it (Python keeps such bytes as lone surrogates, which no file or model can take)."""
        import sys

        given = list(sys.argv[1:] if args is None else args)
        bad = undecodable_argument(given)
        if bad is not None:
            from ga_cli.cli import output

            refused = NotUtf8(bad)
            output.error(refused.message, refused.hint)
            sys.exit(1)
        return super().main(given, *rest, **kwargs)

    def list_commands(self, ctx: Any) -> list[str]:
        """The order a new principal meets them in; unlisted commands follow as registered."""
        rank = {name: i for i, name in enumerate(ORDER)}
        return sorted(self.commands, key=lambda n: rank.get(n, len(ORDER)))


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM (`kill`, a background `ga train` stopped) ends ga as Ctrl-C does, through its
    `finally` blocks, so temporary folders and half-filled caches are removed, not left."""
    import signal
    import threading

    def terminated(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)


def os_error(exc: OSError) -> tuple[str, str]:
    """(message, hint) for an operating-system refusal: permissions, a full disk, ..."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    said = {
        errno.EACCES: ("permission denied", "check who owns it (`ls -l`) and its permissions"),
        errno.EPERM: ("operation not permitted", "check who owns it (`ls -l`)"),
        errno.EROFS: ("the file system is read-only", "run ga where it can write"),
        errno.ENOSPC: (
            "no space left on the disk",
            "free some space, then run it again (ga writes atomically: no file was half written)",
        ),
        errno.EDQUOT: ("disk quota exceeded", "free some space, then run it again"),
        errno.ENAMETOOLONG: ("a name is too long for the file system", "use a shorter name"),
    }
    message, hint = said.get(
        exc.errno or 0, (exc.strerror or str(exc), "check the path, then run it again")
    )
    return f"{message}{where}", hint


def undecodable_argument(args: list[str]) -> str | None:
    """The flag (or `argument N`) whose value holds bytes that are not UTF-8, else None."""
    for i, arg in enumerate(args):
        if not has_surrogate(arg):
            continue
        if arg.startswith("-"):
            return arg.split("=", 1)[0]
        if i > 0 and args[i - 1].startswith("-") and "=" not in args[i - 1]:
            return f"the text after {args[i - 1]}"
        return f"argument {i + 1} ({ascii(arg)[1:-1][:40]})"
    return None


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
