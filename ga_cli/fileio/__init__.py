"""The ground floor every stage stands on: writing a file so readers never see half of it, and
one advisory lock (`fcntl.flock`, released by the kernel when its holder dies) that records its
holder's pid. `yamlio` (round-trip YAML) and `cachefill` (fill a cache folder once) live beside.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write `data` so that readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FileLock:
    """An exclusive lock on `path` (created 0600). `acquire(wait)`: None blocks, 0 tries once,
    a number of seconds polls that long. While held the file holds this process's pid;
    `previous` is the pid the last holder left there (a holder that died mid-way leaves it)."""

    def __init__(self, path: Path, fd: int | None = None):
        self.path = path
        self.fd = fd  # an inherited fd that already holds the lock (a background child)
        self.previous: int | None = None

    def acquire(self, wait: float | None = None) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if deadline is None or time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.01)
        text = os.pread(fd, 32, 0).decode(errors="ignore").strip()
        self.previous = int(text) if text.isdigit() else None
        self.fd = fd
        self.mark()
        return True

    def mark(self) -> None:
        """Record this process as the holder."""
        assert self.fd is not None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def holder(self) -> int | None:
        """The pid of whoever holds the lock now (-1: held, pid unknown), None when nobody.
        Asking leaves the file as it was (a dead holder's pid stays for the next `acquire`)."""
        if not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="ignore").strip()
            return int(text) if text.isdigit() else -1
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def __enter__(self) -> FileLock:
        if self.fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
