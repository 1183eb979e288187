"""Fill a cache folder once, safely, when several ga processes race for it.

The folder is made in a unique temporary sibling and renamed into place under an advisory lock
(`fcntl.flock`, released by the kernel if its holder dies): a reader sees the old folder, the new
one, or none, never half of one, and two processes never share a temporary folder.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from ga_cli.fileio import FileLock


def fill_dir(
    target: Path, make: Callable[[Path], None], ready: Callable[[Path], bool] | None = None
) -> Path:
    """Run `make(tmp)` to build the folder, then put it at `target` in one rename.

    With `ready`, a folder that is already complete (checked again under the lock, after
    waiting for whoever was filling it) is kept and `make` is not called."""
    if ready is not None and ready(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(target.with_name(f".{target.name}.lock")):
        if ready is not None and ready(target):
            return target
        for stale in target.parent.glob(f".{target.name}.tmp-*"):  # left by a killed process:
            shutil.rmtree(stale, ignore_errors=True)  # the lock says nobody fills it now
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            make(tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def file_key(path: Path, *extra: object) -> str:
    """A short key for what is made from the file at `path`: its path, size and time (and
    `extra`, such as a format number), so a changed file is made again."""
    stat = path.stat()
    stamp = "|".join(str(x) for x in (path, stat.st_size, stat.st_mtime_ns, *extra))
    return hashlib.sha256(stamp.encode()).hexdigest()[:12]
