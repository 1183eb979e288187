"""The ledger's settings (.ga/config.yaml) as a typed record: what `ga config set` stores
(chat/settings.py checks each value first), read in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LedgerConfig:
    model: str | None = None  # what ga chat/ask use when -m is not given
    teacher: str | None = None  # a litellm provider that proposes what a correction implies
    teacher_api_base: str | None = None
    recipe: str | None = None  # what `ga train` uses when --recipe is not given
    prompt_corrections: str | None = None  # how past corrections enter the system prompt
    train_auto: int = 0  # `train.auto`: train in the background once N entries are new

    @classmethod
    def from_mapping(cls, data: Any) -> LedgerConfig:
        """From the YAML mapping (None or anything else: the defaults)."""
        data = data if isinstance(data, dict) else {}

        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value).strip() or None if value is not None else None

        try:
            auto = max(0, int(data.get("train.auto") or 0))
        except (TypeError, ValueError):
            auto = 0
        return cls(
            text("model"),
            text("teacher"),
            text("teacher_api_base"),
            text("recipe"),
            text("prompt_corrections"),
            auto,
        )

    @property
    def teacher_target(self) -> tuple[str, str | None] | None:
        """The configured teacher as (model, api_base), or None when there is none."""
        return (self.teacher, self.teacher_api_base) if self.teacher else None
