"""How well a model has learned its principal, and whether it kept what was fixed before.

- pref_accuracy: share of held-out pairs whose `chosen` answer gets a higher mean per-token
  log-prob than `rejected` (chat template applied). Below MIN_PAIRS held-out pairs it is kept
  but not reported or judged as an accuracy: one pair moves it by a fifth or more.
- fixed / regressions: every past correction pair, trained or held out, the model gets right;
  a regression is one the reference model got right and this one does not.
- injection: held-out injected-instruction records, answered greedily and checked by rule.
- answered: with `generate`, greedy answers to a sample of the held-out prompts, for the
  judges of `judge.py` (what the model says, not only what it finds likely).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ga_cli.dataset import injection, rows
from ga_cli.dataset.rows import Turn, is_turn
from ga_cli.models.base import Backend, GenerationParams, LocalModel, Message
from ga_cli.progress import Report, Steps
from ga_cli.training import data, judge
from ga_cli.training.data import Scored
from ga_cli.training.recipe import Gate

if TYPE_CHECKING:
    from ga_cli.training.retention import Retention


@dataclass(frozen=True)
class InjectionScore:
    """Held-out injected-instruction records answered greedily, and how many were obeyed."""

    records: int = 0
    obeyed: int = 0

    @property
    def resisted_rate(self) -> float | None:
        return (self.records - self.obeyed) / self.records if self.records else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"resisted_rate": self.resisted_rate}


MIN_PAIRS = 10  # held-out pairs below which an accuracy means nothing


@dataclass(frozen=True)
class Evaluation:
    """One model on the principal's data. `fixed`/`wrong` name every past correction pair
    (`id|rejected[:40]`) the model gets right or wrong."""

    model: str
    pairs: int  # held-out pairs scored
    pref_accuracy: float | None  # None when there are no held-out pairs
    fixed: list[str]
    wrong: list[str]
    injection: InjectionScore = field(default_factory=InjectionScore)
    retention: Retention | None = None  # measured on the candidate side only
    answered: tuple[judge.Answered, ...] = ()  # greedy answers to held-out prompts
    carried: int = 0  # past-correction pairs taken from an earlier scoring, not scored again

    @property
    def measured(self) -> bool:
        """Whether there are enough held-out pairs for the accuracy to mean something."""
        return self.pref_accuracy is not None and self.pairs >= MIN_PAIRS

    def accuracy_text(self) -> str:
        """The accuracy as the principal should read it."""
        if self.pref_accuracy is None:
            return "n/a"
        if not self.measured:
            return f"too few pairs ({self.pairs} < {MIN_PAIRS})"
        return f"{self.pref_accuracy:.2f}"

    def brief(self) -> dict[str, Any]:
        """What run.json and `ga eval --json` keep of it (counts, not the pair lists)."""
        return {
            "model": self.model,
            "pairs": self.pairs,
            "pref_accuracy": self.pref_accuracy,
            "accuracy_measured": self.measured,
            "injection": self.injection.to_json(),
            "fixed": len(self.fixed),
            "wrong": len(self.wrong),
            "carried": self.carried,
        }


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("-inf")


def answer_logprob(backend: Any, messages: list[Message], answer: str) -> float:
    """How likely the model finds `answer` as its reply: mean log-prob per token (nats)."""
    return _mean(backend.answer_logprobs(messages, answer))


def answers_logprob(backend: Any, messages: list[Message], answers: list[str]) -> list[float]:
    """`answer_logprob` of each answer; a local model scores them in one pass."""
    if isinstance(backend, LocalModel):
        return [_mean(lps) for lps in backend.answers_logprobs(messages, answers)]
    return [answer_logprob(backend, messages, a) for a in answers]


def prefers_chosen(backend: Backend, pair: Scored) -> bool:
    c, r = answers_logprob(backend, pair["messages"], [pair["chosen"], pair["rejected"]])
    return c > r


def evaluate(
    backend: Any,
    dataset: Path | None,
    pairs_file: Path | None = None,
    max_injection: int = 8,
    gen_tokens: int = 48,
    messages_for: Callable[[str, str | None], list[Message]] | None = None,
    report: Report | None = None,
    label: str = "",
    generate: int = 0,
    carried: Mapping[str, bool] | None = None,
) -> Evaluation:
    """With `messages_for(prompt)`, pairs are scored under those messages (what `ga ask`
    sends); a --pairs row that brings its own `system` keeps it. `generate`: answer that many
    held-out prompts greedily (-1: all of them). `carried`: results of past-correction pairs
    (by key) taken as they are instead of scored again; held-out pairs are always scored."""
    if pairs_file is not None:
        held = data.eval_pairs(rows.pairs(pairs_file), messages_for, keep_own_system=True)
        every = held
        inj: list[Turn] = []
    else:
        assert dataset is not None
        heldout = rows.heldout(dataset / "heldout.jsonl")
        pairs = [r for r in heldout if not is_turn(r) and r["source"] == "correction"]
        held = data.eval_pairs(pairs, messages_for, leave_out_own=True)
        every = data.eval_pairs(rows.pairs(dataset / "prefs.jsonl"), messages_for) + held
        inj = [r for r in heldout if is_turn(r) and r["source"] == "injection"][:max_injection]
    right: dict[str, bool] = {}
    held_keys = {pair_key(p) for p in held}
    given = {k: v for k, v in (carried or {}).items() if k not in held_keys}
    todo = [p for p in every if pair_key(p) not in given]
    scored = Steps(report, f"{label}preference pairs", len(todo))
    for p in todo:
        key = pair_key(p)
        if key not in right:
            right[key] = prefers_chosen(backend, p)
        scored()
    kept = {pair_key(p) for p in every if pair_key(p) in given}
    right |= {k: given[k] for k in kept}
    held_right = [right[pair_key(p)] for p in held]
    obeyed = 0
    if inj:
        step = Steps(report, f"{label}injection records", 1)
        replies = greedy_answers(backend, [r["messages"][:-1] for r in inj], gen_tokens)
        obeyed = sum(injection.obeyed(a, r["markers"]) for a, r in zip(replies, inj))
        step()
    said: tuple[judge.Answered, ...] = ()
    if generate and held:
        items = judge.sample(held, max(generate, 0))
        step = Steps(report, f"{label}held-out answers", 1)
        said = tuple(judge.answer(backend, items))
        step()
    return Evaluation(
        model=backend.name,
        pairs=len(held),
        pref_accuracy=sum(held_right) / len(held_right) if held_right else None,
        fixed=sorted(k for k, ok in right.items() if ok),
        wrong=sorted(k for k, ok in right.items() if not ok),
        injection=InjectionScore(len(inj), obeyed),
        answered=said,
        carried=len(kept),
    )


def greedy_answers(backend: Any, conversations: list[list[Message]], max_tokens: int) -> list[str]:
    """Greedy answers, decoded together where the engine can."""
    params = GenerationParams(temperature=0.0, max_tokens=max_tokens)
    if isinstance(backend, LocalModel):
        return [text for text, _, _ in backend.generate_batch(conversations, params)]
    return ["".join(backend.stream(c, params)) for c in conversations]


def pair_key(pair: Scored) -> str:
    """A pair as `fixed`/`wrong` name it: its correction id and the start of its rejected
    answer (one correction can have several rejected answers)."""
    return f"{pair['id']}|{pair['rejected'][:40]}"


def regressions(reference: Evaluation, candidate: Evaluation) -> list[str]:
    """Pairs the reference model got right that the candidate now gets wrong."""
    return sorted(set(reference.fixed) & set(candidate.wrong))


def promotion(
    reference: Evaluation, candidate: Evaluation, gate: Gate | None = None
) -> tuple[bool, str]:
    """The rule: no drop in held-out preference accuracy, no fixed correction regresses, and
    (with the recipe's `gate`) the candidate's retention and generation health within limits.
    The reason names every number that failed."""
    from ga_cli.training import retention

    ref_acc, new_acc = reference.pref_accuracy, candidate.pref_accuracy
    judged = reference.measured and candidate.measured
    lost = regressions(reference, candidate)
    fails = []
    if judged and ref_acc is not None and new_acc is not None and new_acc < ref_acc:
        fails.append(f"held-out preference accuracy fell from {ref_acc:.2f} to {new_acc:.2f}")
    if lost:
        fails.append(f"{len(lost)} previously fixed correction(s) regressed: {', '.join(lost[:3])}")
    if gate is not None and candidate.retention is not None:
        fails += retention.gate(candidate.retention, gate)
    if fails:
        return False, "; ".join(fails)
    accuracy = (
        f"held-out preference accuracy {reference.accuracy_text()} -> {candidate.accuracy_text()}"
        if judged or new_acc is None
        else f"held-out split too small to judge ({candidate.pairs} pair(s) < {MIN_PAIRS})"
    )
    right = len(candidate.fixed)
    every = right + len(candidate.wrong)
    return True, (
        f"{accuracy}, no regressions ({right}/{every} past corrections right)"
        + (", retention gate passed" if gate is not None else "")
    )
