"""Training that starts itself (opt-in: `ga config set train.auto N`, 0 or unset: off).

Once N trusted entries are new or changed since the current run (and since the last run started
here), a change to the ledger launches one background `ga train`: its own session, low CPU
priority, output logged under the data dir, holding the registry's training lock from before it
starts (so two changes in a row never start two runs, and nothing starts while any `ga train`
runs). The run records its outcome here; `ga chat` shows it once, `ga status` any time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ga_cli import paths, registry
from ga_cli.fileio import atomic_write
from ga_cli.ledger import gitrun

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger

ENV = "GA_TRAIN_AUTO"  # set in the background run: it records its outcome in the state file
NICE = 10


def state_file() -> Path:
    return paths.data_dir() / "train-auto.json"


def logs_dir() -> Path:
    d = paths.data_dir() / "train-logs"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


@dataclass
class Background:
    """The last background run, as train-auto.json keeps it."""

    pid: int | None = None
    started: float = 0.0
    log: str | None = None
    ledger_sha: str | None = None  # the commit it started at (a refused run is not retried)
    new_entries: int = 0
    finished: float | None = None  # when it ended (None: running, or it died)
    run: str | None = None  # the run it made (None: nothing was new)
    promoted: bool = False
    why: str = ""
    shown: bool = False  # the principal has been told it ended


def read_state() -> Background:
    try:
        data = json.loads(state_file().read_text())
        known = {f.name for f in fields(Background)}
        return Background(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError):
        return Background()


def _write_state(state: Background) -> None:
    data = json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"
    atomic_write(state_file(), data.encode())


def new_entries(ledger_root: Path, since: list[str]) -> int:
    """Trusted entries at HEAD that are new or changed since every commit in `since` (no
    commits: all trusted entries)."""
    from ga_cli.dataset import snapshot

    head = snapshot.resolve(str(ledger_root), "HEAD")
    items = [i for i in snapshot.load(str(ledger_root), head, skip_invalid=True).items]
    changed: set[str] | None = None
    for sha in since:
        if not snapshot.is_ancestor(str(ledger_root), sha, head):
            continue
        out = gitrun.run(ledger_root, "diff", "--name-only", sha, head).split()
        changed = set(out) if changed is None else changed & set(out)
    return sum(1 for i in items if i.trusted and (changed is None or i.path in changed))


@dataclass(frozen=True)
class Started:
    pid: int
    log: Path
    new: int  # trusted entries new since the current run


def maybe_start(ledger: Ledger) -> Started | None:
    """Launch a background `ga train` when train.auto says it is time; None otherwise."""
    n = ledger.config().train_auto
    if n <= 0 or os.environ.get(ENV):
        return None
    state = read_state()
    cur = registry.current()
    since = [cur.info.ledger_sha] if cur else []
    if state.ledger_sha:
        since.append(state.ledger_sha)  # a refused run is not retried on every change
    count = new_entries(ledger.root, since)
    if count < n:
        return None
    fd = registry.try_lock()
    if fd is None:  # a `ga train` runs: it is learning, or will be followed by another
        return None
    try:
        log = logs_dir() / (time.strftime("%Y%m%d-%H%M%S") + ".log")
        env = {**os.environ, ENV: "1", registry.LOCK_FD_ENV: str(fd), "GA_LEDGER": str(ledger.root)}
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ga_cli", "train"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                pass_fds=(fd,),
                start_new_session=True,  # Ctrl-C in the principal's terminal does not reach it
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(proc.pid).encode(), 0)  # the holder, before the child says so itself
    finally:
        os.close(fd)  # the child holds the lock now
    _write_state(Background(proc.pid, time.time(), str(log), ledger.head(), count))
    return Started(proc.pid, log, count)


def yield_cpu() -> None:
    """In the background run: low CPU priority, so the principal's own work comes first."""
    if os.environ.get(ENV):
        os.nice(NICE)


def record(run_id: str | None, promoted: bool, why: str) -> None:
    """Called by the background run itself when it ends (ENV set)."""
    if not os.environ.get(ENV):
        return
    state = read_state()
    ended = replace(state, run=run_id, promoted=promoted, why=why, finished=time.time())
    _write_state(replace(ended, shown=False))


def running() -> int | None:
    """The pid of a background run still training, None when none is."""
    pid = read_state().pid
    holder = registry.training_pid()
    return pid if pid and holder == pid else None


def unseen() -> Background | None:
    """A finished background run the principal has not been told about; marks it told."""
    state = read_state()
    if not state.finished or state.shown:
        return None
    state.shown = True
    _write_state(state)
    return state


def summary(state: Background) -> str:
    """One line on the last background run, for `ga chat` and `ga status`."""
    if running():
        since = time.strftime("%H:%M", time.localtime(state.started))
        return f"background training running since {since} (pid {state.pid}, log {state.log})"
    if not state.finished:
        return f"background training ended without a result (log {state.log})"
    if state.run is None:
        return f"background training found nothing to do: {state.why}"
    verdict = "promoted to current" if state.promoted else "kept, NOT promoted"
    return f"background training: {state.run} {verdict} ({state.why})"
