"""Incremental runs: `ga train` continues the current run's adapter on what changed in the ledger
since that run's commit, with a replay sample of earlier records, instead of retraining from the
base model on everything. The cost then follows what is new, not how long the ledger has grown.

A run falls back to a full one, and says why, whenever continuing could keep something the
principal took back or would train a different model: `--full`; no current run; the recipe's
`incremental.enabled` is false; another base model or a changed recipe (its `gate` and
`incremental` sections aside); a ledger history that no longer contains the parent's commit; an
entry the parent trained on that was since removed or retired, or moved to the held-out split;
or so much new data that an incremental run would cost as much as a full one.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ga_cli.dataset import rows
from ga_cli.dataset.rows import Pair, Row, Turn
from ga_cli.errors import GaError
from ga_cli.registry import Run
from ga_cli.training import data
from ga_cli.training import recipe as R

RowT = TypeVar("RowT", Turn, Pair)
NOT_NEW = ("injection",)  # generated records (they follow the dataset's size): replay, never new


@dataclass(frozen=True)
class Plan:
    """What a run trains on. `parent` None: a full run (`reason` says why); else the parent's
    adapter is continued on `sft`/`prefs` rows: the new records and the replayed earlier ones."""

    parent: Run | None
    reason: str
    sft: list[Turn] = field(default_factory=list)  # dataset records, not TRL rows
    prefs: list[Pair] = field(default_factory=list)
    new_sft: int = 0
    new_prefs: int = 0
    general: int = 0  # the base model's general answers to replay beside them
    new_entries: tuple[str, ...] = ()

    @property
    def incremental(self) -> bool:
        return self.parent is not None

    @property
    def up_to_date(self) -> bool:
        """An incremental run with nothing new to learn: the current model already has it."""
        return self.parent is not None and not self.new_sft and not self.new_prefs

    def to_json(self) -> dict[str, Any]:
        if self.parent is None:
            return {"kind": "full", "reason": self.reason}
        return {
            "kind": "incremental",
            "parent": self.parent.id,
            "reason": self.reason,
            "new": {"sft": self.new_sft, "prefs": self.new_prefs, "entries": self.new_entries},
            "replayed": {
                "sft": len(self.sft) - self.new_sft,
                "prefs": len(self.prefs) - self.new_prefs,
                "general": self.general,
            },
        }


def full(reason: str) -> Plan:
    return Plan(None, reason)


def _key(record: Row) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _entry(record_id: str) -> str:
    return record_id.split("#", maxsplit=1)[0]


def plan(
    rec: R.Recipe,
    base: str,
    dataset: Any,
    parent: Run,
    parent_dataset: Any,
    removed: list[str],
) -> Plan:
    """Decide full or incremental. `parent`: the run to continue (the current one);
    `parent_dataset`: its dataset folder (rebuilt at its commit); `removed`: entries trusted at
    the parent's commit that are not now (`removed_entries`, which also checks the history)."""
    inc = rec.incremental
    info = parent.info
    if not inc.enabled:
        return full("the recipe's `incremental.enabled` is false")
    if info.base_model_path != base or info.base_model != rec.base_model:
        return full(f"the base model changed since {parent.id} ({info.base_model})")
    try:
        same = R.from_run(info).method() == rec.method()
    except GaError:  # a recipe this version no longer reads
        same = False
    if not same:
        return full(f"the recipe changed since {parent.id}")
    if not (parent.adapter / "adapter_config.json").is_file():
        return full(f"{parent.id} has no adapter to continue from")
    if removed:
        shown = ", ".join(removed[:3]) + (" …" if len(removed) > 3 else "")
        return full(
            f"{len(removed)} entr{'y' if len(removed) == 1 else 'ies'} {parent.id} learned "
            f"from {'was' if len(removed) == 1 else 'were'} removed or retired since ({shown})"
        )
    old_sft = rows.turns(parent_dataset / "sft.jsonl")
    old_prefs = rows.pairs(parent_dataset / "prefs.jsonl")
    held_now = set(json.loads((dataset / "manifest.json").read_text())["heldout_ids"])
    moved = sorted({_entry(r["id"]) for r in old_sft + old_prefs if _entry(r["id"]) in held_now})
    if moved:
        return full(
            f"{len(moved)} entr{'y' if len(moved) == 1 else 'ies'} {parent.id} trained on "
            f"moved to the held-out split ({', '.join(moved[:3])})"
        )
    sft, prefs = rows.turns(dataset / "sft.jsonl"), rows.pairs(dataset / "prefs.jsonl")
    seen = {_key(r) for r in old_sft} | {_key(r) for r in old_prefs}
    new_sft, old_sft_now = _split(sft, seen)
    new_prefs, old_prefs_now = _split(prefs, seen)
    entries = tuple(sorted({_entry(r["id"]) for r in new_sft + new_prefs}))
    if not new_sft and not new_prefs:
        return Plan(parent, f"nothing new since {parent.id}")
    rng = random.Random(f"{rec.seed}:{dataset.name}")

    def replay(old: list[RowT], n_new: int) -> list[RowT]:
        n = min(len(old), round(inc.replay_ratio * n_new), inc.replay_cap)
        return rng.sample(old, n)

    sft_rows = new_sft + replay(old_sft_now, len(new_sft))
    pref_rows = new_prefs + replay(old_prefs_now, len(new_prefs))
    general = min(rec.sft.replay, round(inc.general_ratio * len(new_sft)))
    steps_now = (len(sft_rows) + general + len(pref_rows)) * inc.epochs
    if steps_now >= _full_run_steps(rec, sft, prefs):
        return full(
            f"most of the data is new since {parent.id}: an incremental run would cost as much "
            "as a full one"
        )
    return Plan(
        parent,
        f"continuing {parent.id}: {len(entries)} new or edited entr"
        f"{'y' if len(entries) == 1 else 'ies'}",
        sft_rows,
        pref_rows,
        len(new_sft),
        len(new_prefs),
        general,
        entries,
    )


def _split(rows_now: list[RowT], seen: set[str]) -> tuple[list[RowT], list[RowT]]:
    """(new, earlier): rows the parent did not train on (generated ones never count as new)."""
    new = [r for r in rows_now if r["source"] not in NOT_NEW and _key(r) not in seen]
    return new, [r for r in rows_now if r not in new]


def _full_run_steps(rec: R.Recipe, sft: list[Turn], prefs: list[Pair]) -> int:
    """Rows a full run would train on, times their epochs: what an incremental run must beat."""
    full_sft = len(data.weighted(sft, rec.sft.chosen_repeats))
    steps = (full_sft + rec.sft.replay) * rec.sft.epochs
    return steps + len(prefs) * rec.dpo.epochs * int(rec.dpo.enabled)


def removed_entries(ledger_root: str, parent_sha: str, head_sha: str) -> list[str] | None:
    """Entries trusted at the parent's commit that are gone or no longer trusted at HEAD;
    None when the parent's commit is not in HEAD's history (rewritten or another ledger)."""
    from ga_cli.dataset import snapshot

    if not snapshot.is_ancestor(ledger_root, parent_sha, head_sha):
        return None
    before = snapshot.load(ledger_root, parent_sha, skip_invalid=True)
    now = snapshot.load(ledger_root, head_sha, skip_invalid=True)
    trusted_now = {i.id for i in now.items if i.trusted}
    return sorted(i.id for i in before.items if i.trusted and i.id not in trusted_now)
