"""What a GPU machine gives ga's training: LoRA tokens/s, peak memory and MFU on random-weight
models shaped like the bases a principal brings (Qwen2-0.5B, Llama-3.2-1B), with plain PEFT
(transformers + peft, which such a machine has) and Unsloth where it is installed.

No weights are downloaded: each model is built from a config with random weights, which trains
at the same speed as the real one. Run it through bench/gpu_check.sh on the GPU machine; on a
CPU it runs a tiny shape only, to check the script itself (`--smoke`).

Usage: python bench/gpu_check.py [--smoke] [--steps 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any

PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0}  # dense, from the datasheets

SHAPES: dict[str, dict[str, Any]] = {
    "qwen2-0.5b": dict(
        arch="qwen2",
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        vocab_size=151936,
        tie_word_embeddings=True,
    ),
    "llama-1b": dict(
        arch="llama",
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        tie_word_embeddings=True,
    ),
    "smoke": dict(
        arch="llama",
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=1000,
        tie_word_embeddings=True,
    ),
}


def build(shape: dict[str, Any], device: str, dtype: Any) -> Any:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    fields = {k: v for k, v in shape.items() if k != "arch"}
    config = AutoConfig.for_model(shape["arch"], max_position_embeddings=4096, **fields)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config, dtype=dtype).to(device)


def lora_run(name: str, steps: int, batch: int, seq: int, device: str) -> dict[str, Any]:
    """Plain PEFT LoRA (r=16 on every projection), AdamW, bf16 on a GPU: tokens/s and peak
    memory over `steps` steps after 3 warm-up steps."""
    import torch
    from peft import LoraConfig, get_peft_model

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = build(SHAPES[name], device, dtype)
    total = sum(p.numel() for p in model.parameters())
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets))
    if device == "cuda":
        model.gradient_checkpointing_enable()
    model.enable_input_require_grads()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    vocab = SHAPES[name]["vocab_size"]
    ids = torch.randint(0, vocab, (batch, seq), device=device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step() -> float:
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    for _ in range(3):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        last = step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens = steps * batch * seq
    # forward 2N, backward through activations 2N, recompute (checkpointing) 2N: ~6N a token
    flops = 6 * total * tokens
    result = {
        "model": name,
        "params": total,
        "trainable": trainable,
        "batch": batch,
        "seq": seq,
        "steps": steps,
        "tokens_per_s": round(tokens / seconds),
        "seconds_per_step": round(seconds / steps, 4),
        "achieved_tflops": round(flops / seconds / 1e12, 1),
        "loss": round(last, 3),
    }
    if device == "cuda":
        result["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        gpu = torch.cuda.get_device_name(0)
        peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in gpu), None)
        if peak:
            result["mfu"] = round(flops / seconds / 1e12 / peak, 3)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="a tiny shape on whatever is here")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor(),
        "torch": torch.__version__,
        "runs": [],
    }
    import importlib.util

    # looked up, not imported: importing Unsloth patches transformers for the PEFT runs too
    found = importlib.util.find_spec("unsloth") is not None
    report["unsloth"] = "installed (not measured by this script yet)" if found else "not installed"
    plan = (
        [("smoke", 2, 64)] if device == "cpu" else [("qwen2-0.5b", 8, 1024), ("llama-1b", 8, 1024)]
    )
    for name, batch, seq in plan:
        report["runs"].append(lora_run(name, args.steps, batch, seq, device))
        if device == "cuda":
            torch.cuda.empty_cache()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"device {report['device']}, torch {report['torch']}, unsloth {report['unsloth']}")
    for r in report["runs"]:
        print(
            f"{r['model']:<11} PEFT LoRA r=16  {r['tokens_per_s']:>8} tokens/s  "
            f"{r['seconds_per_step']} s/step (batch {r['batch']} x {r['seq']})  "
            f"peak {r.get('peak_gib', '-')} GiB  MFU {r.get('mfu', '-')}"
        )


if __name__ == "__main__":
    main()
