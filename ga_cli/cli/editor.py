"""Open the principal's $EDITOR on a text and get back what they wrote."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from ga_cli.errors import GaError, LedgerFormatError

T = TypeVar("T")
PROBLEM = "# ga: "  # the lines ga puts above a text that did not parse, as `git commit` does
ATTEMPTS = 5  # re-opened at most this many times: a scripted $EDITOR cannot loop for ever


def edit(initial: str, suffix: str = ".md") -> str:
    """Return the edited text; abort (GaError, nothing written) if the editor fails or nothing
    changed. A failed or unchanged edit leaves no file behind; a changed one is returned whole."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="ga-edit-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(initial)
        try:
            code = subprocess.call([*shlex.split(editor), str(path)])
        except FileNotFoundError as exc:
            raise GaError(
                f"editor `{editor}` was not found",
                "set EDITOR to your editor, e.g. `export EDITOR=nano`",
            ) from exc
        if code != 0:
            raise GaError(f"editor `{editor}` exited with status {code}; nothing was written")
        edited = path.read_bytes()
        try:
            text = edited.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GaError("the edited text is not valid UTF-8; nothing was written") from exc
        if text == initial:
            raise GaError("nothing changed in the editor; nothing was written")
        return text
    finally:
        path.unlink(missing_ok=True)


def edit_until_valid(initial: str, suffix: str, accept: Callable[[str], T], again: str) -> T:
    """Edit `initial` until `accept(text)` takes it. A text it refuses (GaError) is opened
    again with the problem written above it as `# ga:` comment lines (as `git commit` and
    `crontab -e` do); closing the editor without a change then keeps the text in a file that
    the error names, and `again` says how to use it. Nothing the principal typed is lost."""
    shown, typed = initial, ""
    for _ in range(ATTEMPTS):
        try:
            typed = without_problem(edit(shown, suffix))
        except GaError:
            if shown is initial:  # nothing was typed yet: nothing to keep
                raise
            break
        try:
            return accept(typed)
        except LedgerFormatError as exc:  # its line counts from the top of `typed`
            where = f"line {exc.line + len(HEADER) + 1}: " if exc.line else ""
            shown = with_problem(typed, where + exc.detail)
        except GaError as exc:
            shown = with_problem(typed, exc.message)
    kept = keep_rejected(typed, suffix)
    raise GaError(
        f"your edit did not parse and was not recorded; it is kept in {kept}",
        again.format(file=kept),
    )


HEADER = (
    "this did not parse, so nothing is recorded yet:",
    "fix it and save; close without saving to keep it in a file instead.",
)


def with_problem(text: str, message: str) -> str:
    """`text` with `message` as `# ga:` comment lines at its top."""
    head = [PROBLEM + HEADER[0], f"{PROBLEM}  {message}", PROBLEM + HEADER[1]]
    return "\n".join(head) + "\n" + text


def without_problem(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(PROBLEM))


def keep_rejected(text: str, suffix: str) -> Path:
    """Save an edit that failed validation (in the private data folder, which outlives /tmp),
    so the principal's words are not lost."""
    from ga_cli import paths

    folder = paths.data_dir() / "unsaved-edits"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix="edit-", suffix=suffix, dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(name)
