"""Callbacks run after every ledger change has been committed (outside the ledger lock).

The CLI registers what should follow a change (training.auto); the ledger layer only calls them,
so it imports nothing above itself."""

from __future__ import annotations

from typing import Any, Callable

after_change: list[Callable[[Any], None]] = []
