"""The one place ga prints. Commands hand data here; core modules never print."""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def debug() -> bool:
    return os.environ.get("GA_DEBUG", "") not in ("", "0")


def error(message: str, hint: str | None = None) -> None:
    if debug():
        traceback.print_exc()
    err.print(f"[bold red]Error:[/] {message}", markup=True, highlight=False)
    if hint:
        err.print(f"[yellow]Hint:[/] {hint}", markup=True, highlight=False)


def warn(message: str) -> None:
    err.print(f"[yellow]Warning:[/] {message}", markup=True, highlight=False)


def info(message: str) -> None:
    """Progress and confirmations go to stderr, so stdout stays clean for pipelines."""
    err.print(message, markup=False, highlight=False)


def text(message: str) -> None:
    out.print(message, markup=False, highlight=False)


def raw(message: str) -> None:
    sys.stdout.write(message)
    sys.stdout.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def table(columns: list[str], rows: Iterable[Iterable[Any]], title: str | None = None) -> None:
    t = Table(*columns, title=title, show_lines=False, header_style="bold")
    for row in rows:
        t.add_row(*(str(c) for c in row))
    out.print(t)
