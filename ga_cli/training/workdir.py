"""A `ga train` run in progress: its folder in models/.work/, and state.json (--resume)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ga_cli import registry
from ga_cli.errors import GaError
from ga_cli.fileio import atomic_write
from ga_cli.training import recipe as R


@dataclass
class Work:
    """A run in progress: its folder in models/.work/ and state.json (what --resume reads)."""

    path: Path
    run_id: str
    recipe_path: str
    parent: str | None
    started: float = 0.0
    base_model: str | None = None  # --base, when it replaced the recipe's
    trained_seconds: float | None = None  # set once training finished: --resume evaluates
    trained_stages: dict[str, Any] | None = None  # StageResult fields per stage, as JSON

    def save(self) -> None:
        state: dict[str, Any] = {
            "run_id": self.run_id,
            "recipe_path": self.recipe_path,
            "started": self.started,
            "parent": self.parent,
            "base_model": self.base_model,
        }
        if self.trained_seconds is not None:
            state["trained"] = {"seconds": self.trained_seconds, "stages": self.trained_stages}
        atomic_write(self.path / "state.json", json.dumps(state).encode())

    @classmethod
    def read(cls, path: Path) -> Work:
        state = json.loads((path / "state.json").read_text())
        trained = state.get("trained") or {}
        return cls(
            path,
            state["run_id"],
            state["recipe_path"],
            state.get("parent"),
            state.get("started", 0.0),
            state.get("base_model"),
            trained.get("seconds"),
            trained.get("stages"),
        )


def interrupted() -> Work:
    works = [w for w in registry.incomplete() if (w / "state.json").is_file()]
    if not works:
        raise GaError("there is no interrupted run to resume", "start one with `ga train`")
    return Work.read(works[-1])


def begin(rec: R.Recipe, plan: Any) -> Work:
    run_id = registry.new_run_id()
    path = registry.work_root() / run_id
    path.mkdir()
    parent = plan.parent.id if plan.parent else None
    work = Work(path, run_id, str(rec.path), parent, time.time(), rec.base_model)
    work.save()
    return work
