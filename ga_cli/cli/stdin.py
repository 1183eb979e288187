"""Reading piped standard input: text only, never mistaken for a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from ga_cli.errors import GaError

MAX_BYTES = 8 << 20  # what one `ga ask` reads from stdin and each -f file: 8 MiB


def piped() -> bool:
    try:
        return not sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def read_text(what: str = "standard input") -> str:
    if hasattr(sys.stdin, "buffer"):
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        data = sys.stdin.read(MAX_BYTES + 1).encode()
    if len(data) > MAX_BYTES:
        raise GaError(
            f"{what} is over {MAX_BYTES >> 20} MiB; ga reads at most that much",
            "send less: `head -c 1M FILE | ga ask ...`, or the part that matters",
        )
    return _text(data, what)


def read_file(path: Path) -> str:
    """A file given with -f: text only, with an error that names it."""
    try:
        with path.open("rb") as fh:  # bounded: `-f /dev/zero` ends at the limit
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise GaError(f"-f {path}: no such file") from None
    except IsADirectoryError:
        raise GaError(f"-f {path}: is a directory", "attach files, one -f each") from None
    except OSError as exc:
        raise GaError(f"-f {path}: {exc.strerror}") from exc
    if len(data) > MAX_BYTES:
        raise GaError(
            f"-f {path} is over {MAX_BYTES >> 20} MiB; ga reads at most that much a file",
            f"attach the part that matters: `head -c 1M {path} > part.txt`, then -f part.txt",
        )
    return _text(data, f"-f {path}")


def _text(data: bytes, what: str) -> str:
    if b"\0" in data:
        raise GaError(f"{what} looks like binary data; refusing it", "pipe text, not binary files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GaError(f"{what} is not valid UTF-8 text", "convert it to UTF-8 first") from exc
