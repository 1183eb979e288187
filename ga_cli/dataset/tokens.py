"""Token counts with the base model's own tokenizer (the `tokenizers` library, no transformers
import), plus tiktoken counts for comparison with hosted fine-tuning limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ga_cli.models.remote import tiktoken_encoding

PER_MESSAGE = 4  # chat-template markers around each message (<|im_start|>role\n ... <|im_end|>\n)


def base_tokenizer(
    model_spec: str, progress: Callable[[str], None] | None = None
) -> tuple[str, Any]:
    """(name, tokenizers.Tokenizer) for a local model; (name, None) for remote models."""
    from ga_cli import models

    if models.is_remote(model_spec):
        return model_spec, None
    if model_spec == "embedded":
        from ga_cli.models import embedded

        folder, name = embedded.ensure_converted(progress), embedded.NAME
    else:
        folder, name = Path(model_spec).expanduser(), Path(model_spec).name
    file = folder / "tokenizer.json"
    if not file.is_file():
        return name, None
    from tokenizers import Tokenizer

    return name, Tokenizer.from_file(str(file))


def counter(tokenizer: Any) -> Callable[[list[str]], list[int]]:
    if tokenizer is not None:
        return lambda texts: [
            len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)
        ]
    enc = tiktoken_encoding()
    return lambda texts: [len(t) for t in enc.encode_batch(texts, disallowed_special=())]


def stats(values: list[int]) -> dict[str, float | int]:
    if not values:
        return {"records": 0, "total": 0}
    s = sorted(values)

    def pct(p: float) -> int:
        return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]

    return {
        "records": len(s),
        "total": sum(s),
        "mean": round(sum(s) / len(s), 2),
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "max": s[-1],
    }
