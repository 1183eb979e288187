"""Reading piped standard input: text only, never mistaken for a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from ga_cli.errors import GaError


def piped() -> bool:
    try:
        return not sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def read_text(what: str = "standard input") -> str:
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    return _text(data, what)


def read_file(path: Path) -> str:
    """A file given with -f: text only, with an error that names it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GaError(f"-f {path}: no such file") from None
    except IsADirectoryError:
        raise GaError(f"-f {path}: is a directory", "attach files, one -f each") from None
    except OSError as exc:
        raise GaError(f"-f {path}: {exc.strerror}") from exc
    return _text(data, f"-f {path}")


def _text(data: bytes, what: str) -> str:
    if b"\0" in data:
        raise GaError(f"{what} looks like binary data; refusing it", "pipe text, not binary files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GaError(f"{what} is not valid UTF-8 text", "convert it to UTF-8 first") from exc
