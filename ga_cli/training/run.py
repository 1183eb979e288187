"""`ga train` end to end: dataset (rebuilt if stale) -> trainer -> eval -> registry -> promotion."""

from __future__ import annotations

import functools
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ParamSpec, TypeVar

from ga_cli import registry
from ga_cli.errors import GaError
from ga_cli.progress import Report
from ga_cli.registry import RunInfo, runinfo
from ga_cli.training import recipe as R
from ga_cli.training import workdir
from ga_cli.training.data import TrlRow
from ga_cli.training.workdir import Work

GENERATE_SAMPLE = 8  # held-out prompts answered by both models and judged during `ga train`

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger
    from ga_cli.training.compare import Comparison
    from ga_cli.training.evaluate import Evaluation
    from ga_cli.training.trainer import StageResult


@dataclass(frozen=True)
class TrainResult:
    """What `ga train` did: the run, its stages, the comparison that decided its promotion, and
    `info`, the run.json it wrote (what `--json` prints)."""

    run_id: str
    train_seconds: float
    stages: dict[str, StageResult]
    comparison: Comparison
    promoted: bool
    promotion: str  # the rule's reason, with " (forced)" when --force overrode it
    info: RunInfo


def base_path(
    spec: str, progress: Callable[[str], None] | None = None, report: Report | None = None
) -> str:
    """The folder a run trains `spec` in; a GGUF (the embedded model's, a file, Ollama's) is
    dequantised into one once, `progress` hearing what and `report` its steps."""
    from ga_cli import models

    if models.is_remote(spec):
        raise GaError(
            f"cannot train `{spec}`: it is a remote provider",
            "train a local model: --base (or the recipe's base_model) embedded, a model folder, "
            "a .gguf file, ollama:NAME or a cached Hugging Face id",
        )
    if spec == "embedded":
        from ga_cli.models import embedded

        return str(embedded.ensure_converted(progress, report))
    from ga_cli.models import gguf_base, ollama_store

    if ollama_store.is_ollama(spec):  # the file Ollama runs, dequantised once; never copied
        return str(gguf_base.hf_folder(ollama_store.find(spec).gguf, progress, report))
    if spec.endswith(".gguf"):
        return str(gguf_base.hf_folder(Path(spec), progress, report))
    return str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec


def dataset_for(ledger: Ledger, max_seq_len: int, base: str, rev: str = "HEAD") -> Any:
    """The dataset a run on `base` trains on, at `rev` (built once, then cached)."""
    from ga_cli.dataset.build import Settings, build

    return build(ledger.root, rev, settings=Settings(max_seq_len=max_seq_len, tokenizer=base))


@dataclass(frozen=True)
class Asked:
    """What `ga train` was asked for."""

    recipe: str | None = None  # a recipe name or file (default: the ledger's, else cpu-default)
    base: str | None = None  # --base: the base model, instead of the recipe's base_model
    steps: int | None = None
    resume: bool = False
    force: bool = False  # promote even when the rule says no
    full: bool = False  # from the base model, even where the current run could continue
    teacher: tuple[str, str | None] | None = None  # (model, api_base): judges a sample too


def base_spec(name: str) -> str:
    """A base model named as every command names models (an alias included); a trained run
    is not a base (`ga train` continues the current run by itself)."""
    target = registry.resolve(name)
    if target.run is not None:
        raise GaError(
            f"--base {name}: that is a trained run, not a base model",
            "give a model (embedded, a folder, a .gguf file, ollama:NAME); `ga train` "
            "continues the current run by itself",
        )
    return target.spec


@dataclass(frozen=True)
class UpToDate:
    """`ga train` found nothing new since the current run: nothing was trained."""

    current: str
    ledger_sha: str


def _plan(
    ledger: Ledger,
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
    sha = parent.info.ledger_sha
    removed = incremental.removed_entries(str(ledger.root), sha, built.ledger_sha)
    if removed is None:
        return incremental.full(f"the ledger's history no longer holds {parent.id}'s commit")
    try:
        parent_built = dataset_for(ledger, rec.max_seq_len, base, sha)
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


@dataclass(frozen=True)
class _Rows:
    """What one run trains on: the recipe's settings (epochs set for an incremental round),
    SFT rows and preference rows, and how many of them are replay and the model's own answers."""

    settings: R.Recipe
    sft: list[TrlRow]
    prefs: list[TrlRow]
    replayed: int
    own: int


@_one_at_a_time
def train(
    ledger: Ledger, asked: Asked, report: Report, say: Callable[[str], None]
) -> TrainResult | UpToDate:
    """After a current run on the same base and recipe, continues its adapter on what is new
    (incremental.py) unless `asked.full`; UpToDate when nothing is. One `ga train` at a time.
    Stages: recipe and parent -> dataset and plan -> rows -> fit -> compare -> record."""
    steps, force, teacher = asked.steps, asked.force, asked.teacher
    resumed = workdir.interrupted() if asked.resume else None
    if resumed is not None:
        rec = R.load(resumed.recipe_path)
        rec = replace(rec, base_model=resumed.base_model or rec.base_model)
        parent = registry.get(resumed.parent) if resumed.parent else None
        why_full = None if parent else "resuming an interrupted full run"
    else:
        rec = R.load(asked.recipe or ledger.config().recipe or "cpu-default")
        rec = replace(rec, base_model=base_spec(asked.base) if asked.base else rec.base_model)
        parent = registry.current()
        why_full = "--full was given" if asked.full else None
    # Unsloth patches transformers, trl and peft when imported: it must come before anything
    # that imports them (the embedded model's first-use conversion, the dataset's tokenizer).
    from ga_cli.training import trainer

    base = base_path(rec.base_model, say, report)
    built = dataset_for(ledger, rec.max_seq_len, base)
    say(f"Dataset {'up to date' if built.cached else 'built'}: {built.out}")
    plan = _plan(ledger, rec, base, built, parent, why_full)
    if plan.up_to_date:
        assert plan.parent is not None
        return UpToDate(plan.parent.id, built.ledger_sha)
    say(("Incremental run, " if plan.incremental else "Full run: ") + plan.reason + ".")
    work = resumed or workdir.begin(rec, plan)
    rows = _rows(rec, plan, base, built.out, say)
    stages, train_seconds = _fit(trainer, base, rows, work, report, steps, plan, resumed, say)
    say("Evaluating the base/current and the new model…")
    t_eval = time.perf_counter()
    from ga_cli.training import checkpoints, compare  # checkpoints: an earlier epoch that passes

    cur = registry.current()  # the reference: still the parent, unless `ga models use` moved it
    same = plan.incremental and cur is not None and cur.id == plan.parent.id
    known = compare.carried_scores(plan.parent.info.eval) if same else None
    carry = (known, rec.seed, rec.incremental.rescore) if known else None  # full: every pair
    again = functools.partial(_compare, rec, base, built.out, ledger.root, work, report, teacher)
    final = again(known=carry)
    result, kept = checkpoints.rescue(
        final, work.path, rec.gate.checkpoints, lambda a: again(a, final.reference, carry), say
    )
    ok = result.promote
    promotion = result.why + (" (forced)" if force and not ok else "")
    info = _record(
        rec, base, built, plan, rows, stages, result, ok or force, promotion, work.run_id
    )
    info = replace(
        info,
        train_seconds=round(train_seconds, 2),
        eval_seconds=round(time.perf_counter() - t_eval, 2),
        checkpoint=kept.to_json() if kept else None,
    )
    runinfo.write(work.path / "run.json", info)
    checkpoints.discard(work.path)
    run = registry.finish(work.path, info.id)
    if ok or force:
        registry.set_current(run, "promoted by ga train" + (" --force" if force and not ok else ""))
    return TrainResult(info.id, train_seconds, stages, result, ok or force, promotion, info)


def _rows(rec: R.Recipe, plan: Any, base: str, dataset: Path, say: Callable[[str], None]) -> _Rows:
    from ga_cli.training import data, on_policy, replay

    system = data.system_prompt(dataset)
    general = replay.rows(base, rec.sft.replay, system, say)
    if plan.incremental:
        settings = rec.for_round()
        general = random.Random(f"{rec.seed}:{dataset.name}").sample(
            general, min(plan.general, len(general))
        )
        # chosen_repeats weighs full runs only: an incremental round's mix is its own section's
        # (measured in bench/continual.py)
        sft = data.weighted(plan.sft) + general
        return _Rows(settings, sft, [data.pref_row(r) for r in plan.prefs], len(general), 0)
    own = on_policy.pairs(base, dataset, rec.dpo.on_policy, say) if rec.dpo.enabled else []
    sft = data.sft_rows(dataset, rec.sft.chosen_repeats) + general
    return _Rows(rec, sft, data.pref_rows(dataset) + own, len(general), len(own))


def _fit(
    trainer: Any,
    base: str,
    rows: _Rows,
    work: Work,
    report: Report,
    steps: int | None,
    plan: Any,
    resumed: Work | None,
    say: Callable[[str], None],
) -> tuple[dict[str, StageResult], float]:
    """Train (or, resuming a run whose training had finished, take what it measured)."""
    done = work.trained_seconds is not None and work.trained_stages is not None
    if resumed and done and (work.path / "adapter" / "adapter_config.json").is_file():
        say("Training had finished before the interruption: evaluating it.")
        stages = {k: trainer.StageResult(**v) for k, v in (work.trained_stages or {}).items()}
        return stages, float(work.trained_seconds or 0.0)
    t0 = time.perf_counter()
    stages = trainer.train(
        base,
        rows.settings,
        rows.sft,
        rows.prefs,
        work.path,
        report,
        steps=steps,
        resume=resumed is not None,
        parent=plan.parent.adapter if plan.parent else None,
    )
    seconds = time.perf_counter() - t0
    from ga_cli import memory

    memory.release()  # the trained model goes before evaluation loads its own copies
    work.trained_seconds = seconds
    work.trained_stages = {k: asdict(v) for k, v in stages.items()}
    work.save()  # --resume skips to evaluation
    return stages, seconds


def _compare(
    rec: R.Recipe,
    base: str,
    dataset: Path,
    ledger_root: Path,
    work: Work,
    report: Report,
    teacher: tuple[str, str | None] | None,
    adapter: Path | None = None,
    measured: Evaluation | None = None,
    known: tuple[dict[str, bool], int, int] | None = None,
) -> Comparison:
    """The new run (`adapter`: one of its checkpoints) against the current one (or the base
    model when there is none; `measured`: that side's evaluation, made already)."""
    from ga_cli.training import compare as C

    cur = registry.current()
    reference = C.Side(cur.id, cur.base_path, cur.adapter) if cur else C.Side("base", base)
    return C.compare(
        reference,
        C.Side(work.run_id, base, adapter or work.path / "adapter"),
        dataset,
        ledger_root,
        rec.gate,
        report=report,
        generate=GENERATE_SAMPLE,
        teacher=teacher,
        measured=measured,
        known=known,
    )


def _record(
    rec: R.Recipe,
    base: str,
    built: Any,
    plan: Any,
    rows: _Rows,
    stages: dict[str, StageResult],
    result: Comparison,
    promoted: bool,
    promotion: str,
    run_id: str,
) -> RunInfo:
    from ga_cli.training import trainer

    return RunInfo(
        id=run_id,
        base_model=rec.base_model,
        base_model_path=base,
        ledger_sha=built.ledger_sha,
        dataset=str(built.out),
        dataset_hash=built.content_hash,
        recipe_name=rec.name,
        recipe=rec.to_json(),
        seed=rec.seed,
        versions=trainer.versions(),
        durations={k: round(v.seconds, 2) for k, v in stages.items()},
        parent=plan.parent.id if plan.parent else None,
        training=plan.to_json(),
        replay_rows=rows.replayed,
        own_answer_pairs=rows.own,
        metrics={
            k: {
                "steps": v.steps,
                "final_loss": v.final_loss,
                "tokens_per_s": round(v.tokens_per_s, 1),
                "checkpoint_seconds": round(v.checkpoint_seconds, 2),
            }
            for k, v in stages.items()
        },
        eval=result.to_json(),
        promoted=promoted,
        promotion=promotion,
    )
