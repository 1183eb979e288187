"""The one place ga prints. Commands hand data here; core modules never print."""

from __future__ import annotations

import json
import os
import sys
import traceback
from functools import cache
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from rich.console import Console


@cache
def console(stderr: bool = False) -> Console:
    """rich is imported on first print, so `ga --help` does not pay for it."""
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, highlight=False)


def debug() -> bool:
    return os.environ.get("GA_DEBUG", "") not in ("", "0")


def printable(text: str) -> str:
    """Control characters (ANSI escapes, NUL, ...) shown as `\\x1b`, never sent to the
    terminal: a hand-edited or piped-in value cannot move the cursor or hide text."""
    return "".join(
        c
        if c.isprintable() or c in "\n\t"
        else f"\\x{ord(c):02x}"
        if ord(c) < 256
        else f"\\u{ord(c):04x}"
        for c in text
    )


def _marked(label: str, message: str) -> str:
    from rich.markup import escape

    return f"{label} {escape(printable(message))}"


def error(message: str, hint: str | None = None) -> None:
    if debug():
        traceback.print_exc()
    console(True).print(_marked("[bold red]Error:[/]", message), markup=True, highlight=False)
    if hint:
        console(True).print(_marked("[yellow]Hint:[/]", hint), markup=True, highlight=False)


def warn(message: str) -> None:
    console(True).print(_marked("[yellow]Warning:[/]", message), markup=True, highlight=False)


def info(message: str) -> None:
    """Progress and confirmations go to stderr, so stdout stays clean for pipelines."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def text(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def raw(message: str) -> None:
    sys.stdout.write(message)
    sys.stdout.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def table(columns: list[str], rows: Iterable[Iterable[Any]], title: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    t = Table(*columns, title=title, show_lines=False, header_style="bold")
    for row in rows:  # cells are plain text: no markup, no control characters
        t.add_row(*(Text(printable(str(c))) for c in row))
    console().print(t)
