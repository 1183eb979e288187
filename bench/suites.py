"""The suites recipes are chosen on (issue 16): each a ledger of 30 hand-written corrections over
three themes of the principal's taste (10 each), the values that say them, and 15 held-out
prompts on new topics (5 per theme) with a chosen and a rejected answer in the same styles.

- `taste`: metric units, brevity, a closing next step (the suite cpu-default was first chosen on);
- `formats`: ISO dates, 24-hour times, shell commands in backticks (also bench/continual.py's
  rounds);
- `style`: British spelling, prices in euros, numbers as digits;
- `behaviours`: clarify when ambiguous, say when a premise is false, no hedging
  (bench/behaviour_suite.py; 22 held-out prompts, controls included).

The first three are lexical: a theme is one surface habit, the same in every answer. A recipe
chosen on one of them can overfit it, so bench/learning.py runs a recipe on all four.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import behaviour_suite as B
from lexical_suite import (
    BRIEF,
    BRITISH,
    COMMANDS,
    DATES,
    DIGITS,
    EUROS,
    EXAMPLES,
    HELDOUT,
    METRIC,
    NEW_HELDOUT,
    NEXT,
    STYLE_HELDOUT,
    TIMES,
)

Row = tuple[str, str, str]  # prompt, chosen, rejected


@dataclass(frozen=True)
class Suite:
    name: str
    values: list[str]
    train: dict[str, list[Row]]  # theme -> corrections
    heldout: dict[str, list[Row]]  # theme -> held-out prompts on new topics
    why: dict[str, str] = field(default_factory=dict)  # theme -> the corrections' `why`
    examples: list[tuple[str, str]] = field(default_factory=list)

    def why_of(self, theme: str) -> str:
        return self.why.get(theme, theme)


TASTE = Suite(
    "taste",
    ["Use metric units.", "Answer briefly.", "End advice with one concrete next step."],
    {"metric": METRIC, "brief": BRIEF, "next-step": NEXT},
    {"metric": HELDOUT[:5], "brief": HELDOUT[5:10], "next-step": HELDOUT[10:]},
    examples=EXAMPLES,
)
FORMATS = Suite(
    "formats",
    ["Write dates as YYYY-MM-DD.", "Use the 24-hour clock.", "Put shell commands in backticks."],
    {"dates": DATES, "times": TIMES, "commands": COMMANDS},
    NEW_HELDOUT,
)
STYLE = Suite(
    "style",
    ["Use British spelling.", "Give prices in euros.", "Write numbers as digits."],
    {"british": BRITISH, "euros": EUROS, "digits": DIGITS},
    STYLE_HELDOUT,
)
BEHAVIOURS = Suite(
    "behaviours",
    list(B.VALUES),
    dict(B.TRAIN),
    {t: [(p, c, r) for th, _rule, p, c, r in B.HELDOUT if th == t] for t in B.TRAIN},
    why=dict(B.WHY),
)
SUITES = {s.name: s for s in (TASTE, FORMATS, STYLE, BEHAVIOURS)}


def _self_check() -> None:
    for s in SUITES.values():
        assert set(s.train) == set(s.heldout), s.name
        prompts = [p for rows in s.train.values() for p, _, _ in rows]
        held = [p for rows in s.heldout.values() for p, _, _ in rows]
        assert len(set(prompts)) == len(prompts) and not set(prompts) & set(held), s.name
        assert all(c != r for rows in s.heldout.values() for _, c, r in rows), s.name


_self_check()
