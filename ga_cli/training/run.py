"""`ga train` end to end: dataset (rebuilt if stale) -> trainer -> eval -> registry -> promotion."""

from __future__ import annotations

import functools
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ParamSpec, TypeVar

from ga_cli.errors import GaError
from ga_cli.ledger.store import atomic_write
from ga_cli.training import recipe as R
from ga_cli.training import registry
from ga_cli.training.progress import Report

GENERATE_SAMPLE = 8  # held-out prompts answered by both models and judged during `ga train`

if TYPE_CHECKING:
    from ga_cli.training.compare import Comparison
    from ga_cli.training.trainer import StageResult


@dataclass(frozen=True)
class TrainResult:
    """What `ga train` did: the run, its stages, the comparison that decided its promotion, and
    `record`, the run.json it wrote (what `--json` prints)."""

    run_id: str
    train_seconds: float
    stages: dict[str, StageResult]
    comparison: Comparison
    promoted: bool
    promotion: str  # the rule's reason, with " (forced)" when --force overrode it
    record: dict[str, Any]


def base_path(spec: str, progress: Callable[[str], None] | None = None) -> str:
    from ga_cli import models

    if models.is_remote(spec):
        raise GaError(
            f"cannot train `{spec}`: it is a remote provider",
            "set base_model in the recipe to `embedded`, a local folder or a cached HF id",
        )
    if spec == "embedded":
        from ga_cli.models import embedded

        return str(embedded.ensure_converted(progress))
    return str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec


def dataset_for(ledger: Any, rec: R.Recipe, base: str, rev: str = "HEAD") -> Any:
    from ga_cli.dataset.build import Settings, build

    return build(
        ledger.root, rev, settings=Settings(max_seq_len=rec["max_seq_len"], tokenizer=base)
    )


@dataclass(frozen=True)
class UpToDate:
    """`ga train` found nothing new since the current run: nothing was trained."""

    current: str
    ledger_sha: str


def _plan(
    ledger: Any,
    rec: R.Recipe,
    base: str,
    built: Any,
    parent: registry.Run | None,
    full: str | None,
) -> Any:
    """Full (`full`: why) or incremental (incremental.plan), the ledger history checked here."""
    from ga_cli.training import incremental

    if full:
        return incremental.full(full)
    if parent is None:
        return incremental.full("there is no current model to continue from")
    sha = parent.info.get("ledger_sha", "")
    removed = incremental.removed_entries(str(ledger.root), sha, built.manifest["ledger_sha"])
    if removed is None:
        return incremental.full(f"the ledger's history no longer holds {parent.id}'s commit")
    try:
        parent_built = dataset_for(ledger, rec, base, sha)
    except GaError:
        return incremental.full(f"{parent.id}'s dataset cannot be rebuilt")
    return incremental.plan(rec, base, built.out, parent, parent_built.out, removed)


P = ParamSpec("P")
T = TypeVar("T")


def _one_at_a_time(train: Callable[P, T]) -> Callable[P, T]:
    """Holds the registry's training lock for the whole run (a background run started by
    auto.py arrives holding it), at low priority when it runs in the background."""

    @functools.wraps(train)
    def locked(*args: P.args, **kwargs: P.kwargs) -> T:
        from ga_cli.training import auto

        with registry.training():
            auto.yield_cpu()
            return train(*args, **kwargs)

    return locked


@_one_at_a_time
def train(
    ledger: Any,
    recipe_name: str | None,
    steps: int | None,
    resume: bool,
    force: bool,
    report: Report,
    say: Callable[[str], None],
    teacher: tuple[str, str | None] | None = None,
    full: bool = False,
) -> TrainResult | UpToDate:
    """`teacher` (model, api_base): also judges a sample of held-out answers, pairwise.
    After a current run on the same base and recipe, continues its adapter on what is new
    (incremental.py) unless `full`; UpToDate when nothing is. One `ga train` at a time."""
    if resume:
        works = [w for w in registry.incomplete() if (w / "state.json").is_file()]
        if not works:
            raise GaError("there is no interrupted run to resume", "start one with `ga train`")
        work = works[-1]
        state = json.loads((work / "state.json").read_text())
        rec = R.load(state["recipe_path"])
        parent = registry.get(state["parent"]) if state.get("parent") else None
        why_full = None if parent else "resuming an interrupted full run"
    else:
        rec = R.load(recipe_name or str(ledger.config().get("recipe") or "cpu-default"))
        parent = registry.current()
        why_full = "--full was given" if full else None
    # Unsloth patches transformers, trl and peft when imported: it must come before anything
    # that imports them (the embedded model's first-use conversion, the dataset's tokenizer).
    from ga_cli.training import trainer

    base = base_path(rec["base_model"], say)
    built = dataset_for(ledger, rec, base)
    say(f"Dataset {'up to date' if built.cached else 'built'}: {built.out}")
    plan = _plan(ledger, rec, base, built, parent, why_full)
    if plan.up_to_date:
        assert plan.parent is not None
        return UpToDate(plan.parent.id, built.manifest["ledger_sha"])
    say(("Incremental run, " if plan.incremental else "Full run: ") + plan.reason + ".")
    if not resume:
        run_id = registry.new_run_id()
        work = registry.work_root() / run_id
        work.mkdir()
        state = {
            "run_id": run_id,
            "recipe_path": str(rec.path),
            "started": time.time(),
            "parent": plan.parent.id if plan.parent else None,
        }
        atomic_write(work / "state.json", json.dumps(state).encode())
    from ga_cli.training import compare as C
    from ga_cli.training import data, on_policy, replay

    system = data.system_prompt(built.out)
    if plan.incremental:
        settings = {**rec.data}
        for stage in ("sft", "dpo"):
            settings[stage] = {**rec[stage], "epochs": rec["incremental"]["epochs"]}
        replayed = replay.rows(base, rec["sft"]["replay"], system, say)
        general = random.Random(f"{rec['seed']}:{built.out.name}").sample(
            replayed, min(plan.general, len(replayed))
        )
        # chosen_repeats weighs full runs only: an incremental round's mix is its own section's
        # (measured in bench/continual.py)
        sft_rows = data.weighted(plan.sft) + general
        pref_rows = [data.pref_row(r) for r in plan.prefs]
        own: list[dict[str, Any]] = []
    else:
        settings = rec.data
        general = replay.rows(base, rec["sft"]["replay"], system, say)
        own = (
            on_policy.pairs(base, built.out, rec["dpo"]["on_policy"], say)
            if rec["dpo"]["enabled"]
            else []
        )
        sft_rows = data.sft_rows(built.out, rec["sft"]["chosen_repeats"]) + general
        pref_rows = data.pref_rows(built.out) + own
    if resume and state.get("trained") and (work / "adapter" / "adapter_config.json").is_file():
        say("Training had finished before the interruption: evaluating it.")
        stages = {k: trainer.StageResult(**v) for k, v in state["trained"]["stages"].items()}
        train_seconds = state["trained"]["seconds"]
    else:
        t0 = time.perf_counter()
        stages = trainer.train(
            base,
            settings,
            sft_rows,
            pref_rows,
            work,
            report,
            steps=steps,
            resume=resume,
            parent=plan.parent.adapter if plan.parent else None,
        )
        train_seconds = time.perf_counter() - t0
        state["trained"] = {
            "seconds": train_seconds,
            "stages": {k: asdict(v) for k, v in stages.items()},
        }
        atomic_write(work / "state.json", json.dumps(state).encode())  # --resume skips to eval
    say("Evaluating the base/current and the new model…")
    t_eval = time.perf_counter()
    cur = registry.current()
    reference = C.Side(cur.id, cur.base_path, cur.adapter) if cur else C.Side("base", base)
    result = C.compare(
        reference,
        C.Side(state["run_id"], base, work / "adapter"),
        built.out,
        ledger.root,
        rec["gate"],
        report=report,
        generate=GENERATE_SAMPLE,
        teacher=teacher,
    )
    eval_seconds = time.perf_counter() - t_eval
    ok, why = result.promote, result.why
    promotion = why + (" (forced)" if force and not ok else "")
    info = {
        "id": state["run_id"],
        "base_model": rec["base_model"],
        "base_model_path": base,
        "ledger_sha": built.manifest["ledger_sha"],
        "dataset": str(built.out),
        "dataset_hash": built.manifest["content_hash"],
        "recipe_name": rec.name,
        "recipe": rec.data,
        "seed": rec["seed"],
        "versions": trainer.versions(),
        "durations": {k: round(v.seconds, 2) for k, v in stages.items()},
        "train_seconds": round(train_seconds, 2),
        "eval_seconds": round(eval_seconds, 2),
        "parent": plan.parent.id if plan.parent else None,
        "training": plan.to_json(),
        "replay_rows": len(general),
        "own_answer_pairs": len(own),
        "metrics": {
            k: {
                "steps": v.steps,
                "final_loss": v.final_loss,
                "tokens_per_s": round(v.tokens_per_s, 1),
            }
            for k, v in stages.items()
        },
        "eval": {
            "reference": result.reference_name,
            "before": result.reference.brief(),
            "after": result.candidate.brief(),
            "regressions": result.regressions,
            "retention": result.retention.to_json() if result.retention else None,
            "scored_under": "the ledger's chat prompt",
            "generation": result.judgement.to_json() if result.judgement else None,
        },
        "promoted": ok or force,
        "promotion": promotion,
    }
    (work / "run.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    run = registry.finish(work, state["run_id"])
    if ok or force:
        registry.set_current(run, "promoted by ga train" + (" --force" if force and not ok else ""))
    return TrainResult(state["run_id"], train_seconds, stages, result, ok or force, promotion, info)
