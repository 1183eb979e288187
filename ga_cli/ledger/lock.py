"""The advisory lock that serialises ga processes working on one ledger.

The lock is released by the kernel when its holder dies, so a killed process never leaves the
ledger locked; when the pid its last holder recorded is dead, that process died mid-operation,
and its leftovers (git's own index.lock) are cleared.
"""

from __future__ import annotations

import os
from pathlib import Path

from ga_cli.errors import GaError
from ga_cli.fileio import FileLock, pid_alive


class LedgerLock:
    def __init__(self, lock_path: Path, git_dir: Path, timeout: float = 60.0):
        self.lock = FileLock(lock_path)
        self.git_dir = git_dir
        self.timeout = timeout

    def __enter__(self) -> LedgerLock:
        if not self.lock.acquire(wait=self.timeout):
            holder = self.lock.path.read_text().strip()
            who = f"pid {holder}" if holder.isdigit() else "another ga process"
            raise GaError(
                f"the ledger is locked by {who} ({self.lock.path})",
                "wait for the other ga command to finish, then try again",
            )
        previous = self.lock.previous
        if previous is not None and previous != os.getpid() and not pid_alive(previous):
            (self.git_dir / "index.lock").unlink(missing_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
