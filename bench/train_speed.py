"""Training tokens/s: Unsloth (ga's trainer path) against plain Hugging Face (transformers
Trainer + PEFT), same model, data, LoRA settings and batch, each in its own process (Unsloth
patches transformers process-wide). Reported as a ratio from one run.

CPU (default): the embedded SmolLM2-135M (`--shape 1b`: the 1B model below, what a principal's
own base costs on a laptop). The plain-HF side uses transformers' Trainer with the same
prompt/completion masking, because TRL 1.15's trainers crash on a CPU without Triton.
GPU (--device cuda): a randomly initialised 1B Llama-shaped model (TinyLlama's shape), bf16; adds
peak VRAM and model FLOPs utilisation against the card's bf16 dense peak (--peak-tflops, 989 for
an H100 SXM). Run it as one script on a GPU machine. Every worker reports its peak resident
memory. `--checkpointing` adds Unsloth with its gradient checkpointing (a recipe's
`gradient_checkpointing: true`) and reports its tokens/s and peak memory against Unsloth without.

Usage: python bench/train_speed.py [--device cpu|cuda] [--shape 135m|1b] [--steps 8] [--batch 4]
       [--seq 256] [--checkpointing] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SAMPLE = (
    "Explain, in a few sentences, why the principal prefers short answers with a concrete "
    "next step, and give an example about planning a week of work. "
) * 6


def build_model_dir(device: str, shape: str | None = None) -> str:
    if (shape or ("135m" if device == "cpu" else "1b")) == "135m":
        from ga_cli.models import embedded

        return str(embedded.ensure_converted())
    import tempfile

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from ga_cli.models import embedded

    tok_dir = embedded.ensure_converted()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_dir)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=2048,
        intermediate_size=5632,
        num_hidden_layers=22,
        num_attention_heads=32,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
    )
    out = tempfile.mkdtemp(prefix="ga-1b-")
    LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def worker(engine: str, model_dir: str, device: str, steps: int, batch: int, seq: int) -> dict:
    late, checkpointing = engine == "unsloth-late", engine == "unsloth-ckpt"
    named = engine
    if late:  # the order `ga train` had when it converted the embedded model first
        import transformers  # noqa: F401
    if late or checkpointing:
        engine = "unsloth"
    if engine == "unsloth":
        import unsloth  # noqa: F401  - before transformers
        from unsloth import FastLanguageModel
    import torch
    from datasets import Dataset

    rows = [
        {
            "prompt": [{"role": "user", "content": f"Question {i}: plan my week."}],
            "completion": [{"role": "assistant", "content": SAMPLE}],
        }
        for i in range(steps * batch)
    ]
    lora = dict(
        r=16,
        lora_alpha=32,
        lora_dropout=0.0,
        target_modules=[
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
    )
    common = dict(
        output_dir="/tmp/ga-speed-" + engine,
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=2e-4,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        use_cpu=device == "cpu",
        bf16=device == "cuda",
        gradient_checkpointing=False,
    )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    if engine == "unsloth":
        from trl import SFTConfig, SFTTrainer

        ckpt = "unsloth" if checkpointing else False
        model, tok = FastLanguageModel.from_pretrained(
            model_dir,
            max_seq_length=seq,
            load_in_4bit=False,
            dtype=None,
            use_gradient_checkpointing=ckpt,
        )
        model = FastLanguageModel.get_peft_model(
            model, use_gradient_checkpointing=ckpt, random_state=0, **lora
        )
        trainer = SFTTrainer(
            model=model,
            processing_class=tok,
            train_dataset=Dataset.from_list(rows),
            args=SFTConfig(max_length=seq, completion_only_loss=True, **common),
        )
    else:
        from peft import LoraConfig, get_peft_model
        from transformers import (
            AutoModelForCausalLM,
            AutoTokenizer,
            DataCollatorForSeq2Seq,
            Trainer,
            TrainingArguments,
        )

        tok = AutoTokenizer.from_pretrained(model_dir)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora))

        def encode(r: dict) -> dict:
            p = tok.apply_chat_template(
                r["prompt"], add_generation_prompt=True, tokenize=True, return_dict=True
            )["input_ids"]
            full = tok.apply_chat_template(
                r["prompt"] + r["completion"], tokenize=True, return_dict=True
            )["input_ids"][:seq]
            return {
                "input_ids": full,
                "attention_mask": [1] * len(full),
                "labels": [-100] * min(len(p), len(full)) + full[len(p) :],
            }

        data = Dataset.from_list([encode(r) for r in rows])
        trainer = Trainer(
            model=model,
            args=TrainingArguments(**common),
            train_dataset=data,
            data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        )
    n_tokens = sum(len(x) for x in trainer.get_train_dataloader().dataset["input_ids"])
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in model.parameters())
    out = {
        "engine": named,
        "seconds": seconds,
        "tokens": n_tokens,
        "tokens_per_s": n_tokens / seconds,
        "params": n_params,
    }
    import resource

    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if device == "cuda":
        out["peak_vram_gb"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--shape", choices=["135m", "1b"], help="default: 135m on cpu, 1b on cuda")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    ap.add_argument(
        "--import-order",
        action="store_true",
        help="Also run Unsloth imported "
        "after transformers (its patches may not apply) and report the ratio.",
    )
    ap.add_argument(
        "--checkpointing",
        action="store_true",
        help="Also run Unsloth with gradient checkpointing and report its cost and memory.",
    )
    ap.add_argument("--worker", choices=["unsloth", "hf", "unsloth-late", "unsloth-ckpt"])
    ap.add_argument("--model-dir")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.worker:
        print(
            "RESULT "
            + json.dumps(
                worker(args.worker, args.model_dir, args.device, args.steps, args.batch, args.seq)
            )
        )
        return
    model_dir = build_model_dir(args.device, args.shape)
    results = {}
    more = (["unsloth-late"] if args.import_order else []) + (
        ["unsloth-ckpt"] if args.checkpointing else []
    )
    for engine in ("hf", "unsloth", *more):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                engine,
                "--model-dir",
                model_dir,
                "--device",
                args.device,
                "--steps",
                str(args.steps),
                "--batch",
                str(args.batch),
                "--seq",
                str(args.seq),
            ],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if not line:
            sys.exit(f"{engine} failed:\n{proc.stderr[-3000:]}")
        results[engine] = json.loads(line[-1][7:])
    ratio = results["unsloth"]["tokens_per_s"] / results["hf"]["tokens_per_s"]
    summary = {
        "device": args.device,
        "shape": args.shape or ("135m" if args.device == "cpu" else "1b"),
        "steps": args.steps,
        "batch": args.batch,
        "results": results,
        "unsloth_speedup": ratio,
    }
    if "unsloth-late" in results:
        summary["import_order_speedup"] = (
            results["unsloth"]["tokens_per_s"] / results["unsloth-late"]["tokens_per_s"]
        )
    if "unsloth-ckpt" in results:
        on, off = results["unsloth-ckpt"], results["unsloth"]
        summary["checkpointing_speed"] = on["tokens_per_s"] / off["tokens_per_s"]
        summary["checkpointing_peak_rss"] = on["peak_rss_gb"] / off["peak_rss_gb"]
    if args.device == "cuda":
        for r in results.values():
            r["mfu"] = 6 * r["params"] * r["tokens_per_s"] / (args.peak_tflops * 1e12)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for name, r in results.items():
        extra = (
            f", peak VRAM {r['peak_vram_gb']:.1f} GB, MFU {r['mfu']:.1%}"
            if args.device == "cuda"
            else ""
        )
        print(
            f"{name:<8} {r['tokens_per_s']:8.1f} tokens/s ({r['tokens']} tokens in "
            f"{r['seconds']:.1f} s, peak RSS {r['peak_rss_gb']:.2f} GiB){extra}"
        )
    print(f"Unsloth / plain HF: {ratio:.2f}x")
    if "checkpointing_speed" in summary:
        print(
            f"Unsloth with / without checkpointing: {summary['checkpointing_speed']:.2f}x the "
            f"tokens/s, {summary['checkpointing_peak_rss']:.2f}x the peak RSS"
        )
    if "import_order_speedup" in summary:
        print(f"Unsloth first / Unsloth after transformers: {summary['import_order_speedup']:.2f}x")


if __name__ == "__main__":
    main()
