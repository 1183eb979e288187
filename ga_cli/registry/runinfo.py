"""run.json, typed: what a trained run is, written by `ga train`, read by every command.

Read and written here only. Files written by older versions still read: a missing field gets
its default, and keys this version does not know are kept through a rewrite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ga_cli.errors import GaError
from ga_cli.fileio import atomic_write

JSON = dict[str, Any]  # a JSON object as it stands in run.json (the I/O edge)


@dataclass(frozen=True)
class RunInfo:
    id: str
    base_model: str  # as the recipe names it (`embedded`, a folder, an id)
    base_model_path: str  # where it was loaded from (a local folder or a cached id)
    ledger_sha: str
    recipe_name: str
    recipe: JSON  # the recipe's sections as trained (validated by training.recipe)
    dataset: str = ""
    dataset_hash: str = ""
    seed: int = 0
    parent: str | None = None
    training: JSON = field(default_factory=dict)  # {kind: full|incremental, reason, ...}
    versions: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    replay_rows: int = 0
    own_answer_pairs: int = 0
    metrics: JSON = field(default_factory=dict)
    eval: JSON = field(default_factory=dict)  # the comparison that decided its promotion
    promoted: bool = False
    promotion: str = ""
    last_eval: JSON | None = None  # what the last `ga eval RUN` measured
    checkpoint: JSON | None = None  # the epoch checkpoint kept when the final model failed
    extra: JSON = field(default_factory=dict)  # keys written by another version, kept

    @property
    def kind(self) -> str:
        return str(self.training.get("kind", "full"))

    @property
    def pref_accuracy(self) -> float | None:
        value = (self.eval.get("after") or {}).get("pref_accuracy")
        return None if value is None else float(value)

    @property
    def drift(self) -> float | None:
        value = (self.eval.get("retention") or {}).get("drift")
        return None if value is None else float(value)

    def to_json(self) -> JSON:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        for optional in ("last_eval", "checkpoint"):
            if data[optional] is None:
                del data[optional]
        return {**self.extra, **data}

    @classmethod
    def from_json(cls, data: JSON, where: str) -> RunInfo:
        known = {f.name for f in fields(cls)} - {"extra"}
        missing = [
            k for k in ("id", "base_model", "base_model_path", "recipe_name") if k not in data
        ]
        if missing:
            raise GaError(
                f"{where}: not a run record (no {', '.join(missing)})",
                "remove the run's folder, or train again",
            )
        kept = {k: v for k, v in data.items() if k in known}
        kept.setdefault("ledger_sha", "")
        kept.setdefault("recipe", {})
        return cls(**kept, extra={k: v for k, v in data.items() if k not in known})

    def with_eval(self, measured: JSON) -> RunInfo:
        return replace(self, last_eval=measured)


def read(path: Path) -> RunInfo:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GaError(
            f"{path}: cannot read the run record ({exc})", "remove the run's folder, or train again"
        ) from exc
    if not isinstance(data, dict):
        raise GaError(f"{path}: not a run record", "remove the run's folder, or train again")
    return RunInfo.from_json(data, str(path))


def write(path: Path, info: RunInfo) -> None:
    atomic_write(path, (json.dumps(info.to_json(), indent=2, sort_keys=True) + "\n").encode())
