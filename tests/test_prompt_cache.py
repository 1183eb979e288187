"""Answers scored on top of the last prompt's keys and values (models/prompt_cache.py) give the
log-probs of scoring each answer alone in a full forward pass: across prompts that share a
system prompt, for a family whose cache cannot be cut back (Gemma 2's sliding window), and
with an adapter switched off and on again."""

from __future__ import annotations

from pathlib import Path

import pytest

SYSTEM = "You are ga, the personal guardian angel of Sam. Principle: keep my voice. " * 3
ASKED = [
    ("How far is the depot?", ["About 12 km.", "About 7.5 miles, give or take a little."]),
    ("How far is the harbour?", ["About 3 km.", "Two miles."]),
    ("Name a colour.", ["Blue."]),
    ("How far is the harbour?", ["Two miles.", "About 3 km.", "Far."]),
]


def full_pass(backend, messages, answer: str) -> list[float]:
    """The reference: prompt and answer in one forward pass, nothing cached."""
    import torch

    from ga_cli.models.chat_tokens import encode_chat

    prompt = backend.prompt_ids(messages)
    full = encode_chat(
        backend.tokenizer,
        messages + [{"role": "assistant", "content": answer}],
        add_generation_prompt=False,
    )
    x = torch.tensor([full])
    with torch.inference_mode():
        logits = backend.model(input_ids=x).logits[0, :-1].float()
    logp = torch.log_softmax(logits, dim=-1).gather(1, x[0, 1:].unsqueeze(1)).squeeze(1)
    return logp[len(prompt) - 1 :].tolist()


def check_against_full_passes(backend) -> int:
    """Score ASKED in order; return how many prompts reused cached tokens."""
    reused = 0
    for question, answers in ASKED:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        before = list(backend._prompts.ids)
        got = backend.answers_logprobs(messages, answers)
        reused += bool(before) and backend.prompt_ids(messages)[:5] == before[:5]
        for answer, scored in zip(answers, got):
            want = full_pass(backend, messages, answer)
            assert len(scored) == len(want)
            assert max(abs(a - b) for a, b in zip(scored, want)) < 1e-4, (question, answer)
    return reused


def test_cached_prompts_score_as_full_passes(tiny_model):
    from ga_cli.models.local import LocalBackend

    backend = LocalBackend(tiny_model)
    assert check_against_full_passes(backend) == len(ASKED) - 1
    assert backend._prompts.ids  # the last prompt is kept, one row
    assert backend._prompts.cache.layers[0].keys.shape[0] == 1
    # the single-answer method is the same computation
    messages = [{"role": "user", "content": "Name a colour."}]
    one = backend.answer_logprobs(messages, "Blue.")
    assert one == pytest.approx(backend.answers_logprobs(messages, ["Blue."])[0], abs=1e-4)


def test_a_sliding_window_family_scores_without_reuse(embedded_dir, tmp_path):
    import families

    from ga_cli.models.local import LocalBackend

    backend = LocalBackend(families.build("gemma2", tmp_path / "gemma2", embedded_dir))
    check_against_full_passes(backend)
    assert backend._prompts.cache is None  # nothing kept that cannot be cut back exactly


def test_switching_the_adapter_off_and_on_drops_the_cache(tiny_model, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ga_cli.models.local import LocalBackend

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    peft = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    for name, p in peft.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)  # a LoRA that changes the answers
    peft.save_pretrained(tmp_path / "adapter")
    personal = LocalBackend(tiny_model, Path(tmp_path / "adapter"))
    base = LocalBackend(tiny_model)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hi?"}]
    answers = ["Hello.", "Good day to you."]
    with_adapter = personal.answers_logprobs(messages, answers)
    with personal.base_only():
        without = personal.answers_logprobs(messages, answers)
    again = personal.answers_logprobs(messages, answers)
    alone = base.answers_logprobs(messages, answers)
    for i in range(2):
        assert without[i] == pytest.approx(alone[i], abs=1e-4)
        assert with_adapter[i] == pytest.approx(again[i], abs=1e-4)
    assert with_adapter[0] != pytest.approx(without[0], abs=1e-3)
