"""Trained runs: models/<run-id>/ (adapter, tokenizer, run.json) and a `current` pointer.

A run is trained in models/.work/<run-id>/ and renamed into place only when complete, so a killed
run is never listed as usable; `ga train --resume` picks its checkpoints up again.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.fileio import FileLock, atomic_write
from ga_cli.registry import runinfo
from ga_cli.registry.runinfo import RunInfo

if TYPE_CHECKING:
    from ga_cli.models.base import Backend


def root() -> Path:
    d = paths.data_dir() / "models"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def work_root() -> Path:
    d = root() / ".work"
    d.mkdir(exist_ok=True)
    return d


def new_run_id() -> str:
    return "r-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class Run:
    id: str
    path: Path

    @property
    def info(self) -> RunInfo:
        return runinfo.read(self.path / "run.json")

    @property
    def adapter(self) -> Path:
        return self.path / "adapter"

    @property
    def base_path(self) -> str:
        """The base model the adapter was trained on (a local folder or a cached id)."""
        return self.info.base_model_path

    def backend(self, progress: Any = None) -> Backend:
        """This run as a model to talk to: its base model with its adapter on top."""
        from ga_cli import models

        return models.load(self.base_path, adapter=str(self.adapter), progress=progress)

    def save(self, info: RunInfo) -> None:
        runinfo.write(self.path / "run.json", info)


def runs() -> list[Run]:
    return [Run(p.name, p) for p in sorted(root().glob("r-*")) if (p / "run.json").is_file()]


def get(ident: str) -> Run:
    """The run whose id starts with `ident` (registry.resolve also takes aliases and `current`)."""
    matches = [r for r in runs() if r.id.startswith(ident)]
    if not matches:
        raise GaError(f"no model run `{ident}`", "list them with `ga models list`")
    if len(matches) > 1:
        raise GaError(f"run id `{ident}` is ambiguous", "give more of the id")
    return matches[0]


def current() -> Run | None:
    pointer = root() / "current"
    if not pointer.is_file():
        return None
    rid = pointer.read_text().strip()
    path = root() / rid
    return Run(rid, path) if (path / "run.json").is_file() else None


def set_current(run: Run | None, reason: str) -> None:
    """Point `current` at a run (None: back to the base model); the log makes rollback possible."""
    pointer = root() / "current"
    if run is None:
        pointer.unlink(missing_ok=True)
    else:
        atomic_write(pointer, (run.id + "\n").encode())
    with open(root() / "current.log", "a", encoding="utf-8") as log:
        log.write(
            json.dumps({"time": _now(), "run": run.id if run else None, "reason": reason}) + "\n"
        )


def rollback() -> Run | None:
    """Back to the model that was current before this one (None: the base model)."""
    log = root() / "current.log"
    history = [None]  # before any run was promoted, the base model was current
    if log.exists():
        history += [json.loads(line)["run"] for line in log.read_text().splitlines()]
    cur = current()
    cur_id = cur.id if cur else None
    for rid in reversed(history):
        if rid != cur_id and (rid is None or (root() / rid / "run.json").is_file()):
            run = Run(rid, root() / rid) if rid else None
            set_current(run, "rollback")
            return run
    raise GaError("no earlier model to roll back to")


def remove(run: Run) -> None:
    cur = current()
    if cur is not None and cur.id == run.id:
        raise GaError(
            f"{run.id} is the current model",
            "switch first: ga models use OTHER, or ga models rollback",
        )
    shutil.rmtree(run.path)


def finish(work: Path, run_id: str) -> Run:
    """Move a complete run into the registry in one rename."""
    final = root() / run_id
    os.replace(work, final)
    return Run(run_id, final)


def incomplete() -> list[Path]:
    return sorted(p for p in work_root().iterdir() if p.is_dir())


LOCK_FD_ENV = "GA_TRAIN_LOCK_FD"  # a background `ga train` inherits the lock as this fd


def _lock(inherited_fd: int | None = None) -> FileLock:
    return FileLock(root() / ".train.lock", inherited_fd)


def try_lock() -> int | None:
    """The training lock's fd when this process got it, None when another `ga train` holds it."""
    lock = _lock()
    return lock.fd if lock.acquire(wait=0) else None


def training_pid() -> int | None:
    """The pid of the `ga train` holding the registry, None when none does."""
    return _lock().holder()


@contextmanager
def training() -> Iterator[None]:
    """Held by one `ga train` at a time, for the whole run: two trainings never race for the
    registry. A background run started by auto.py arrives holding it already."""
    inherited = os.environ.pop(LOCK_FD_ENV, None)
    lock = _lock(int(inherited) if inherited and inherited.isdigit() else None)
    if lock.fd is not None:
        lock.mark()
    elif not lock.acquire(wait=0):
        pid = training_pid()
        raise GaError(
            f"another ga train is running{f' (pid {pid})' if pid and pid > 0 else ''}",
            "wait for it to finish (`ga status` shows it), then try again",
        )
    try:
        yield
    finally:
        lock.release()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
