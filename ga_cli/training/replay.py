"""Replay (recipe `sft.replay`): the base model's own answers to general prompts, trained on
beside the principal's data so that learning the principal does not wash out what the base model
could already do. Answers are made once per base model (greedy, no system message: the base's own
behaviour) and cached; only answers the model finished itself and that are not degenerate are
kept. The rows carry the ledger's system prompt, like every record of the principal's."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Callable

from ga_cli.models.base import GenerationParams, Message
from ga_cli.training import retention
from ga_cli.training.data import TrlRow

PROMPTS = Path(__file__).with_name("replay.yaml")
MAX_TOKENS = 192


@cache
def prompts() -> list[str]:
    from ruamel.yaml import YAML

    return list(YAML(typ="safe").load(PROMPTS.read_text(encoding="utf-8")))


def answers(base: str, say: Callable[[str], None] | None = None) -> list[dict[str, str]]:
    from ga_cli import models

    engine = models.engine_for(base, exact=True)  # llama.cpp where it runs the base: faster

    def make() -> list[dict[str, str]]:
        if say:
            say(f"Writing replay answers with the base model ({len(prompts())} prompts, once)…")
        outs = models.load_local(base, engine=engine).generate_batch(
            [retention.user_turn(p) for p in prompts()],
            GenerationParams(temperature=0.0, max_tokens=MAX_TOKENS),
        )
        return [
            {"prompt": p, "answer": t.strip()}
            for p, (t, finish, _) in zip(prompts(), outs)
            if finish == "stop" and not retention.degenerate(t, finish, p)
        ]

    key = retention.cache_key(
        base, PROMPTS, [MAX_TOKENS] + ([engine] if engine != "transformers" else [])
    )
    return retention.cached("replay", key, make)


def rows(
    base: str, n: int, system: str | None = None, say: Callable[[str], None] | None = None
) -> list[TrlRow]:
    """Up to n prompt/completion rows for SFT, under the ledger's system prompt as the
    principal's own records are: general skill is kept where the principal uses the model."""
    if n <= 0:
        return []
    head: list[Message] = [{"role": "system", "content": system}] if system else []
    return [
        {
            "prompt": head + retention.user_turn(a["prompt"]),
            "completion": [{"role": "assistant", "content": a["answer"]}],
        }
        for a in answers(base, say)[:n]
    ]
