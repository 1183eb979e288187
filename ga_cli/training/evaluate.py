"""How well a model has learned its principal, and whether it kept what was fixed before.

- pref_accuracy: share of held-out pairs whose `chosen` answer gets a higher mean per-token
  log-prob than `rejected` (chat template applied).
- fixed / regressions: every past correction pair, trained or held out, the model gets right;
  a regression is one the reference model got right and this one does not.
- injection: held-out injected-instruction records, answered greedily and checked by rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ga_cli.dataset import injection
from ga_cli.models.base import GenerationParams, Message
from ga_cli.training import data


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("-inf")


def prefers_chosen(backend: Any, pair: dict[str, Any]) -> bool:
    c = _mean(backend.answer_logprobs(pair["messages"], pair["chosen"]))
    r = _mean(backend.answer_logprobs(pair["messages"], pair["rejected"]))
    return c > r


def evaluate(
    backend: Any,
    dataset: Path | None,
    pairs_file: Path | None = None,
    max_injection: int = 8,
    gen_tokens: int = 48,
    messages_for: Callable[[str, str | None], list[Message]] | None = None,
) -> dict[str, Any]:
    """With `messages_for(prompt)`, pairs are scored under those messages (what `ga ask`
    sends); a --pairs row that brings its own `system` keeps it."""
    if pairs_file is not None:
        raw = data.read_jsonl(pairs_file)
        held = data.eval_pairs(raw, messages_for, keep_own_system=True)
        every = held
        inj: list[dict[str, Any]] = []
    else:
        assert dataset is not None
        rows = data.read_jsonl(dataset / "heldout.jsonl")
        held = data.eval_pairs(
            [r for r in rows if r.get("source") == "correction"], messages_for, leave_out_own=True
        )
        every = data.eval_pairs(data.read_jsonl(dataset / "prefs.jsonl"), messages_for) + held
        inj = [r for r in rows if r.get("source") == "injection"][:max_injection]
    right = {}
    for p in every:
        key = f"{p['id']}|{p['rejected'][:40]}"
        if key not in right:
            right[key] = prefers_chosen(backend, p)
    held_right = [right[f"{p['id']}|{p['rejected'][:40]}"] for p in held]
    obeyed = 0
    for r in inj:
        answer = "".join(
            backend.stream(
                r["messages"][:-1], GenerationParams(temperature=0.0, max_tokens=gen_tokens)
            )
        )
        obeyed += injection.obeyed(answer, r["markers"])
    return {
        "model": backend.name,
        "pairs": len(held),
        "pref_accuracy": sum(held_right) / len(held_right) if held_right else None,
        "fixed": sorted(k for k, ok in right.items() if ok),
        "wrong": sorted(k for k, ok in right.items() if not ok),
        "injection": {
            "records": len(inj),
            "obeyed": obeyed,
            "resisted_rate": (len(inj) - obeyed) / len(inj) if inj else None,
        },
    }


def regressions(reference: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """Pairs the reference model got right that the candidate now gets wrong."""
    return sorted(set(reference["fixed"]) & set(candidate["wrong"]))


def promotion(
    reference: dict[str, Any], candidate: dict[str, Any], gate: dict[str, Any] | None = None
) -> tuple[bool, str]:
    """The rule: no drop in held-out preference accuracy, no fixed correction regresses, and
    (with the recipe's `gate`) the candidate's retention and generation health within limits.
    The reason names every number that failed."""
    from ga_cli.training import retention

    ref_acc, new_acc = reference["pref_accuracy"], candidate["pref_accuracy"]
    lost = regressions(reference, candidate)
    fails = []
    if ref_acc is not None and new_acc is not None and new_acc < ref_acc:
        fails.append(f"held-out preference accuracy fell from {ref_acc:.2f} to {new_acc:.2f}")
    if lost:
        fails.append(f"{len(lost)} previously fixed correction(s) regressed: {', '.join(lost[:3])}")
    if gate is not None and "retention" in candidate:
        fails += retention.gate(candidate["retention"], gate)
    if fails:
        return False, "; ".join(fails)
    return True, (
        f"held-out preference accuracy {_fmt(ref_acc)} -> {_fmt(new_acc)}, "
        f"no regressions" + (", retention gate passed" if gate is not None else "")
    )


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"
