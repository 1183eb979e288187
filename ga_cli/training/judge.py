"""Which model follows the principal in what it *says*: greedy answers to held-out prompts,
judged.

Log-prob preference accuracy asks whether a model finds the principal's answer more likely; the
principal lives with what it generates. Two judges:

- offline (always): an answer *follows* when it is usable (not empty, not a loop, not the
  system prompt's scaffolding copied) and closer to the principal's `chosen` answer than to
  every `rejected` one by rapidfuzz's token-set ratio. On 90 hand-labelled answers
  (bench/judge_agreement.py) that agrees with the labels on 0.88 (chrF: 0.89, one answer more,
  at the price of sacrebleu and five dependencies; without the usability guard every measure
  stays at or below 0.66);
- a teacher (when `ga config set teacher ...` names one): a pairwise judge that sees the
  principal's values and the correction's `why`, the two answers in a random order, and answers
  A, B or tie; the personal model's win rate over the base comes with a 95 % interval.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NotRequired, TypedDict

from ga_cli.models.base import GenerationParams, LocalModel, Message
from ga_cli.training.data import Scored

MAX_TOKENS = 80  # held-out answers are short; the judge needs their manner, not an essay


@dataclass(frozen=True)
class Answered:
    """One held-out prompt and a model's greedy answer to it."""

    id: str
    prompt: str
    chosen: str
    rejected: tuple[str, ...]
    why: str
    text: str


LOOP = 0.2  # a share of repeated word 3-grams at which an answer is a loop, not an answer
# the system prompt's own labels (prompting.py), or the model's paraphrase of them, copied into
# an answer: the prompt taught it the format, not the manner
SCAFFOLD = re.compile(
    r"answer wanted|rejected answer|what was wrong:|the answer was:|^\s*-?\s*(asked|q|a):",
    re.I | re.M,
)


def usable(text: str) -> bool:
    """Not empty, not a loop, not the system prompt's scaffolding copied."""
    from ga_cli.training.retention import repetition

    return bool(text.strip()) and repetition(text) < LOOP and not SCAFFOLD.search(text)


def similarity(a: str, b: str) -> float:
    """0-100: how alike two answers are in their words (rapidfuzz token-set ratio)."""
    from rapidfuzz import fuzz, utils

    return float(fuzz.token_set_ratio(a, b, processor=utils.default_process))


def follows(answer: Answered) -> bool:
    """The answer is usable and closer to the principal's `chosen` than to every `rejected`."""
    if not usable(answer.text):
        return False
    near = similarity(answer.text, answer.chosen)
    return all(near > similarity(answer.text, r) for r in answer.rejected)


def wilson(k: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a rate k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


class Asked(TypedDict):
    """A held-out prompt to answer, with everything its judges need."""

    id: str
    prompt: str
    chosen: str
    rejected: list[str]  # every rejected answer of the correction
    why: str
    messages: list[Message]


def sample(rows: Sequence[Scored], limit: int) -> list[Asked]:
    """Held-out prompts to answer: one per correction (its rejected answers gathered), in id
    order, at most `limit` (0: all)."""
    by_id: dict[str, Asked] = {}
    for r in rows:
        key = str(r.get("id", "")).split("#")[0] or str(r["prompt"])
        item = by_id.setdefault(
            key,
            {
                "id": key,
                "prompt": r["prompt"],
                "chosen": r["chosen"],
                "rejected": [],
                "why": str(r.get("why") or ""),
                "messages": r["messages"],
            },
        )
        if r["rejected"] not in item["rejected"]:
            item["rejected"].append(r["rejected"])
    chosen = [by_id[k] for k in sorted(by_id)]
    return chosen[:limit] if limit else chosen


def answer(backend: LocalModel, items: Sequence[Asked]) -> list[Answered]:
    """Greedy answers under each item's messages (minus the assistant turn), decoded together
    where the engine can."""
    params = GenerationParams(temperature=0.0, max_tokens=MAX_TOKENS)
    outs = backend.generate_batch([it["messages"] for it in items], params)
    return [
        Answered(it["id"], it["prompt"], it["chosen"], tuple(it["rejected"]), it["why"], t.strip())
        for it, (t, _, _) in zip(items, outs)
    ]


JUDGE = """You judge which of two answers better follows what one person wants from their \
personal assistant.

What they value:
{values}

The question:
{prompt}

An answer they once wanted for it: {chosen}
What they said was wrong with another answer: {why}

Answer A:
{a}

Answer B:
{b}

Which answer follows what this person wants better? Reply with one word: A, B or tie."""


def _verdict(text: str) -> str | None:
    word = re.search(r"\b(A|B|tie)\b", text, re.I)
    return word.group(1).upper().replace("TIE", "tie") if word else None


@dataclass(frozen=True)
class TeacherVerdicts:
    judge: str
    personal: int = 0
    base: int = 0
    ties: int = 0
    unreadable: int = 0

    @property
    def judged(self) -> int:
        return self.personal + self.base + self.ties

    @property
    def win_rate(self) -> float | None:
        """Personal over base, a tie counting half."""
        return (self.personal + self.ties / 2) / self.judged if self.judged else None

    def to_json(self) -> dict[str, Any]:
        lo, hi = wilson(self.personal + self.ties / 2, self.judged)
        return asdict(self) | {
            "win_rate": self.win_rate,
            "interval95": [round(lo, 3), round(hi, 3)],
        }


def teacher_judge(
    teacher: Any,
    values: Sequence[str],
    base: Sequence[Answered],
    personal: Sequence[Answered],
    seed: int = 0,
) -> tuple[TeacherVerdicts, list[str]]:
    """Ask the teacher backend about each prompt, the two answers in a seeded random order.
    Returns the tally and each prompt's verdict (`personal`, `base`, `tie` or `?`)."""
    rng = random.Random(seed)
    tally = {"personal": 0, "base": 0, "tie": 0, "?": 0}
    each = []
    for b, p in zip(base, personal):
        swap = rng.random() < 0.5
        first, second = (p, b) if swap else (b, p)
        prompt = JUDGE.format(
            values="\n".join(f"- {v}" for v in values) or "(none written down)",
            prompt=b.prompt,
            chosen=b.chosen,
            why=b.why or "(not said)",
            a=first.text,
            b=second.text,
        )
        reply = "".join(
            teacher.stream(
                [{"role": "user", "content": prompt}],
                GenerationParams(temperature=0.0, max_tokens=8),
            )
        )
        v = _verdict(reply)
        won = (
            "tie"
            if v == "tie"
            else "?"
            if v is None
            else ("personal" if (v == "A") == swap else "base")
        )
        tally[won] += 1
        each.append(won)
    return (
        TeacherVerdicts(teacher.name, tally["personal"], tally["base"], tally["tie"], tally["?"]),
        each,
    )


class Judged(TypedDict):
    """One held-out prompt, both models' answers, and whether each follows the chosen one."""

    id: str
    prompt: str
    chosen: str
    base: str
    personal: str
    base_follows: bool
    personal_follows: bool
    teacher: NotRequired[str]  # the teacher's verdict, when one judged


@dataclass(frozen=True)
class Judgement:
    """Both models' greedy answers to the same held-out prompts, and what the judges said."""

    prompts: int
    base_follows: int
    personal_follows: int
    teacher: TeacherVerdicts | None = None
    answers: list[Judged] = field(default_factory=list)

    def rate(self, k: int) -> float | None:
        return k / self.prompts if self.prompts else None

    def to_json(self) -> dict[str, Any]:
        """What run.json and `ga eval --json` keep (the answers included)."""
        return {
            "prompts": self.prompts,
            "measure": "usable, and closer to chosen than to every rejected "
            "(rapidfuzz token-set ratio)",
            "base_follows": self.rate(self.base_follows),
            "personal_follows": self.rate(self.personal_follows),
            "teacher": self.teacher.to_json() if self.teacher else None,
            "answers": self.answers,
        }


def judge(
    base: Sequence[Answered],
    personal: Sequence[Answered],
    teacher: Any = None,
    values: Sequence[str] = (),
) -> Judgement:
    """The offline judge on both sides' answers; the teacher's verdicts when one is given."""
    verdicts, each = teacher_judge(teacher, values, base, personal) if teacher else (None, [])
    rows: list[Judged] = []
    base_ok = [follows(b) for b in base]
    personal_ok = [follows(p) for p in personal]
    for i, (b, p) in enumerate(zip(base, personal)):
        row: Judged = {
            "id": b.id,
            "prompt": b.prompt,
            "chosen": b.chosen,
            "base": b.text,
            "personal": p.text,
            "base_follows": base_ok[i],
            "personal_follows": personal_ok[i],
        }
        if each:
            row["teacher"] = each[i]
        rows.append(row)
    return Judgement(len(rows), sum(base_ok), sum(personal_ok), verdicts, rows)
