"""Scoring answers on top of the last prompt's keys and values (transformers).

Evaluation scores thousands of answers whose prompts share most of their tokens: every pair
is asked under the ledger's system prompt, and a pair's chosen and rejected answers share the
whole prompt. On a CPU a forward pass of a small model costs about as much for 1 token as for
20 (it reads every weight once), so `PromptCache.score` runs one pass per prompt: the tokens
after the prefix it shares with the prompt before, with every answer as one row of a batch
on top of the cached prefix. Only the cached prompt is kept (one row, its own length).
"""

from __future__ import annotations

from typing import Any


def shared_length(a: list[int], b: list[int]) -> int:
    """How many leading tokens `a` and `b` have in common."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class PromptCache:
    """The keys and values of the last prompt scored. Call `clear()` when the weights change
    (an adapter switched on or off): a cache made under other weights is wrong."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.cache: Any = None

    def clear(self) -> None:
        self.ids, self.cache = [], None

    def score(
        self, model: Any, prompt: list[int], answers: list[list[int]], pad_id: int
    ) -> list[list[float]]:
        """Per-token log-probs of each answer (token ids) after `prompt`, in one forward pass.
        Call under `torch.inference_mode()`; `prompt` must not be empty."""
        import torch

        if not answers:
            return []
        reuse = min(shared_length(self.ids, prompt), len(prompt) - 1)  # >= 1 token to run
        cache = self.cache if reuse > 0 else None
        if cache is not None:
            _crop(cache, reuse)
            if len(answers) > 1:
                cache.batch_repeat_interleave(len(answers))
        else:
            reuse = 0
        rest = prompt[reuse:]
        width = max(len(a) for a in answers)
        rows = [rest + a + [pad_id] * (width - len(a)) for a in answers]  # right-padded: a
        # position never sees the padding after it
        out = model(
            input_ids=torch.tensor(rows, device=model.device),
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=width + 1,  # from the prompt's last token on
        )
        logp = torch.log_softmax(out.logits[:, :-1].float(), dim=-1)
        scored = []
        for i, answer in enumerate(answers):
            targets = torch.tensor(answer, dtype=torch.long, device=logp.device).unsqueeze(1)
            scored.append(logp[i, : len(answer)].gather(1, targets).squeeze(1).tolist())
        self._keep(out.past_key_values, prompt)
        return scored

    def _keep(self, cache: Any, prompt: list[int]) -> None:
        """Keep the prompt's part of the first row, where the cache can be cut back exactly
        (plain layers; a sliding-window layer forgets what it slid past)."""
        from transformers.cache_utils import DynamicLayer

        layers = getattr(cache, "layers", None)
        if not layers or any(type(layer) is not DynamicLayer for layer in layers):
            self.clear()
            return
        _crop(cache, len(prompt))
        if layers[0].keys is not None and layers[0].keys.shape[0] > 1:
            cache.batch_select_indices(slice(0, 1))
        self.ids, self.cache = list(prompt), cache


def _crop(cache: Any, length: int) -> None:
    """Cut the cache back to its first `length` tokens."""
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)
