"""An advisory lock that serialises ga processes working on one ledger.

`fcntl.flock` is released by the kernel when its holder dies, so a killed process never leaves
the ledger locked. The lock file records the holder's pid: when the next process finds the pid of
a dead holder there, that process died mid-operation, and its leftovers (git's own index.lock)
are cleared.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from ga_cli.errors import GaError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LedgerLock:
    def __init__(self, lock_path: Path, git_dir: Path, timeout: float = 60.0):
        self.lock_path = lock_path
        self.git_dir = git_dir
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> LedgerLock:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    os.close(fd)
                    holder = self.lock_path.read_text().strip()
                    who = f"pid {holder}" if holder.isdigit() else "another ga process"
                    raise GaError(
                        f"the ledger is locked by {who} ({self.lock_path})",
                        "wait for the other ga command to finish, then try again",
                    ) from exc
                time.sleep(0.01)
        previous = os.read(fd, 32).decode(errors="ignore").strip()
        if previous.isdigit() and int(previous) != os.getpid() and not _alive(int(previous)):
            self._clear_stale()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return self

    def _clear_stale(self) -> None:
        index_lock = self.git_dir / "index.lock"
        if index_lock.exists():
            index_lock.unlink()

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
