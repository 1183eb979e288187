"""`ga eval`: a trained run beside its base model, measured on the principal's data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from ga_cli.cli import modelopts, output
from ga_cli.cli.options import JSON
from ga_cli.cli.output import number as num

if TYPE_CHECKING:
    from ga_cli.training.judge import Judgement
    from ga_cli.training.retention import Retention
    from ga_cli.training.run_eval import RunEval


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
    from ga_cli import registry
    from ga_cli.training.run_eval import evaluate_run

    chosen = registry.resolve_run(run_id)
    ledger = modelopts.open_ledger()
    with output.StageProgress() as bar:
        measured = evaluate_run(
            chosen,
            ledger,
            pairs,
            retention,
            generate or show,
            report=bar,
            teacher=ledger.config().teacher_target,
        )
    if json_out:
        personal = measured.comparison.candidate
        output.emit_json(
            {
                "model": chosen.id,
                "pairs": personal.pairs,
                "pref_accuracy": personal.pref_accuracy,
                **measured.to_json(),
            }
        )
        return
    show_table(measured, show)


def show_table(measured: RunEval, show: bool) -> None:
    """The comparison as a table, then the answers (with --show) and what failed."""
    cmp, chosen = measured.comparison, measured.run
    base, personal = cmp.reference, cmp.candidate
    rows: list[list[Any]] = [
        ["held-out pairs", base.pairs, personal.pairs],
        ["preference accuracy", base.accuracy_text(), personal.accuracy_text()],
        ["past corrections right", len(base.fixed), len(personal.fixed)],
        [
            "injections resisted",
            num(base.injection.resisted_rate),
            num(personal.injection.resisted_rate),
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
    if cmp.regressions:
        output.warn(
            f"{len(cmp.regressions)} pair(s) the base got right, the personal model gets wrong"
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
            num(j.rate(j.base_follows)),
            num(j.rate(j.personal_follows)),
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
            num(lp.base),
            f"{num(lp.personal)} (drift {num(ret.drift, 3)})",
        ]
    ]
    if ex:
        rows.append(
            [
                f"your examples log-prob ({ex.count})",
                num(ex.base),
                f"{num(ex.personal)} (drift {num(ex.drift, 3)})",
            ]
        )
    for mode, h in ret.health.items():
        b, p = h.base, h.personal
        rows += [
            [
                f"{mode}: repeated 3-grams",
                num(b.repetition, 3),
                num(p.repetition, 3),
            ],
            [f"{mode}: longest repeated span (words)", b.longest_repeat, p.longest_repeat],
            [
                f"{mode}: degenerate outputs",
                num(b.degenerate),
                num(p.degenerate),
            ],
            [
                f"{mode}: mean length (tokens)",
                b.mean_tokens,
                f"{p.mean_tokens} (x{num(h.length_ratio)})",
            ],
        ]
    return rows


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
