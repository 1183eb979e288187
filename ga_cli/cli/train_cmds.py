"""`ga train`, `ga eval`, `ga models`: personal models, kept and compared."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from ga_cli.cli import modelopts, output
from ga_cli.cli.app import new_app

if TYPE_CHECKING:
    from ga_cli.training.judge import Judgement
    from ga_cli.training.retention import Retention

JSON = typer.Option(False, "--json", help="Print JSON for other programs.")
train_app = new_app(
    help="Train a personal model on your ledger (LoRA SFT, then DPO, with Unsloth).",
    invoke_without_command=True,
    no_args_is_help=False,
)
models_app = new_app(help="Your trained models: list, inspect, switch, roll back, remove.")


@train_app.callback()
def train(
    ctx: typer.Context,
    recipe: Optional[str] = typer.Option(
        None,
        "--recipe",
        "-r",
        help="A recipe name (see `ga "
        "train recipes`) or a YAML path. Default: the ledger's "
        "config, else cpu-default.",
    ),
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

    Ctrl-C stops cleanly and keeps a checkpoint; `ga train --resume` continues it."""
    if ctx.invoked_subcommand:
        return
    import contextlib
    import sys

    ledger = modelopts.open_ledger_or_none(required=True)
    # Unsloth and TRL print banners and logs: they belong on stderr, stdout is for results
    with output.StageProgress() as bar, contextlib.redirect_stdout(sys.stderr):
        from ga_cli.chat import settings
        from ga_cli.training import evaluate, run

        done = run.train(
            ledger,
            recipe,
            steps,
            resume,
            force,
            bar,
            output.info,
            teacher=settings.teacher(ledger.config()),
            full=full,
        )
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
        output.emit_json(done.record)
        return
    before, after = done.comparison.reference, done.comparison.candidate
    kind = done.record["training"]
    output.info(
        f"Run {done.run_id}"
        + (f" (continues {kind['parent']})" if kind["kind"] == "incremental" else "")
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
            f"Retention: drift {_f(ret.drift, 3)} nats/token on {ret.probes} general "
            f"prompts; greedy repetition {_f(greedy.base.repetition, 3)} -> "
            f"{_f(greedy.personal.repetition, 3)}, degenerate "
            f"{_f(greedy.base.degenerate)} -> {_f(greedy.personal.degenerate)}, "
            f"length x{_f(greedy.length_ratio)} (details: ga eval {done.run_id[:12]})."
        )
    verdict = "Promoted to current" if done.promoted else "Kept, NOT promoted"
    output.info(f"{verdict}: {done.promotion}.")
    output.text(done.run_id)


def _f(x: Optional[float], digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


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
                "base_model": r["base_model"],
                "lora_r": r["lora"]["r"],
                "sft_lr": r["sft"]["learning_rate"],
                "sft_epochs": r["sft"]["epochs"],
                "replay": r["sft"]["replay"],
                "dpo": r["dpo"]["enabled"],
                "dpo_sft_weight": r["dpo"]["sft_weight"],
                "max_drift": r["gate"]["max_drift"],
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


def eval_cmd(
    run_id: Optional[str] = typer.Argument(
        None, metavar="[RUN]", help="A run id (default: current)."
    ),
    pairs: Optional[Path] = typer.Option(
        None,
        "--pairs",
        help="JSONL of {prompt, chosen, rejected} to score instead of the held-out set.",
    ),
    retention: bool = typer.Option(
        True,
        "--retention/--no-retention",
        help="Also measure what "
        "training cost: drift on general prompts and generation "
        "health (about a minute on a CPU; two the first time).",
    ),
    generate: bool = typer.Option(
        False,
        "--generate",
        help="Also answer every held-out prompt greedily with both models and judge what they "
        "say: closer to your chosen answer than to the rejected ones, and, with a teacher "
        "configured (ga config set teacher ...), the teacher's pairwise verdicts.",
    ),
    show: bool = typer.Option(
        False, "--show", help="With --generate: print both models' answers side by side."
    ),
    json_out: bool = JSON,
) -> None:
    """Score base and personal model side by side: preference accuracy, regressions, injections,
    drift on general prompts and generation health, and the recipe's retention gate.

    --generate judges what the models say, not only what they find likely."""
    from ga_cli.chat import settings
    from ga_cli.errors import GaError
    from ga_cli.training import compare as C
    from ga_cli.training import recipe as R
    from ga_cli.training import registry, run

    if pairs is not None and not pairs.is_file():
        raise GaError(f"--pairs {pairs}: no such file")
    chosen = registry.get(run_id) if run_id else registry.current()
    if chosen is None:
        raise GaError("there is no trained model yet", "train one with `ga train`")
    info = chosen.info
    ledger = modelopts.open_ledger_or_none(required=True)
    built = run.dataset_for(
        ledger, R.Recipe(info["recipe_name"], Path("."), info["recipe"]), chosen.base_path
    )
    limits = info["recipe"].get("gate")
    with output.StageProgress() as bar:
        cmp = C.compare(
            C.Side("base", chosen.base_path),
            C.Side(chosen.id, chosen.base_path, chosen.adapter),
            built.out,
            ledger.root,
            limits,
            pairs,
            retention,
            report=bar,
            generate=-1 if generate or show else 0,
            teacher=settings.teacher(ledger.config()),
        )
    base, personal = cmp.reference, cmp.candidate
    result: dict[str, Any] = {
        "run": chosen.id,
        "base": base.brief(),
        "personal": personal.brief(),
        "regressions": cmp.regressions,
    }
    if cmp.retention is not None:
        result["retention"] = cmp.retention.to_json()
        result["gate"] = {"limits": limits, "failures": cmp.gate_failures}
    if cmp.judgement is not None:
        result["generation"] = cmp.judgement.to_json()
    if pairs is None:
        chosen.update(last_eval=result)
    if json_out:
        output.emit_json(
            {
                "model": chosen.id,
                "pairs": personal.pairs,
                "pref_accuracy": personal.pref_accuracy,
                "regressions": result["regressions"],
                **result,
            }
        )
        return
    rows: list[list[Any]] = [
        ["held-out pairs", base.pairs, personal.pairs],
        ["preference accuracy", base.accuracy_text(), personal.accuracy_text()],
        ["past corrections right", len(base.fixed), len(personal.fixed)],
        [
            "injections resisted",
            _f(base.injection.resisted_rate),
            _f(personal.injection.resisted_rate),
        ],
    ]
    if cmp.judgement is not None:
        rows += judgement_rows(cmp.judgement)
    if cmp.retention is not None:
        rows += retention_rows(cmp.retention)
    output.table(["metric", "base", "personal"], rows, title=f"ga eval {chosen.id}")
    if show and cmp.judgement is not None:
        output.table(
            ["prompt", "base", "personal"],
            (
                [
                    a["prompt"],
                    ("+ " if a["base_follows"] else "- ") + a["base"],
                    ("+ " if a["personal_follows"] else "- ") + a["personal"],
                ]
                for a in cmp.judgement.answers
            ),
            title="Greedy answers (+: closer to your chosen answer than to the rejected)",
        )
    if result["regressions"]:
        output.warn(
            f"{len(result['regressions'])} pair(s) the base got right, the personal "
            f"model gets wrong"
        )
    if cmp.gate_failures is not None:
        fails = cmp.gate_failures
        if fails:
            output.warn("retention gate failed: " + "; ".join(fails))
        else:
            output.info("Retention gate (the recipe's `gate`): passed.")


def judgement_rows(j: Judgement) -> list[list[Any]]:
    """What the models said, judged: metric, base, personal."""
    rows: list[list[Any]] = [
        [
            f"answers closer to chosen ({j.prompts} prompts)",
            _f(j.rate(j.base_follows)),
            _f(j.rate(j.personal_follows)),
        ]
    ]
    t = j.teacher
    if t is not None and t.win_rate is not None:
        lo, hi = t.to_json()["interval95"]
        rows.append(
            [
                f"{t.judge} prefers (win rate, 95 % interval)",
                f"{t.base} won",
                f"{t.personal} won, {t.ties} ties: {t.win_rate:.2f} [{lo:.2f}, {hi:.2f}]",
            ]
        )
    return rows


def retention_rows(ret: Retention) -> list[list[Any]]:
    """Drift and generation health as table rows: metric, base, personal."""
    lp, ex = ret.probe_logprob, ret.examples
    rows: list[list[Any]] = [
        [
            f"general prompts log-prob ({ret.probes}, nats/token)",
            _f(lp.base),
            f"{_f(lp.personal)} (drift {_f(ret.drift, 3)})",
        ]
    ]
    if ex:
        rows.append(
            [
                f"your examples log-prob ({ex.count})",
                _f(ex.base),
                f"{_f(ex.personal)} (drift {_f(ex.drift, 3)})",
            ]
        )
    for mode, h in ret.health.items():
        b, p = h.base, h.personal
        rows += [
            [f"{mode}: repeated 3-grams", _f(b.repetition, 3), _f(p.repetition, 3)],
            [f"{mode}: longest repeated span (words)", b.longest_repeat, p.longest_repeat],
            [f"{mode}: degenerate outputs", _f(b.degenerate), _f(p.degenerate)],
            [
                f"{mode}: mean length (tokens)",
                b.mean_tokens,
                f"{p.mean_tokens} (x{_f(h.length_ratio)})",
            ],
        ]
    return rows


@models_app.command("list")
def models_list(json_out: bool = JSON) -> None:
    """Every complete run; `*` marks the current one."""
    from ga_cli.training import registry

    cur = registry.current()
    rows = []
    for r in registry.runs():
        i = r.info
        rows.append(
            {
                "id": r.id,
                "current": bool(cur and cur.id == r.id),
                "base_model": i["base_model"],
                "ledger_sha": i["ledger_sha"][:7],
                "recipe": i["recipe_name"],
                "pref_accuracy": i["eval"]["after"]["pref_accuracy"],
                "drift": (i["eval"].get("retention") or {}).get("drift"),
                "promoted": i["promoted"],
            }
        )
    if json_out:
        output.emit_json(rows)
        return
    if not rows:
        output.info("No models yet. Train one with `ga train`.")
        return
    output.table(
        ["", "id", "base", "ledger", "recipe", "pref acc", "drift", "promoted"],
        whole=("id", "ledger"),
        rows=(
            [
                "*" if r["current"] else "",
                r["id"],
                r["base_model"],
                r["ledger_sha"],
                r["recipe"],
                _f(r["pref_accuracy"]),
                _f(r["drift"], 3),
                r["promoted"],
            ]
            for r in rows
        ),
    )


@models_app.command("show")
def models_show(run_id: str = typer.Argument("current", metavar="RUN")) -> None:
    """Print a run's run.json."""
    from ga_cli.training import registry

    output.emit_json(registry.get(run_id).info)


@models_app.command("use")
def models_use(run_id: str = typer.Argument(..., metavar="RUN")) -> None:
    """Make RUN the model ga chat, ga ask and ga serve use by default."""
    from ga_cli.training import registry

    r = registry.get(run_id)
    registry.set_current(r, "ga models use")
    output.info(f"Current model: {r.id}")


@models_app.command("rollback")
def models_rollback() -> None:
    """Go back to the model that was current before."""
    from ga_cli.training import registry

    r = registry.rollback()
    output.info(f"Current model: {r.id if r else 'the base model'}")


@models_app.command("rm")
def models_rm(run_id: str = typer.Argument(..., metavar="RUN")) -> None:
    """Delete a run that is not current."""
    from ga_cli.training import registry

    r = registry.get(run_id)
    registry.remove(r)
    output.info(f"Removed {r.id}.")


@models_app.command("alias")
def models_alias(
    name: str = typer.Argument(..., help="The short name, e.g. fast."),
    target: str = typer.Argument(
        ..., metavar="RUN|MODEL", help="A run id, or a model (litellm id, folder, .gguf, ...)."
    ),
) -> None:
    """Name a run or a model: ga models alias fast ollama/llama3.2, then ga ask -m fast."""
    from ga_cli.models import aliases
    from ga_cli.training import registry

    if target.startswith("r-") or target in ("current", "ga-personal"):
        target = target if target == "ga-personal" else registry.get(target).id
    else:
        modelopts.check_known(target)
    aliases.set_alias(name, target)
    output.info(f"{name} -> {target}")


@models_app.command("aliases")
def models_aliases(json_out: bool = JSON) -> None:
    """Every alias and what it stands for."""
    from ga_cli.models import aliases

    found = aliases.all_aliases()
    if json_out:
        output.emit_json(found)
        return
    if not found:
        output.info("No aliases yet: ga models alias NAME RUN|MODEL")
        return
    output.table(["alias", "model"], found.items(), whole=("alias", "model"))


@models_app.command("unalias")
def models_unalias(name: str = typer.Argument(..., help="The alias to remove.")) -> None:
    """Remove an alias (what it named stays)."""
    from ga_cli.models import aliases

    aliases.remove(name)
    output.info(f"Removed alias {name}.")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.command("eval")(eval_cmd)
    app.add_typer(models_app, name="models")
