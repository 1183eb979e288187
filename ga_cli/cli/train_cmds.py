"""`ga train` (and its recipes): a personal model trained, compared and promoted."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from ga_cli.cli import modelopts, output
from ga_cli.cli.group import new_app
from ga_cli.cli.options import JSON
from ga_cli.cli.output import number as num

if TYPE_CHECKING:
    from ga_cli.training.run import TrainResult

train_app = new_app(
    help="Train a personal model on your ledger (LoRA SFT, then DPO, with Unsloth).",
    invoke_without_command=True,
    no_args_is_help=False,
)


RECIPE = typer.Option(
    None,
    "--recipe",
    "-r",
    help="A recipe name (see `ga train recipes`) or a YAML path. Default: the ledger's config, "
    "else cpu-default.",
)
BASE = typer.Option(
    None,
    "--base",
    "-b",
    metavar="MODEL",
    help="The base model to train, instead of the recipe's base_model: embedded, a model "
    "folder, a .gguf file, ollama:NAME (a model Ollama pulled, read from its store), a cached "
    "Hugging Face id, or an alias of one.",
)


@train_app.callback()
def train(
    ctx: typer.Context,
    recipe: Optional[str] = RECIPE,
    base: Optional[str] = BASE,
    steps: Optional[int] = typer.Option(
        None, "--steps", min=1, help="Stop SFT after N steps (DPO gets N/2); for quick runs."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the last interrupted run."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Train from the base model on the whole dataset, even where the current run could "
        "be continued on what is new.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Promote even if the new model does not pass the promotion rule."
    ),
    json_out: bool = JSON,
) -> None:
    """Train, evaluate against the current model, and promote only if nothing got worse.

    After a current run (same base model and recipe), training continues its adapter on what is
    new in the ledger plus a replay of earlier records (the recipe's `incremental` section): a
    new lesson costs minutes however long the ledger is. It falls back to a full run, and says
    why, when entries were removed or retired, the recipe changed, or with --full.

    Any base you have: ga train --base ollama:llama3.2:1b (or a .gguf file): the file is
    dequantised once to train on, and stays what llama.cpp runs, the adapter on top.

    Ctrl-C stops cleanly and keeps a checkpoint; `ga train --resume` continues it."""
    if ctx.invoked_subcommand:
        return
    import contextlib
    import sys

    ledger = modelopts.open_ledger()
    # Unsloth and TRL print banners and logs: they belong on stderr, stdout is for results
    with output.StageProgress() as bar, contextlib.redirect_stdout(sys.stderr):
        from ga_cli.training import run

        asked = run.Asked(recipe, base, steps, resume, force, full, ledger.config().teacher_target)
        done = run.train(ledger, asked, bar, output.info)
    from ga_cli.training import auto

    if isinstance(done, run.UpToDate):
        auto.record(None, False, f"nothing new since {done.current}")
        if json_out:
            output.emit_json({"up_to_date": True, "current": done.current})
            return
        output.info(
            f"Nothing new since {done.current} (ledger {done.ledger_sha[:7]}): the current model "
            "has learned all of it. `ga train --full` retrains from the base model."
        )
        return
    auto.record(done.run_id, done.promoted, done.promotion)
    if json_out:
        output.emit_json(done.info.to_json())
        return
    say_trained(done)


def say_trained(done: TrainResult) -> None:
    """What a run measured, in sentences: training, held-out accuracy, answers, retention."""
    from ga_cli.training import evaluate

    before, after = done.comparison.reference, done.comparison.candidate
    output.info(
        f"Run {done.run_id}"
        + (f" (continues {done.info.parent})" if done.info.kind == "incremental" else "")
        + f": {done.train_seconds:.0f} s of training "
        f"({', '.join(f'{k} {v.seconds:.0f}s' for k, v in done.stages.items())})."
    )
    if after.measured:
        output.info(
            f"Held-out preference accuracy: {done.comparison.reference_name} "
            f"{before.accuracy_text()} -> new {after.accuracy_text()} on {after.pairs} pairs."
        )
    else:
        output.info(
            f"Held-out split: {after.pairs} pair(s), too few to measure an accuracy "
            f"({evaluate.MIN_PAIRS} needed); past corrections right: "
            f"{len(before.fixed)} -> {len(after.fixed)} of {len(after.fixed) + len(after.wrong)}."
        )
    said = done.comparison.judgement
    if said is not None:
        teacher = said.teacher
        output.info(
            f"What they say, on {said.prompts} held-out prompt(s): answers closer to your "
            f"chosen one {said.base_follows} -> {said.personal_follows}"
            + (
                f"; {teacher.judge} prefers the new model's in {teacher.personal}, the "
                f"reference's in {teacher.base}, ties {teacher.ties}"
                if teacher is not None
                else ""
            )
            + f" (side by side: ga eval {done.run_id[:12]} --show)."
        )
    ret = done.comparison.retention
    if ret is not None:
        greedy = ret.health["greedy"]
        output.info(
            f"Retention: drift {num(ret.drift, 3)} nats/token on {ret.probes} general "
            f"prompts; greedy repetition {num(greedy.base.repetition, 3)} -> "
            f"{num(greedy.personal.repetition, 3)}, degenerate "
            f"{num(greedy.base.degenerate)} -> {num(greedy.personal.degenerate)}, "
            f"length x{num(greedy.length_ratio)} (details: ga eval {done.run_id[:12]})."
        )
    verdict = "Promoted to current" if done.promoted else "Kept, NOT promoted"
    output.info(f"{verdict}: {done.promotion}.")
    output.text(done.run_id)


@train_app.command("recipes")
def train_recipes(json_out: bool = JSON) -> None:
    """List the shipped recipes (each validated)."""
    from ga_cli.training import recipe as R

    rows = []
    for name in R.names():
        r = R.load(name)
        rows.append(
            {
                "name": name,
                "base_model": r.base_model,
                "lora_r": r.lora.r,
                "sft_lr": r.sft.learning_rate,
                "sft_epochs": r.sft.epochs,
                "replay": r.sft.replay,
                "dpo": r.dpo.enabled,
                "dpo_sft_weight": r.dpo.sft_weight,
                "max_drift": r.gate.max_drift,
            }
        )
    if json_out:
        output.emit_json(rows)
        return
    output.table(
        [
            "name",
            "base model",
            "LoRA r",
            "SFT lr",
            "SFT epochs",
            "replay",
            "DPO",
            "DPO SFT weight",
            "max drift",
        ],
        (
            [
                r["name"],
                r["base_model"],
                r["lora_r"],
                r["sft_lr"],
                r["sft_epochs"],
                r["replay"],
                r["dpo"],
                r["dpo_sft_weight"],
                r["max_drift"],
            ]
            for r in rows
        ),
    )


@train_app.command("init")
def train_init(
    name: str = typer.Argument(..., help="The recipe to copy."),
    dest: Path = typer.Argument(Path("."), help="Where to put the copy."),
) -> None:
    """Copy a shipped recipe out for editing, then: ga train --recipe ./NAME.yaml"""
    from ga_cli.training import recipe as R

    target = R.copy_out(name, dest)
    output.info(f"Wrote {target}. Edit it, then: ga train --recipe {target}")
    output.text(str(target))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
