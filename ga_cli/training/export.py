"""Exports: a merged 16-bit Hugging Face folder, or GGUF through Unsloth where llama.cpp exists."""

from __future__ import annotations

import shutil
from pathlib import Path

from ga_cli.errors import GaError
from ga_cli.training.registry import Run


def merged(run: Run, dest: Path) -> Path:
    if dest.exists() and any(dest.iterdir()):
        raise GaError(f"{dest} is not empty; refusing to overwrite it", "choose an empty directory")
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = run.base_path
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, str(run.adapter)).merge_and_unload()
    model = model.to(torch.bfloat16)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(str(run.adapter)).save_pretrained(tmp)
    if dest.exists():
        dest.rmdir()
    tmp.rename(dest)
    return dest


def llama_cpp_available() -> bool:
    return any(shutil.which(t) for t in ("llama-quantize", "quantize", "llama-cli"))


def gguf(run: Run, dest: Path) -> Path:
    if not llama_cpp_available():
        raise GaError(
            "GGUF export needs llama.cpp's tools (llama-quantize) on PATH, and none were found",
            "build llama.cpp and put its binaries on PATH, or export --merged DIR and "
            "convert it with llama.cpp's convert_hf_to_gguf.py",
        )
    import unsloth  # noqa: F401  - must precede transformers in this process
    from unsloth import FastLanguageModel

    model, tok = FastLanguageModel.from_pretrained(str(run.adapter), load_in_4bit=False)
    model.save_pretrained_gguf(str(dest.with_suffix("")), tok, quantization_method="q8_0")
    return dest
