"""GGUF plumbing that needs no model: which engine runs what, the converters' whereabouts, and the
tokenizer view the converter reads."""

from __future__ import annotations

import json
import sys

import pytest

from ga_cli import models
from ga_cli.errors import GaError
from ga_cli.models import gguf_convert

pytestmark = pytest.mark.skipif(
    not gguf_convert.can_convert(), reason="llama.cpp's converters are installed by make install"
)


def _folder(tmp_path, tokenizer: dict | None = None):
    folder = tmp_path / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    if tokenizer is not None:
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    return folder


def test_which_engine_runs_what(tmp_path):
    from ga_cli.models import embedded

    folder = _folder(tmp_path)
    assert models.engine_for("embedded") == "llama.cpp"
    assert models.engine_for(str(embedded.converted_dir())) == "llama.cpp"  # the same model
    assert models.engine_for("embedded", adapter=str(tmp_path / "run" / "adapter")) == "llama.cpp"
    assert models.engine_for(str(folder)) == "transformers"  # other folders: only when asked
    assert models.engine_for(str(folder), engine="llama.cpp") == "llama.cpp"
    assert models.engine_for("embedded", engine="transformers") == "transformers"
    with pytest.raises(GaError, match="GGUF files and model folders"):
        models.engine_for("someorg/some-model", engine="llama.cpp")
    with pytest.raises(GaError, match="takes no --adapter"):
        models.engine_for(str(tmp_path / "m.gguf"), adapter="x")


def test_missing_converters_are_named_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setenv(gguf_convert.CONVERTERS_ENV, str(tmp_path / "nowhere"))
    assert gguf_convert.converters() is None
    with pytest.raises(GaError) as err:
        gguf_convert.lora(tmp_path / "run" / "adapter", str(tmp_path))
    assert "converters" in str(err.value) and "make install" in (err.value.hint or "")
    # the personal model then stays on transformers, unless llama.cpp was asked for
    assert models.engine_for("embedded", adapter="a") == "transformers"
    assert models.engine_for("embedded") == "llama.cpp"  # the shipped GGUF needs no converter
    with pytest.raises(GaError, match="converters"):
        models.engine_for("embedded", adapter="a", engine="llama.cpp")


def test_the_converter_reads_a_gguf_rebuilt_tokenizer_as_byte_level(tmp_path):
    hybrid = {
        "model": {"type": "BPE", "byte_fallback": True, "vocab": {"a": 0}, "merges": []},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}]},
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}]},
    }
    folder = _folder(tmp_path, hybrid)
    with gguf_convert._byte_level_view(folder) as view:
        assert view != folder
        seen = json.loads((view / "tokenizer.json").read_text())
        assert seen["model"]["byte_fallback"] is False and seen["decoder"]["type"] == "ByteLevel"
        assert seen["model"]["vocab"] == {"a": 0}
        assert (view / "model.safetensors").read_bytes() == b"weights"  # a link, not a copy
        assert (view / "model.safetensors").is_symlink()
    assert not view.exists()
    assert json.loads((folder / "tokenizer.json").read_text()) == hybrid  # untouched
    # a sentencepiece-style tokenizer (no byte-level pre-tokenizer) is read as it is
    plain = _folder(tmp_path / "sp", {**hybrid, "pre_tokenizer": {"type": "Metaspace"}})
    with gguf_convert._byte_level_view(plain) as view:
        assert view == plain


def test_unknown_quantization_is_refused(tmp_path):
    with pytest.raises(GaError, match="unknown quantization"):
        gguf_convert.model(_folder(tmp_path), tmp_path / "x.gguf", "q5")
