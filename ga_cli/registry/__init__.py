"""The registry: what `ga train` produced and what every other command talks to.

runs.py      models/<run-id>/ (adapter, run.json), the `current` pointer, the training lock
runinfo.py   run.json as a typed record (RunInfo), read and written in one place
aliases.py   short names for runs and models (aliases.yaml in the data dir)
resolve.py   one `resolve(name) -> Target` for every command
"""

from ga_cli.registry.resolve import (
    CURRENT,
    Target,
    names_a_run,
    resolve,
    resolve_default,
    resolve_run,
)
from ga_cli.registry.runinfo import RunInfo
from ga_cli.registry.runs import (
    LOCK_FD_ENV,
    Run,
    current,
    finish,
    get,
    incomplete,
    new_run_id,
    remove,
    rollback,
    root,
    runs,
    set_current,
    training,
    training_pid,
    try_lock,
    work_root,
)

__all__ = [
    "CURRENT",
    "LOCK_FD_ENV",
    "Run",
    "RunInfo",
    "Target",
    "current",
    "finish",
    "get",
    "incomplete",
    "names_a_run",
    "new_run_id",
    "remove",
    "resolve",
    "resolve_default",
    "resolve_run",
    "rollback",
    "root",
    "runs",
    "set_current",
    "training",
    "training_pid",
    "try_lock",
    "work_root",
]
