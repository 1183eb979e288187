"""Progress events from long work (training stages, evaluation phases) to whoever shows them.

An event (Event) is `stage` (a short label), `step`, `total`, and in training `loss` and
`tokens_per_s`. The CLI turns them into a progress bar on a terminal and into
plain lines elsewhere; core code only calls the callback it was given.
"""

from __future__ import annotations

from typing import Callable, NotRequired, TypedDict


class Event(TypedDict):
    stage: str
    step: int
    total: int
    loss: NotRequired[float | None]
    tokens_per_s: NotRequired[float]


Report = Callable[[Event], None]


class Steps:
    """Count the steps of one phase and report each; does nothing without a callback."""

    def __init__(self, report: Report | None, stage: str, total: int):
        self.report, self.stage, self.total, self.done = report, stage, total, 0
        if report is not None:
            report({"stage": stage, "step": 0, "total": total})

    def __call__(self, n: int = 1) -> None:
        self.done += n
        if self.report is not None:
            self.report({"stage": self.stage, "step": self.done, "total": self.total})
