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
from ga_cli.progress import Report
from ga_cli.prompt.conversation import LedgerContext
from ga_cli.training.evaluate import Evaluation
from ga_cli.training.judge import Judgement
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
            # every past-correction pair as this run stands on it: the next incremental run
            # scores what is new and a sample of these, and carries the rest (carried_scores)
            "pairs": {"right": self.candidate.fixed, "wrong": self.candidate.wrong},
            "rescored": {
                "reference_carried": self.reference.carried,
                "carried": self.candidate.carried,
                "scored": len(self.candidate.fixed)
                + len(self.candidate.wrong)
                - self.candidate.carried,
            },
        }


def carried_scores(run_eval: dict[str, Any]) -> dict[str, bool] | None:
    """The per-pair results a run recorded (run.json's `eval.pairs`), None for a run from
    before they were kept."""
    pairs = run_eval.get("pairs") if isinstance(run_eval, dict) else None
    if not isinstance(pairs, dict):
        return None
    return {k: True for k in pairs.get("right", [])} | {k: False for k in pairs.get("wrong", [])}


def resampled(known: dict[str, bool], seed: int, size: int) -> dict[str, bool]:
    """`known` less a random sample of `size`, which the candidate scores again."""
    import random

    keys = sorted(known)
    again = set(random.Random(seed).sample(keys, min(size, len(keys))))
    return {k: v for k, v in known.items() if k not in again}


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
    carried: dict[str, bool] | None = None,
) -> Evaluation:
    """evaluate.evaluate() for one side; with `retention`, also drift and generation health
    against the base (the base side is the same model with its adapter off). `carried`: pair
    results taken as they are."""
    from ga_cli import models
    from ga_cli.dataset import rows
    from ga_cli.training.evaluate import evaluate

    # generation on the fast engine where there is one (llama.cpp: the weights as trained in
    # f16, the adapter converted to GGUF, conversations decoded together); log-probs from
    # transformers, the numbers training saw
    backend = models.load_local(side.base_path, str(side.adapter) if side.adapter else None)
    try:
        messages = scoring_messages(backend, context) if context is not None else None
        label = "base: " if side.adapter is None else f"{side.name}: "
        result = evaluate(
            backend,
            dataset,
            pairs,
            messages_for=messages,
            report=report,
            label=label,
            generate=generate,
            carried=carried,
        )
        if retention:
            from dataclasses import replace

            from ga_cli.training import retention as RT

            examples = [r for r in rows.turns(dataset / "sft.jsonl") if r["source"] == "example"]
            result = replace(result, retention=RT.measure(backend, examples, report))
        return result
    finally:  # one model in memory at a time: the next side (or checkpoint) loads its own
        from ga_cli import memory

        del backend
        memory.release()


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
    known: tuple[dict[str, bool], int, int] | None = None,
) -> Comparison:
    """Evaluate both sides the same way, and apply the promotion rule (with the recipe's gate).
    `generate`: also answer that many held-out prompts greedily on both sides (-1: all) and
    judge them, offline and with `teacher` (model, api_base) when given. `measured`: the
    reference side's evaluation when it was made already (the same dataset and settings).
    `known`: (the reference run's recorded pair results, seed, size): an incremental run's
    reference scores only the pairs it was not scored on; the candidate scores those and a
    random `size` of the rest."""
    from ga_cli.training import evaluate as EV

    context = eval_context(ledger_root, dataset) if ledger_root is not None else None
    ref_carry, new_carry = (known[0], resampled(*known)) if known else (None, None)
    ref = measured or evaluate_side(
        reference, dataset, context, pairs, report=report, generate=generate, carried=ref_carry
    )
    new = evaluate_side(
        candidate,
        dataset,
        context,
        pairs,
        retention=retention,
        report=report,
        generate=generate,
        carried=new_carry,
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
