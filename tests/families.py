"""Tiny random-weight models of the common chat families, built from configs (no download), each
with a tokenizer whose chat template and special tokens are that family's: the embedded model's
byte-level BPE where the family uses BPE (Llama 3, Qwen2), a SentencePiece model trained here on a
few KB of the project's own docs where it uses SentencePiece (Mistral, Gemma 2, Phi-3).

`build(family, folder)` writes a Hugging Face folder (config, weights, tokenizer files including
`tokenizer.model` for llama.cpp's converter). Weights are drawn with a wide initialiser so the
greedy choice has a clear margin: f16 on llama.cpp and f32 on transformers then pick the same
token, which is what the matrix compares.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

LLAMA3 = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>"
    "\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
QWEN2 = (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant."
    "<|im_end|>\n{% endif %}{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Mistral and Gemma have no system role: the system text opens the first user turn.
_SYSTEM_FIRST = (
    "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
    "{% set turns = messages[1:] %}{% else %}{% set system = '' %}{% set turns = messages %}"
    "{% endif %}"
)
MISTRAL = _SYSTEM_FIRST + (
    "{{ bos_token }}{% for m in turns %}{% if m['role'] == 'user' %}[INST] "
    "{% if loop.first and system %}{{ system }}\n\n{% endif %}{{ m['content'] }}[/INST]"
    "{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
)
GEMMA = _SYSTEM_FIRST + (
    "{{ bos_token }}{% for m in turns %}<start_of_turn>"
    "{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{% if loop.first and system %}{{ system }}\n\n{% endif %}{{ m['content'] | trim }}"
    "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
PHI3 = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


# the shape of every tiny test model (conftest's tiny_model too): 2 layers of 64
TINY: dict[str, int] = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=1024,
)


@dataclass(frozen=True)
class Family:
    name: str  # the test id
    arch: str  # general.architecture in the GGUF
    template: str
    marker: str  # a control token a message could try to forge
    end: str  # the token that ends an assistant turn
    sentencepiece: bool = False
    specials: dict[str, str] = field(default_factory=dict)  # bos/eos/unk/pad
    added: tuple[str, ...] = ()  # control tokens added on top of the base vocabulary


FAMILIES = {
    f.name: f
    for f in (
        Family(
            "llama",
            "llama",
            LLAMA3,
            "<|start_header_id|>",
            "<|eot_id|>",
            specials={"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
            added=("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
        ),
        Family(
            "qwen2",
            "qwen2",
            QWEN2,
            "<|im_start|>",
            "<|im_end|>",
            specials={"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
        ),
        Family(
            "mistral",
            "llama",
            MISTRAL,
            "[INST]",
            "</s>",
            sentencepiece=True,
            added=("[INST]", "[/INST]"),
        ),
        Family(
            "gemma2",
            "gemma2",
            GEMMA,
            "<start_of_turn>",
            "<end_of_turn>",
            sentencepiece=True,
            specials={
                "bos_token": "<bos>",
                "eos_token": "<end_of_turn>",
                "unk_token": "<unk>",
                "pad_token": "<pad>",
            },
            added=("<start_of_turn>", "<end_of_turn>"),
        ),
        Family(
            "phi3",
            "phi3",
            PHI3,
            "<|user|>",
            "<|end|>",
            sentencepiece=True,
            specials={"eos_token": "<|end|>", "pad_token": "<|endoftext|>"},
            added=("<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"),
        ),
    )
}


def _corpus() -> list[str]:
    """A few KB of English: the project's own docs, line by line (deterministic)."""
    lines: list[str] = []
    for doc in sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]:
        lines += [ln.strip() for ln in doc.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines[:1500]


def _sentencepiece(family: Family, out: Path) -> None:
    """Train a small SentencePiece model (byte fallback on, as the real families have)."""
    import sentencepiece as spm

    gemma = family.name.startswith("gemma")
    ids = (
        {"pad_id": 0, "eos_id": 1, "bos_id": 2, "unk_id": 3}
        if gemma
        else {"unk_id": 0, "bos_id": 1, "eos_id": 2, "pad_id": -1}
    )
    pieces = {"pad_piece": "<pad>", "eos_piece": "<eos>", "bos_piece": "<bos>"} if gemma else {}
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_corpus()),
        model_writer=buffer,
        vocab_size=1000,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        control_symbols=list(family.added) if family.name != "phi3" else [],
        add_dummy_prefix=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        minloglevel=2,
        **ids,
        **pieces,
    )
    (out / "tokenizer.model").write_bytes(buffer.getvalue())


def _tokenizer(family: Family, folder: Path, embedded: Path) -> Any:
    from transformers import AutoTokenizer

    if not family.sentencepiece:
        tok = AutoTokenizer.from_pretrained(embedded)
        new = [t for t in family.added if t not in tok.get_vocab()]
        if new:
            tok.add_special_tokens({"additional_special_tokens": new})
    else:
        _sentencepiece(family, folder)
        cls = "GemmaTokenizer" if family.name.startswith("gemma") else "LlamaTokenizer"
        (folder / "tokenizer_config.json").write_text(
            json.dumps({"tokenizer_class": cls, "add_bos_token": False, "legacy": False})
        )
        tok = AutoTokenizer.from_pretrained(folder)
        if family.name == "phi3":  # Phi-3's turn tokens sit above the SentencePiece vocabulary
            tok.add_special_tokens({"additional_special_tokens": list(family.added)})
    for key, value in family.specials.items():
        setattr(tok, key, value)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.chat_template = family.template
    return tok


def _config(family: Family, tok: Any) -> Any:
    import transformers as tf

    common: dict[str, Any] = dict(
        vocab_size=len(tok),
        **TINY,
        initializer_range=0.2,  # a clear argmax margin (see the module's docstring)
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    if family.name == "llama":
        return tf.LlamaConfig(**common, tie_word_embeddings=True)
    if family.name == "qwen2":
        return tf.Qwen2Config(**common, tie_word_embeddings=True)
    if family.name == "mistral":
        return tf.MistralConfig(**common, tie_word_embeddings=False, sliding_window=None)
    if family.name == "gemma2":
        return tf.Gemma2Config(**common, head_dim=16, query_pre_attn_scalar=16, sliding_window=512)
    return tf.Phi3Config(**common, tie_word_embeddings=False)


def build(name: str, folder: Path, embedded: Path) -> Path:
    """A tiny random `name`-family chat model as a Hugging Face folder at `folder`."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    family = FAMILIES[name]
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tok = _tokenizer(family, tmp, embedded)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(_config(family, tok), dtype=torch.float32)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    tmp.rename(folder)
    return folder


_PINNED_PRE = """\
import runpy, sys
sys.path[:0] = [{real!r}, {real!r} + "/gguf-py"]
import conversion.base
conversion.base.TextModel.get_vocab_base_pre = lambda self, tokenizer: {pre!r}
sys.argv[0] = {real!r} + "/convert_hf_to_gguf.py"
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def to_gguf(name: str, folder: Path, dest: Path) -> Path:
    """The family's folder as an f16 GGUF, by llama.cpp's converter. llama.cpp names a BPE
    pre-tokenizer by the hash of its output on a probe text; Qwen2's regex over the embedded
    model's vocabulary is a pair it has never seen, so for qwen2 the converter is run with
    that name pinned ("qwen2": the same regex llama.cpp applies to a real Qwen2)."""
    import pytest

    from ga_cli.models import gguf_convert

    real = gguf_convert.converters()
    assert real is not None, "llama.cpp's converters are installed by make install"
    with pytest.MonkeyPatch.context() as env:
        if name == "qwen2":
            _pin(real, dest.parent / f"{name}-converters", "qwen2", env)
        return gguf_convert.model(folder, dest, "f16")


def _pin(real: Path, pinned: Path, pre: str, env: Any) -> None:
    """A converters folder like `real` whose convert_hf_to_gguf.py names the pre-tokenizer
    `pre`; `env` points ga at it."""
    from ga_cli.models import gguf_convert

    pinned.mkdir(exist_ok=True)
    for entry in real.iterdir():
        link = pinned / entry.name
        if entry.name != "convert_hf_to_gguf.py" and not link.exists():
            link.symlink_to(entry)
    script = _PINNED_PRE.format(real=str(real), pre=pre)
    (pinned / "convert_hf_to_gguf.py").write_text(script)
    env.setenv(gguf_convert.CONVERTERS_ENV, str(pinned))
