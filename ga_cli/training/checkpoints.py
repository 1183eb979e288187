"""Epoch checkpoints, and the one a run keeps when its final model fails the promotion rule.

The trainer saves the adapter at the end of every SFT and DPO epoch (a few MB each: LoRA
weights only) and lists them in `checkpoints/index.json` in the run's work folder. When the
final model fails the rule (drift, a regressed correction, generation health, held-out
accuracy), `rescue` evaluates the checkpoints newest first with the same rule, on the same
engines and probes as the final model, and keeps the first one that passes: the latest model
that learned without forgetting. A run that passes costs only the saving (no evaluation).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ga_cli.fileio import atomic_write

FOLDER = "checkpoints"
INDEX = "index.json"


@dataclass(frozen=True)
class Checkpoint:
    stage: str  # sft | dpo
    epoch: int
    epochs: int
    path: Path
    step: int

    @property
    def label(self) -> str:
        return f"{self.stage} epoch {self.epoch} of {self.epochs}"


@dataclass(frozen=True)
class Kept:
    """What `rescue` did: the checkpoint kept (None: none passed), and why each later one
    (the final model first) was not."""

    label: str | None
    refused: list[tuple[str, str]] = field(default_factory=list)  # (label, the rule's reason)
    seconds: float = 0.0

    def line(self) -> str:
        final_why = self.refused[0][1] if self.refused else ""
        if self.label is None:
            return (
                f"No earlier checkpoint passed either ({len(self.refused) - 1} tried): "
                f"the final model failed: {final_why}."
            )
        later = ", ".join(label for label, _ in self.refused[1:])
        return (
            f"Kept {self.label}: the final model failed the rule ({final_why})"
            + (f"; so did {later}" if later else "")
            + f" [{self.seconds:.0f} s of checkpoint evaluation]."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kept": self.label,
            "refused": [{"model": m, "why": why} for m, why in self.refused],
            "seconds": round(self.seconds, 2),
        }


def folder_for(work: Path, stage: str, epoch: int) -> Path:
    """Where the trainer saves one epoch's adapter; listed in the index once saved (`record`)."""
    return work / FOLDER / f"{stage}-{epoch:03d}"


def record(work: Path, saved: Checkpoint) -> None:
    """Add a saved checkpoint to the run's index (a stage resumed after an interruption
    replaces its own later entries)."""
    index = work / FOLDER / INDEX
    entries = json.loads(index.read_text()) if index.is_file() else []
    entries = [e for e in entries if (e["stage"], e["epoch"]) != (saved.stage, saved.epoch)]
    entries.append(
        {
            "stage": saved.stage,
            "epoch": saved.epoch,
            "epochs": saved.epochs,
            "path": saved.path.name,
            "step": saved.step,
        }
    )
    atomic_write(index, json.dumps(entries, indent=1).encode())


def saved(work: Path) -> list[Checkpoint]:
    """The checkpoints in training order (SFT's epochs, then DPO's)."""
    index = work / FOLDER / INDEX
    if not index.is_file():
        return []
    entries = json.loads(index.read_text())
    found = [
        Checkpoint(e["stage"], e["epoch"], e["epochs"], work / FOLDER / e["path"], e["step"])
        for e in entries
        if (work / FOLDER / e["path"] / "adapter_config.json").is_file()
    ]
    return sorted(found, key=lambda c: (c.stage != "sft", c.epoch))


def earlier(work: Path) -> list[Checkpoint]:
    """The checkpoints before the final model, newest first (the last epoch of the last stage
    is the final model itself)."""
    found = saved(work)
    return list(reversed(found[:-1]))


def rescue(
    final: Any,
    work: Path,
    limit: int,
    evaluate_at: Callable[[Path], Any],
    say: Callable[[str], None],
) -> tuple[Any, Kept | None]:
    """`final`: the final model's Comparison. When it fails the rule, evaluate up to `limit`
    earlier checkpoints (`evaluate_at(adapter folder)` -> Comparison), newest first, and keep
    the first that passes as the run's adapter. Returns the comparison that stands and what was
    done (None: nothing to do)."""
    candidates = earlier(work)[: max(limit, 0)]
    if final.promote or not candidates:
        return final, None
    say(f"The final model failed the rule; trying up to {len(candidates)} earlier checkpoint(s).")
    refused = [("the final model", final.why)]
    t0 = time.perf_counter()
    for ckpt in candidates:
        result = evaluate_at(ckpt.path)
        if result.promote:
            keep(work, ckpt)
            kept = Kept(ckpt.label, refused, time.perf_counter() - t0)
            say(kept.line())
            return result, kept
        refused.append((ckpt.label, result.why))
    kept = Kept(None, refused, time.perf_counter() - t0)
    say(kept.line())
    return final, kept


def keep(work: Path, ckpt: Checkpoint) -> None:
    """Make `ckpt` the run's adapter (its tokenizer files stay the final ones: the same), with
    its GGUF conversion for llama.cpp when evaluation made one."""
    adapter = work / "adapter"
    shutil.rmtree(work / "adapter-gguf", ignore_errors=True)  # the final model's: stale now
    for f in ckpt.path.iterdir():
        if f.is_file():
            tmp = adapter / f".{f.name}.tmp"
            shutil.copyfile(f, tmp)
            tmp.replace(adapter / f.name)
    converted = ckpt.path.with_name(f"{ckpt.path.name}-gguf")
    if converted.is_dir():
        converted.rename(work / "adapter-gguf")


def discard(work: Path) -> None:
    """Checkpoints are not kept with a finished run (its adapter is the one kept)."""
    shutil.rmtree(work / FOLDER, ignore_errors=True)
