"""`ga interview --pairs`: pick the better of two of the model's own answers."""

from __future__ import annotations

from typing import Optional

import typer

from ga_cli.cli import chat_input, modelopts, output

CHOICES = "1/2/e/n/s/q"
HELP = (
    "1 or 2: that answer is better · e: edit one into the answer you want · "
    "n: neither, write your own · s: skip · q: stop (Ctrl-D too)"
)


def run(
    max_pairs: int, prompts: Optional[list[str]], model: Optional[str], api_base: Optional[str]
) -> None:
    from ga_cli.chat import pairs as P
    from ga_cli.prompt import conversation

    ledger = modelopts.open_ledger()
    target = modelopts.target(ledger, model, api_base is not None)
    candidates = P.candidate_prompts(ledger, prompts or [], limit=max_pairs * 2)
    if not candidates:
        output.info(
            "Nothing to ask about yet: the prompts come from what you asked ga before "
            "(ga ask, ga chat), except those you corrected. Ask ga something, or give "
            '--prompt "..." (repeatable).'
        )
        return
    backend = modelopts.load(target, None, api_base)
    context = conversation.ledger_context(ledger)
    with output.StageProgress(every=10) as bar:

        def step(n: int) -> None:
            bar({"stage": "sampling two answers per prompt", "step": n, "total": len(candidates)})

        step(0)
        found = list(P.sample(backend, candidates, context, progress=step))
    asked = P.closest_first(found)[:max_pairs]
    if not asked:
        output.info("The model gave the same answer twice to every prompt; nothing to pick.")
        return
    output.info(f"Where {backend.name} is least sure, closest first. {HELP}")
    saved = 0
    try:
        for n, pair in enumerate(asked, 1):
            output.text(f"\n[{n}/{len(asked)}] {pair.prompt}")
            for k, answer in enumerate(pair.answers, 1):
                output.text(f"--- {k} ---\n{answer}")
            chosen = _choose(pair.answers)
            if chosen is None:
                continue
            entry = P.record(ledger, pair, chosen, model=backend.name)
            saved += 1
            output.info(f"Recorded {entry.id} (one commit).")
    except (EOFError, typer.Abort, KeyboardInterrupt):
        output.raw("\n")
    output.info(f"{saved} choice(s) recorded." if saved else "No choices; nothing was written.")


def _choose(answers: tuple[str, str]) -> str | None:
    """The answer the principal wants, or None to skip; EOFError to stop."""
    while True:
        key = typer.prompt(f"Which is better? [{CHOICES}]", prompt_suffix=" ").strip().lower()
        if key in ("1", "2"):
            return answers[int(key) - 1]
        if key == "e":
            start = typer.prompt("Edit which, 1 or 2?", prompt_suffix=" ").strip()
            if start not in ("1", "2"):
                output.info("Type 1 or 2.")
                continue
            return chat_input.edit("better> ", answers[int(start) - 1]) or None
        if key == "n":
            return chat_input.edit("better> ") or None
        if key == "s":
            return None
        if key == "q":
            raise EOFError
        output.info(HELP)
