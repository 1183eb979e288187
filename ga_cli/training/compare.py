"""Two models side by side on the principal's data: the evaluation `ga eval` prints and the one
`ga train` promotes by (one function, `compare`).

Preference pairs are scored under exactly the messages `ga chat`/`ga ask` send for that prompt
(`conversation.prepare` with the ledger's system prompt at the dataset's commit), so a model is
evaluated under what it is used under. A held-out pair is scored without its own correction in
that prompt: its "answer wanted" there would turn a test of learning into one of copying.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ga_cli.models.base import Message
from ga_cli.prompt.conversation import LedgerContext
from ga_cli.training.evaluate import Evaluation
from ga_cli.training.judge import Judgement
from ga_cli.training.progress import Report
from ga_cli.training.recipe import Gate
from ga_cli.training.retention import Retention


@dataclass(frozen=True)
class Side:
    """One model to evaluate: a base model, with or without a LoRA adapter."""

    name: str  # `base`, or a run id
    base_path: str
    adapter: Path | None = None


@dataclass(frozen=True)
class Comparison:
    reference: Evaluation
    candidate: Evaluation
    reference_name: str
    regressions: list[str] = field(default_factory=list)
    gate_failures: list[str] | None = None  # None: no gate, or retention not measured
    promote: bool = False
    why: str = ""
    judgement: Judgement | None = None  # greedy answers judged, when asked for

    @property
    def retention(self) -> Retention | None:
        return self.candidate.retention

    def to_json(self) -> dict[str, Any]:
        """As run.json's `eval` keeps it."""
        return {
            "reference": self.reference_name,
            "before": self.reference.brief(),
            "after": self.candidate.brief(),
            "regressions": self.regressions,
            "retention": self.retention.to_json() if self.retention else None,
            "scored_under": "the ledger's chat prompt",
            "generation": self.judgement.to_json() if self.judgement else None,
        }


def eval_context(ledger_root: Path, dataset: Path) -> LedgerContext:
    """The ledger context `ga chat` would use, as of the dataset's commit (and with the
    ledger's current `prompt_corrections`)."""
    from ga_cli.dataset import snapshot
    from ga_cli.ledger.store import Ledger
    from ga_cli.prompt import prompting

    manifest = json.loads((dataset / "manifest.json").read_text())
    snap = snapshot.load(str(ledger_root), manifest["ledger_sha"], skip_invalid=True)
    trusted = [i for i in snap.items if i.trusted]
    return LedgerContext(
        snap.principal,
        [i for i in trusted if i.kind == "value"],
        [i for i in trusted if i.kind == "correction"],
        corrections_mode=prompting.setting(Ledger(ledger_root).config()),
        told=prompting.told([i for i in trusted if i.kind == "interview"]),
        lessons=[i for i in trusted if i.is_lesson],
    )


MessagesFor = Callable[[str, "str | None"], list[Message]]


def scoring_messages(backend: Any, context: LedgerContext) -> MessagesFor:
    """(prompt, leave_out) -> the messages `ga ask PROMPT` sends (the same function builds
    both); `leave_out`: a correction id kept out of the system prompt (a held-out pair's own)."""
    from dataclasses import replace

    from ga_cli.prompt import conversation

    made: dict[tuple[str, str | None], list[Message]] = {}  # rejected answers share a prompt

    def messages(prompt: str, leave_out: str | None = None) -> list[Message]:
        if (prompt, leave_out) not in made:
            ctx = (
                context
                if leave_out is None
                else replace(
                    context, corrections=[c for c in context.corrections if c.id != leave_out]
                )
            )
            made[(prompt, leave_out)] = conversation.prepare(backend, prompt, context=ctx).messages
        return made[(prompt, leave_out)]

    return messages


def evaluate_side(
    side: Side,
    dataset: Path,
    context: LedgerContext | None,
    pairs: Path | None = None,
    retention: bool = False,
    report: Report | None = None,
    generate: int = 0,
) -> Evaluation:
    """evaluate.evaluate() for one side; with `retention`, also drift and generation health
    against the base (the base side is the same model with its adapter off)."""
    from ga_cli import models
    from ga_cli.dataset import rows
    from ga_cli.training.evaluate import evaluate

    # generation on the fast engine where there is one (llama.cpp: the weights as trained in
    # f16, the adapter converted to GGUF, conversations decoded together); log-probs from
    # transformers, the numbers training saw
    backend = models.load_local(side.base_path, str(side.adapter) if side.adapter else None)
    messages = scoring_messages(backend, context) if context is not None else None
    label = "base: " if side.adapter is None else f"{side.name[:18]}: "
    result = evaluate(
        backend,
        dataset,
        pairs,
        messages_for=messages,
        report=report,
        label=label,
        generate=generate,
    )
    if retention:
        from dataclasses import replace

        from ga_cli.training import retention as RT

        examples = [r for r in rows.turns(dataset / "sft.jsonl") if r["source"] == "example"]
        result = replace(result, retention=RT.measure(backend, examples, report))
    return result


def compare(
    reference: Side,
    candidate: Side,
    dataset: Path,
    ledger_root: Path | None,
    gate: Gate | None,
    pairs: Path | None = None,
    retention: bool = True,
    report: Report | None = None,
    generate: int = 0,
    teacher: tuple[str, str | None] | None = None,
    measured: Evaluation | None = None,
) -> Comparison:
    """Evaluate both sides the same way, and apply the promotion rule (with the recipe's gate).
    `generate`: also answer that many held-out prompts greedily on both sides (-1: all) and
    judge them, offline and with `teacher` (model, api_base) when given. `measured`: the
    reference side's evaluation when it was made already (the same dataset and settings)."""
    from ga_cli.training import evaluate as EV

    context = eval_context(ledger_root, dataset) if ledger_root is not None else None
    ref = measured or evaluate_side(
        reference, dataset, context, pairs, report=report, generate=generate
    )
    new = evaluate_side(
        candidate, dataset, context, pairs, retention=retention, report=report, generate=generate
    )
    ok, why = EV.promotion(ref, new, gate if retention else None)
    failures = None
    if gate and new.retention is not None:
        from ga_cli.training import retention as RT

        failures = RT.gate(new.retention, gate)
    judged = None
    if generate and new.answered:
        from ga_cli.training import judge

        judge_model = None
        if teacher is not None:
            from ga_cli import models

            judge_model = models.load(teacher[0], api_base=teacher[1])
        values = [" ".join((v.body or "").split()) for v in context.values] if context else []
        judged = judge.judge(ref.answered, new.answered, judge_model, values)
    return Comparison(ref, new, reference.name, EV.regressions(ref, new), failures, ok, why, judged)
