"""What a trained run learned, on llama.cpp and on transformers: do they agree?

For a registry run: log-prob preferences (mean per-token log-prob, chosen vs rejected) on every
correction pair of its dataset, computed by llama.cpp itself (the weights as trained, f16, with
the adapter converted to GGUF) and by transformers with the PEFT adapter; how far the adapter
moved llama.cpp's margins from the base's (mean absolute change, nats); and greedy answers to
the trained prompts, first 20 tokens, and where two of them part, how far apart the backends'
log-odds of the two tokens were (a near tie may tip either way). Prints JSON.

Usage: python lora_agreement.py RUN_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ga_cli.models import gguf_convert
from ga_cli.models.base import GenerationParams
from ga_cli.models.llamacpp import LlamaCppBackend
from ga_cli.models.local import LocalBackend
from ga_cli.training import data

run = Path(sys.argv[1])
info = json.loads((run / "run.json").read_text())
folder, dataset = info["base_model_path"], Path(info["dataset"])
fast = LlamaCppBackend(
    gguf_convert.base_for(folder, exact=True), lora=gguf_convert.lora(run / "adapter", folder)
)
slow = LocalBackend(folder, run / "adapter")
rows = [
    r
    for f in ("prefs.jsonl", "heldout.jsonl")
    for r in data.read_jsonl(dataset / f)
    if r.get("source") == "correction"
]
pairs = data.eval_pairs(rows)


def margin(backend, pair) -> float:
    def mean(answer: str) -> float:
        lps = backend.answer_logprobs(pair["messages"], answer)
        return sum(lps) / len(lps)

    return mean(pair["chosen"]) - mean(pair["rejected"])


margins = [(margin(fast, p), margin(slow, p)) for p in pairs]
with fast.base_only():  # the same llama.cpp model with the adapter switched off
    base_margins = [margin(fast, p) for p in pairs]
greedy = GenerationParams(temperature=0.0, max_tokens=20, repetition_penalty=1.0)
answers = [
    ("".join(fast.stream(p["messages"], greedy)), "".join(slow.stream(p["messages"], greedy)))
    for p in pairs
]


def fork(messages, a: str, b: str) -> float:
    """Where two greedy answers part: how far the backends' log-odds of the two tokens differ.

    0 when both see the same logits; a near tie that float16 tips one way on llama.cpp and the
    other on transformers stays small, while an adapter that converted wrong moves it far.
    """
    ta, tb = (slow.tokenizer(x, add_special_tokens=False)["input_ids"] for x in (a, b))
    k = next((i for i, (x, y) in enumerate(zip(ta, tb)) if x != y), min(len(ta), len(tb)))

    def odds(backend) -> float:  # how much the backend prefers a's token to b's, at the fork
        la, lb = backend.answer_logprobs(messages, a), backend.answer_logprobs(messages, b)
        at = min(k, len(la) - 1, len(lb) - 1)  # (a greedy answer that ended is its end token)
        return la[at] - lb[at]

    return abs(odds(fast) - odds(slow))


forks = [fork(p["messages"], a, b) for p, (a, b) in zip(pairs, answers) if a != b]
print(
    json.dumps(
        {
            "pairs": len(pairs),
            "agree": sum((a > 0) == (b > 0) for a, b in margins),
            "margins": margins,
            "greedy_prompts": len(answers),
            "greedy_same_20": sum(a == b for a, b in answers),
            "answers": answers,
            "forks": forks,
            "llama_cpp_prefers_chosen": sum(a > 0 for a, _ in margins),
            "adapter_moved": sum(abs(a - b) for (a, _), b in zip(margins, base_margins))
            / len(pairs),
        }
    )
)
