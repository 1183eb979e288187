"""Timing helpers shared by the streaming benchmarks (chat_latency.py, serve.py)."""

from __future__ import annotations

import statistics
import time
from typing import Iterable


def timed_stream(pieces: Iterable[str]) -> tuple[float, float, int]:
    """(seconds to the first non-empty piece, total seconds, pieces) of a text stream."""
    start, first, n = time.perf_counter(), None, 0
    for piece in pieces:
        if piece and first is None:
            first = time.perf_counter() - start
        n += 1
    return first or 0.0, time.perf_counter() - start, n


def summarise(samples: list[tuple[float, float, int]], tokens: int) -> dict[str, float]:
    """Medians of TTFT and total time, and decode speed over the tokens after the first."""
    ttft = statistics.median(s[0] for s in samples)
    total = statistics.median(s[1] for s in samples)
    return {
        "ttft_s": ttft,
        "total_s": total,
        "decode_tok_s": (tokens - 1) / max(total - ttft, 1e-9),
    }
