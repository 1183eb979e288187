"""Exports of a personal model for other engines: a merged 16-bit Hugging Face folder, one GGUF
file (the adapter merged in; f16, q8_0 or q4_k_m), or an Ollama folder (the base as GGUF, the
adapter as a GGUF adapter, and a Modelfile). GGUF files are made by llama.cpp's own converters
(`models/gguf_convert.py`), offline; a run on a GGUF base is exported from that file
(`models/gguf_merge.py`: the GGUF adapter merged in GGUF's own tensor space), so it keeps the
file's tokenizer and chat template exactly."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ga_cli.errors import GaError
from ga_cli.fileio import atomic_write
from ga_cli.models import gguf_base, gguf_convert, gguf_merge
from ga_cli.models.base import ANSWER_MAX_TOKENS, ANSWER_REPETITION_PENALTY
from ga_cli.registry import Run

# Ollama's own ChatML template (its template/chatml.gotmpl), for models whose chat template is
# ChatML (the embedded SmolLM2 is); others keep the template Ollama reads from the GGUF.
CHATML = """{{- if .Messages }}
{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ else }}
{{ if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ .Response }}<|im_end|>
{{- end }}"""


def merged(run: Run, dest: Path) -> Path:
    _empty(dest)
    from ga_cli.models.local import quiet_transformers

    quiet_transformers()
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


def gguf(run: Run, dest: Path, quant: str = "q8_0") -> Path:
    """One GGUF file: the adapter merged into the base model, then converted (and quantized)."""
    gguf_convert.check_quant(quant)
    if dest.exists():
        raise GaError(f"{dest} exists; refusing to overwrite it", "choose another file name")
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = gguf_base.source_of(run.base_path)
    if source is not None:
        lora = gguf_convert.lora(run.adapter, run.base_path)
        return _from_source_gguf(source, dest, quant, lora)
    with tempfile.TemporaryDirectory(prefix=".ga-export-", dir=dest.parent) as tmp:
        folder = merged(run, Path(tmp) / "merged")
        return gguf_convert.model(folder, dest, quant)


def _from_source_gguf(source: Path, dest: Path, quant: str, lora: Path | None) -> Path:
    """A GGUF base exported from its own file (its tokenizer and template as they are):
    merged with the GGUF adapter `lora` in f16, then quantized if asked."""
    if quant == "f16":
        return gguf_merge.f16(source, dest, lora)
    with tempfile.TemporaryDirectory(prefix=".ga-export-", dir=dest.parent) as tmp:
        merged_f16 = gguf_merge.f16(source, Path(tmp) / "merged-f16.gguf", lora)
        partial = Path(tmp) / "quantized.gguf"
        gguf_convert.quantize(merged_f16, partial, quant)
        os.replace(partial, dest)
    return dest


def ollama(run: Run, folder: Path, system: str | None, quant: str = "q8_0") -> Path:
    """An Ollama folder: adapter.gguf (f16), a Modelfile for `ollama create NAME -f
    Modelfile`, and base.gguf (the base model at `quant`) unless the base is a model Ollama
    already has (`ollama:NAME`): then FROM names it, and nothing is copied. Returns the
    Modelfile's path."""
    gguf_convert.check_quant(quant)
    _empty(folder)
    folder.mkdir(parents=True, exist_ok=True)
    from_ollama = ollama_base(run)
    source = gguf_base.source_of(run.base_path)
    if from_ollama is None and source is not None:
        _from_source_gguf(source, folder / "base.gguf", quant, lora=None)
    elif from_ollama is None:
        gguf_convert.model(Path(run.base_path), folder / "base.gguf", quant)
    shutil.copyfile(gguf_convert.lora(run.adapter, run.base_path), folder / "adapter.gguf")
    atomic_write(folder / "Modelfile", modelfile(run, system, from_ollama).encode())
    return folder / "Modelfile"


def ollama_base(run: Run) -> str | None:
    """The name Ollama knows the run's base by, when it was trained on `ollama:NAME`."""
    from ga_cli.models import ollama_store

    spec = run.info.base_model
    return ollama_store.find(spec).name if ollama_store.is_ollama(spec) else None


def modelfile(run: Run, system: str | None, from_ollama: str | None = None) -> str:
    """The Modelfile (Ollama's documented syntax): the adapter on base.gguf beside it, or on
    the Ollama model `from_ollama` (whose template and stop words it keeps)."""
    from ga_cli.models.local import quiet_transformers

    quiet_transformers()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(run.adapter))
    template = str(getattr(tok, "chat_template", "") or "")
    lines = [
        f"# {run.id}: the personal model ga trained, exported by `ga export --ollama`",
        f"FROM {from_ollama or './base.gguf'}",
        "ADAPTER ./adapter.gguf",
    ]
    if from_ollama is None and "<|im_start|>" in template:
        lines.append(f'TEMPLATE """{CHATML}"""')
    stop = "<|im_end|>" if "<|im_start|>" in template else tok.eos_token
    if stop and from_ollama is None:
        lines.append(f'PARAMETER stop "{stop}"')
    lines.append(f"PARAMETER repeat_penalty {ANSWER_REPETITION_PENALTY}")
    lines.append(f"PARAMETER num_predict {ANSWER_MAX_TOKENS}")
    if system:
        if '"""' in system:
            raise GaError(
                'the system prompt contains """, which a Modelfile cannot quote',
                "edit the ledger entry that holds it, or export without --ollama",
            )
        lines.append(f'SYSTEM """{system}"""')
    return "\n".join(lines) + "\n"


def _empty(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise GaError(f"{dest} is not empty; refusing to overwrite it", "choose an empty directory")
