"""Reading the principal's messages in `ga chat`.

On a terminal: prompt_toolkit, so a pasted block (bracketed paste) is one message however many
lines it has, Alt-Enter (or a line ending in `\\`) adds a line, Up/Down walk the saved history
(0600 in the data dir) and Tab completes slash commands. Off a terminal (a pipe, a script):
plain lines, `\\` at a line's end continuing it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, Callable

COMMANDS = ["/correct", "/good", "/retry", "/values", "/model", "/help", "/quit"]


def reader(commands: Iterable[str] = COMMANDS) -> Callable[[], str]:
    """A function that returns the next message (EOFError at the end, KeyboardInterrupt on
    Ctrl-C), the rich one when stdin and stdout are terminals."""
    if _on_terminal():
        return _terminal(list(commands))
    return _plain


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def _keys(backslash_continues: bool) -> Any:
    """Enter sends (or, with `backslash_continues`, continues a line ending in `\\`, the old
    way); Alt-Enter adds a line."""
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("enter")
    def _submit(event: Any) -> None:
        buffer = event.current_buffer
        if backslash_continues and buffer.text.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    return keys


def _plain() -> str:
    lines = [input("you> ")]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        lines.append(input("...> "))
    return "\n".join(lines).strip()


def _terminal(commands: list[str]) -> Callable[[], str]:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion
    from prompt_toolkit.history import FileHistory

    from ga_cli import paths

    class SlashCommands(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            text = document.text_before_cursor
            if text.startswith("/") and " " not in text:
                for c in commands:
                    if c.startswith(text):
                        yield Completion(c, start_position=-len(text))

    hist = paths.data_dir() / "chat_history"
    hist.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not hist.exists():
        os.close(os.open(hist, os.O_WRONLY | os.O_CREAT, 0o600))
    session: Any = PromptSession(
        history=FileHistory(str(hist)),
        completer=SlashCommands(),
        complete_while_typing=False,  # Tab completes, as in a shell
        key_bindings=_keys(backslash_continues=True),
        multiline=True,  # Enter is bound by _keys: it sends, unless the line ends in `\`
        prompt_continuation="...> ",
        enable_open_in_editor=False,
    )

    def read() -> str:
        return str(session.prompt("you> ")).strip()

    return read


def edit(label: str, default: str = "") -> str:
    """One answer the principal writes or edits: on a terminal, prompt_toolkit starting from
    `default` (Alt-Enter adds a line, Enter sends); elsewhere one plain line (empty keeps
    `default`)."""
    if _on_terminal():
        from prompt_toolkit import prompt

        return str(
            prompt(
                label,
                default=default,
                multiline=True,
                key_bindings=_keys(backslash_continues=False),
                prompt_continuation="...> ",
            )
        ).strip()
    return input(label).strip() or default
