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

    from ga_cli.progress import Event


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


def number(x: float | None, digits: int = 2) -> str:
    """A measured figure for a table or a sentence; `n/a` when it was not measured."""
    return "n/a" if x is None else f"{x:.{digits}f}"


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def table(
    columns: list[str],
    rows: Iterable[Iterable[Any]],
    title: str | None = None,
    whole: Iterable[str] = ("id",),
) -> None:
    """A table on stdout. Columns named in `whole` (ids a principal copies) are never wrapped
    or cut: on a narrow terminal the other columns give way."""
    from rich.table import Table
    from rich.text import Text

    cells = [[Text(printable(str(c))) for c in row] for row in rows]  # plain text, no markup
    t = Table(title=title, show_lines=False, header_style="bold")
    keep = set(whole)
    for i, name in enumerate(columns):
        if name in keep:
            width = max([len(name)] + [c[i].cell_len for c in cells if i < len(c)])
            t.add_column(name, no_wrap=True, min_width=width)
        else:
            t.add_column(name)
    for row in cells:
        t.add_row(*row)
    console().print(t)


class StageProgress:
    """Progress events (ga_cli.progress) on stderr: on a terminal, a rich bar per
    stage with step, loss, tokens/s and ETA; elsewhere (a script, CI, a log file) one plain line
    when a stage starts, about every `every` seconds, and when it ends."""

    def __init__(self, every: float = 30.0) -> None:
        import time

        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.clock = time.monotonic
        self.tty = console(True).is_terminal
        self.every = every
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=console(True),
            disable=not self.tty,
        )
        self.tasks: dict[str, Any] = {}
        self.started: dict[str, float] = {}
        self.last_line: dict[str, float] = {}
        self.finished: set[str] = set()

    def __enter__(self) -> StageProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        stage, step, total = event["stage"], event["step"], event["total"]
        parts = []
        if isinstance(event.get("loss"), (int, float)):
            parts.append(f"loss {event['loss']:.4f}")
        if event.get("tokens_per_s"):
            parts.append(f"{event['tokens_per_s']:.0f} tok/s")
        detail = "  ".join(parts)
        now = self.clock()
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total, info="")
            self.started[stage] = now
        self.progress.update(self.tasks[stage], completed=step, total=total, info=detail)
        if self.tty:
            return
        first = stage not in self.last_line
        done = bool(total) and step >= total
        if stage in self.finished:  # a closing summary event after the last step
            return
        if first or done or now - self.last_line[stage] >= self.every:
            self.last_line[stage] = now
            elapsed = now - self.started[stage]
            eta = ""
            if step and total and not done:
                eta = f", about {_duration(elapsed / step * (total - step))} left"
            line = f"{stage}: {step}/{total}" + (f", {detail}" if detail else "") + eta
            if done:
                line += f" (done in {_duration(elapsed)})"
                self.finished.add(stage)
            info(line)


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class AnswerView:
    """An answer as it streams in: on a terminal (and unless `plain`), its markdown rendered
    by rich as it grows; elsewhere, the raw text after `prefix`. Control characters in the
    model's text are shown escaped either way.

    On a terminal the growing answer is a transient live view of its last screenful (a live
    view taller than the screen cannot be redrawn, and rich then repeats it); when the answer
    ends, the view is erased and the whole answer printed once, wrapped at the terminal's
    width, so every word reaches the screen, and the scrollback, exactly once."""

    def __init__(self, plain: bool = False, prefix: str = "ga> ") -> None:
        self.text = ""  # the answer alone, without the remarks
        self.notes: list[str] = []
        self.prefix = prefix
        self.live: Any = None
        con = console()
        if not plain and con.is_terminal and not con.is_dumb_terminal:
            from rich.console import Console
            from rich.live import Live

            self.con = Console(highlight=False)  # wraps: soft_wrap would crop at the edge
            self.live = Live(
                console=self.con,
                refresh_per_second=8,
                transient=True,
                vertical_overflow="crop",
                get_renderable=self._tail,
            )

    def _shown(self) -> Any:
        from rich.markdown import Markdown

        return Markdown(printable("\n\n".join([self.text, *self.notes])))

    def _tail(self) -> Any:
        """The last lines of the rendered answer that fit on the screen."""
        from rich.text import Text

        lines = self.con.render_lines(self._shown(), self.con.options)
        room = max(1, self.con.size.height - 2)
        text = Text()
        for line in lines[-room:]:
            for seg in line:
                text.append(seg.text, seg.style)
            text.append("\n")
        text.rstrip()
        return text

    def __enter__(self) -> AnswerView:
        if self.live is not None:
            self.live.start()
        else:
            raw(self.prefix)
        return self

    def write(self, piece: str) -> None:
        self.text += piece
        if self.live is None:
            raw(piece)

    def note(self, text: str) -> None:
        """A remark after the answer ([stopped], [cut off ...])."""
        self.notes.append(text)
        if self.live is None:
            raw(" " + text)

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()  # transient: the view goes, and the answer is printed once
            self.con.print(self._shown())
        else:
            raw("\n")
