"""Cooperative elicitation: the model shows two of its own answers, the principal picks.

`ga interview --pairs`. Prompts come from what the principal asked before (`ga ask`/`ga chat`
history, nothing piped), nearest first to their past corrections, or are given. For each, the
model samples two answers; it is least sure where the two are closest in its own log-probs, so
those are asked first. Each choice is one correction (`via: interview`, one commit): the answer
picked, edited or written is `chosen`, the others are rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ga_cli.dataset.records import answer_key, normalise
from ga_cli.ledger import entries as E
from ga_cli.ledger import ops
from ga_cli.ledger.store import Ledger
from ga_cli.models.base import Backend, GenerationParams, Message
from ga_cli.prompt import conversation, prompting

TEMPERATURE = 0.7  # ga ask's default: two samples that differ, in the model's usual manner
MAX_TOKENS = 160  # enough to judge an answer by; a pick is read, not skimmed


@dataclass
class Pair:
    prompt: str
    answers: tuple[str, str]
    # |mean log-prob of one answer - the other's| in nats (small: the model is unsure); None
    # where the model cannot score answers (a remote provider)
    margin: float | None


def candidate_prompts(ledger: Ledger, asked: Sequence[str], limit: int) -> list[str]:
    """Up to `limit` prompts: `asked` if given, else the principal's own past questions (newest
    first, none with piped data) nearest to their past corrections. Prompts already corrected are
    left out: a pick there would overrule the principal's own better answer."""
    from ga_cli.chat import sessions

    corrections = [e for e in ledger.entries("correction") if e.status != "retired"]
    done = {normalise(c.text("prompt")) for c in corrections}
    pool = list(asked) or sessions.past_prompts(limit=500)
    seen: set[str] = set()
    fresh = []
    for p in pool:
        key = normalise(p)
        if key and key not in seen and (asked or key not in done):
            seen.add(key)
            fresh.append(p)
    if asked:
        return fresh[:limit]
    near = {p: max((prompting.relevance(p, c) for c in corrections), default=0.0) for p in fresh}
    return sorted(fresh, key=lambda p: -near[p])[:limit]  # stable: newest first among equals


def sample(
    backend: Backend,
    prompts: Sequence[str],
    context: conversation.LedgerContext | None,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Pair]:
    """Two sampled answers per prompt, with the model's margin between them. Prompts whose two
    answers come out the same (after one more try) or empty are skipped."""
    for n, prompt in enumerate(prompts):
        messages = conversation.prepare(backend, prompt, context=context).messages
        pair = _two_answers(backend, messages, seed + 2 * n)
        if progress is not None:
            progress(n + 1)
        if pair is None:
            continue
        yield Pair(prompt, pair, margin(backend, messages, *pair))


def _two_answers(backend: Backend, messages: list[Message], seed: int) -> tuple[str, str] | None:
    def one(s: int) -> str:
        params = GenerationParams(
            temperature=TEMPERATURE, max_tokens=MAX_TOKENS, seed=s, repetition_penalty=1.1
        )
        return "".join(backend.stream(messages, params)).strip()

    first = one(seed)
    for s in (seed + 1, seed + 1001):
        second = one(s)
        if first and second and answer_key(first) != answer_key(second):
            return first, second
    return None


def margin(backend: Backend, messages: list[Message], a: str, b: str) -> float | None:
    from ga_cli.errors import GaError
    from ga_cli.training.evaluate import answers_logprob

    try:
        first, second = answers_logprob(backend, messages, [a, b])
        return abs(first - second)
    except GaError:  # a remote model: no log-probs
        return None


def closest_first(pairs: Sequence[Pair]) -> list[Pair]:
    """Smallest margin first; pairs without one keep their order, after those with one."""
    return sorted(pairs, key=lambda p: (p.margin is None, p.margin or 0.0))


def record(
    ledger: Ledger, pair: Pair, chosen: str, model: str, allow_secret: bool = False
) -> E.Entry:
    """The principal's choice as one correction, in one commit: `chosen` against each answer of
    the pair that is not it."""
    others = [a for a in pair.answers if answer_key(a) != answer_key(chosen)]
    extra: dict[str, Any] = {"via": "interview", "model": model}
    if len(others) > 1:
        extra["also_rejected"] = others[1:]
    return ops.add_correction(
        ledger,
        pair.prompt,
        others[0],
        chosen,
        extra=extra,
        subject=f"interview: picked an answer to {ops.short(pair.prompt, 50)}",
        allow_secret=allow_secret,
    ).correction
