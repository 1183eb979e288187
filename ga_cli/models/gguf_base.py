"""A GGUF file (one the principal has, or Ollama's) as a base model to train: dequantised once
into a cached Hugging Face folder that Unsloth and transformers train, while the original file
stays what llama.cpp runs (the folder names it in `ga_source.json`; gguf_convert.base_for).

The chat template and special tokens come from the file's own metadata; a file whose
architecture transformers cannot read, or that has no chat template, is refused before any
training starts, naming the file.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.fileio import cachefill
from ga_cli.progress import Report, Steps

SOURCE_FILE = "ga_source.json"
FORMAT = 2  # of the converted folder; a new one converts again (2: weights as stored, not bf16)
CHATML_END = "<|im_end|>"


def source_of(folder: str | Path) -> Path | None:
    """The GGUF file a converted folder came from (None: not a converted folder)."""
    try:
        data = json.loads((Path(folder).expanduser() / SOURCE_FILE).read_text())
        found = Path(str(data["gguf"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if found.is_file() else None


def metadata(gguf: Path) -> tuple[str, bool]:
    """(architecture, has a chat template) from the file's header."""
    from gguf import GGUFReader

    try:
        fields = GGUFReader(str(gguf)).fields
        arch = fields["general.architecture"]
        name = bytes(arch.parts[arch.data[0]]).decode()
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise GaError(f"{gguf}: not a GGUF model file ({exc})", "give a .gguf model file") from exc
    return name, "tokenizer.chat_template" in fields


def check(gguf: Path) -> None:
    """Refuse, before training, a file transformers cannot dequantise or chat with."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    arch, has_template = metadata(gguf)
    known = sorted(set(GGUF_SUPPORTED_ARCHITECTURES) - {"general", "tokenizer"})  # not models
    if arch not in known:
        raise GaError(
            f"{gguf}: its architecture `{arch}` cannot be trained here (transformers reads "
            f"GGUF files of: {', '.join(known)})",
            "choose a base of one of those families, or its Hugging Face folder",
        )
    if not has_template:
        raise GaError(
            f"{gguf}: the file has no chat template (tokenizer.chat_template)",
            "choose an instruct or chat model's GGUF: ga trains conversations",
        )


def hf_folder(
    gguf: Path, progress: Callable[[str], None] | None = None, report: Report | None = None
) -> Path:
    """The file dequantised into a Hugging Face folder under the cache, made once (keyed by
    the file's path, size and time: a changed file is converted again). `progress` hears what
    happens, `report` its tensor-by-tensor steps."""
    gguf = gguf.expanduser().absolute()  # a symlink stays itself: its path names the file
    key = cachefill.file_key(gguf, FORMAT)
    target = paths.cache_dir() / "models" / f"{gguf.stem[:60]}-{key}"

    def convert(tmp: Path) -> None:
        check(gguf)
        if progress:
            progress(f"Converting {gguf.name} to a cached Hugging Face folder (once): {target}")
        dequantise(gguf, tmp, report=report)
        (tmp / SOURCE_FILE).write_text(json.dumps({"gguf": str(gguf)}) + "\n")

    return cachefill.fill_dir(target, convert, ready=complete)


def complete(target: Path) -> bool:
    return (target / "config.json").is_file() and (target / "model.safetensors").is_file()


def dequantise(
    source: Path,
    out: Path,
    eos: str | None = None,
    pad: str | None = None,
    report: Report | None = None,
) -> None:
    """Write the GGUF's weights (as stored: `stored_dtype`) and tokenizer to `out`. The
    tokenizer transformers rebuilds is repaired against llama.cpp's reading of the file: its
    control tokens stay special (a SentencePiece file's `<start_of_turn>` can come back as
    plain text), a turn ends on the token the template closes an answer with (`<|im_end|>`,
    `<end_of_turn>`, ...; some files name another eos), and generation stops on every
    end-of-generation token llama.cpp stops on. Settings the file lacks are set to what
    llama.cpp computes (`_as_llama_cpp_runs_it`). `eos` and `pad` override."""
    from ga_cli.models.gguf_vocab import GgufVocab
    from ga_cli.models.local import quiet_transformers

    quiet_transformers()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    vocab = GgufVocab(source)
    tok = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    special = set(tok.all_special_tokens)
    lost = [text for text in vocab.controls().values() if text and text not in special]
    if lost:
        tok.add_special_tokens({"additional_special_tokens": lost})
    for role, token in (
        ("bos_token", vocab.model.token_bos()),
        ("eos_token", vocab.model.token_eos()),
    ):
        if token >= 0:  # the file's own, whatever transformers made of them
            setattr(tok, role, str(vocab.model.token_get_text(token)))
    ends = vocab.end_ids()
    tok.eos_token = eos or _turn_end(tok, vocab, ends) or tok.eos_token
    if pad or tok.pad_token is None:
        tok.pad_token = pad or tok.eos_token
    tok.clean_up_tokenization_spaces = False  # BPE: cleanup would strip spaces before ","
    with tensor_steps(report, f"converting {source.name} (once)"):  # no raw tqdm
        quantised = AutoModelForCausalLM.from_pretrained(
            str(source.parent), gguf_file=source.name, dtype=torch.float32
        )
    # The loaded model carries a GGUF quantiser that refuses save_pretrained: copy the
    # weights into a fresh model built from the same config.
    _as_llama_cpp_runs_it(quantised.config)
    fresh = AutoModelForCausalLM.from_config(quantised.config, dtype=stored_dtype(source))
    fresh.load_state_dict(quantised.state_dict())
    fresh.generation_config.eos_token_id = sorted({tok.eos_token_id, *ends})
    fresh.generation_config.pad_token_id = tok.pad_token_id
    fresh.save_pretrained(out)
    tok.save_pretrained(out)
    strip_quantization(out / "config.json")


# Gemma's attention scale is not in a GGUF file: llama.cpp takes 1/sqrt(head_dim), or
# 1/sqrt(hidden/heads) for the 27B models (by their layer count); transformers' reader would
# leave its config default (256) and score every head differently
_GEMMA_27B_LAYERS = {"gemma2": 46, "gemma3_text": 62, "gemma3": 62}


def _as_llama_cpp_runs_it(config: Any) -> None:
    """Settings the file does not carry, set to what llama.cpp computes for it."""
    big = _GEMMA_27B_LAYERS.get(getattr(config, "model_type", ""))
    if big is None or not hasattr(config, "query_pre_attn_scalar"):
        return
    if config.num_hidden_layers == big:
        config.query_pre_attn_scalar = config.hidden_size // config.num_attention_heads
    else:
        config.query_pre_attn_scalar = config.head_dim


def stored_dtype(source: Path) -> Any:
    """The dtype that keeps the file's weights as they are: f16 or f32 files exactly (bf16 has
    3 fewer mantissa bits than f16, enough to change a greedy answer), a quantized file in
    bf16 (its quantization error is far larger)."""
    import torch
    from gguf import GGMLQuantizationType as Q
    from gguf import GGUFReader

    kinds = {t.tensor_type for t in GGUFReader(str(source)).tensors if len(t.shape) > 1}
    if kinds <= {Q.F32}:
        return torch.float32
    if kinds <= {Q.F16, Q.F32}:
        return torch.float16
    return torch.bfloat16


def _turn_end(tok: Any, vocab: Any, ends: list[int]) -> str | None:
    """The token the chat template closes an assistant answer with, when it is one llama.cpp
    ends generation on (None: the template says nothing clear)."""
    mark = "\ue000ga-answer\ue001"
    try:
        text = tok.apply_chat_template(
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": mark}],
            tokenize=False,
        )
    except Exception:  # a template that refuses this shape: keep the file's eos
        return None
    after = str(text).split(mark, 1)[-1] if mark in str(text) else ""
    ids = vocab(after.strip(), split_special_tokens=False)["input_ids"] if after.strip() else []
    if ids and ids[0] in ends:
        return str(vocab.model.token_get_text(ids[0]))
    return CHATML_END if CHATML_END in str(getattr(tok, "chat_template", "") or "") else None


@contextmanager
def tensor_steps(report: Report | None, stage: str) -> Iterator[None]:
    """transformers draws its GGUF de-quantising bar with tqdm directly (no setting turns it
    off): while the weights load, that tqdm becomes ga's own progress, one step a tensor."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    def counted(items: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        items = list(items)
        step = Steps(report, stage, len(items))
        for item in items:
            yield item
            step()

    drawn = gguf_utils.tqdm
    gguf_utils.tqdm = counted
    try:
        yield
    finally:
        gguf_utils.tqdm = drawn


def strip_quantization(config: Path) -> None:
    """The weights are dequantised; a leftover GGUF quantization_config would make transformers
    treat the folder as quantised (and refuse to train it)."""
    data = json.loads(config.read_text())
    if "quantization_config" in data:
        del data["quantization_config"]
        config.write_text(json.dumps(data, indent=2) + "\n")
