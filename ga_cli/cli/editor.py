"""Open the principal's $EDITOR on a text and get back what they wrote."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from ga_cli.errors import GaError


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


def keep_rejected(text: str, suffix: str) -> Path:
    """Save an edit that failed validation, so the principal's words are not lost."""
    fd, name = tempfile.mkstemp(prefix="ga-rejected-edit-", suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return Path(name)
