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
    if sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return _terminal(list(commands))
    return _plain


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
    from prompt_toolkit.key_binding import KeyBindings

    from ga_cli import paths

    class SlashCommands(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            text = document.text_before_cursor
            if text.startswith("/") and " " not in text:
                for c in commands:
                    if c.startswith(text):
                        yield Completion(c, start_position=-len(text))

    keys = KeyBindings()

    @keys.add("enter")
    def _submit(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.text.endswith("\\"):  # the old way to continue a line still works
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    hist = paths.data_dir() / "chat_history"
    hist.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not hist.exists():
        os.close(os.open(hist, os.O_WRONLY | os.O_CREAT, 0o600))
    session: Any = PromptSession(
        history=FileHistory(str(hist)),
        completer=SlashCommands(),
        complete_while_typing=False,  # Tab completes, as in a shell
        key_bindings=keys,
        multiline=True,  # Enter is bound above: it sends, unless the line ends in `\`
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
    if sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        from prompt_toolkit import prompt
        from prompt_toolkit.key_binding import KeyBindings

        keys = KeyBindings()

        @keys.add("enter")
        def _submit(event: Any) -> None:
            event.current_buffer.validate_and_handle()

        @keys.add("escape", "enter")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        return str(
            prompt(
                label,
                default=default,
                multiline=True,
                key_bindings=keys,
                prompt_continuation="...> ",
            )
        ).strip()
    return input(label).strip() or default
