"""Any base the principal has (issue 26 item 1, first part): a GGUF file, or a model Ollama
pulled (`ollama:NAME`, read from Ollama's own store through its manifest, never copied),
trained on after a one-time dequantisation while the original file stays what llama.cpp runs.

The store here is a real layout (manifests/registry.ollama.ai/library/NAME/TAG and
blobs/sha256-HEX) holding a GGUF made in the test from the tiny random model."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import REPO, run_ga

from ga_cli.errors import GaError


@pytest.fixture
def tiny_gguf(tiny_model) -> Path:
    """The tiny test model as one f16 GGUF file (made once, cached like the model)."""
    from ga_cli.models import gguf_convert

    target = REPO / ".cache" / "test" / "tiny-llama-f16.gguf"
    if not target.is_file():
        gguf_convert.model(tiny_model, target, "f16")
    return target


def pull(store: Path, name: str, gguf: Path, tag: str = "latest", ns: str = "library") -> str:
    """What `ollama pull` leaves: a blob named by its sha256, and a manifest pointing to it."""
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    blob = store / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    if not blob.exists():
        blob.symlink_to(gguf)
    manifest = store / "manifests" / "registry.ollama.ai" / ns / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"},
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
    ]
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}))
    return digest


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "ollama-models"
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    return root


def test_ollama_names_resolve_through_the_manifest(store, tiny_gguf):
    from ga_cli import registry
    from ga_cli.models import ollama_store

    digest = pull(store, "tiny", tiny_gguf)
    pull(store, "tiny", tiny_gguf, tag="q8")
    pull(store, "mine", tiny_gguf, ns="sam")
    found = ollama_store.find("ollama:tiny")
    assert (found.name, found.digest) == ("tiny:latest", digest)
    assert found.gguf == store / "blobs" / f"sha256-{digest}"  # the store's file, not a copy
    assert ollama_store.find("ollama:tiny:q8").name == "tiny:q8"
    assert ollama_store.find("ollama:sam/mine").name == "sam/mine"
    assert registry.resolve("ollama:tiny").spec == "ollama:tiny"  # one resolver for every name
    with pytest.raises(GaError) as missing:
        registry.resolve("ollama:llama3.2:1b")
    assert "Ollama has no model `llama3.2:1b`" in missing.value.message
    assert "ollama pull llama3.2:1b" in (missing.value.hint or "")
    with pytest.raises(GaError, match="is not an Ollama model name"):
        ollama_store.find("ollama:../../etc/passwd")
    bad = store / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.license"}]}))
    with pytest.raises(GaError, match="not an Ollama manifest with a model layer"):
        ollama_store.find("ollama:broken")


def test_ask_runs_the_ollama_file_on_llama_cpp(store, tiny_gguf, ledger):
    pull(store, "tiny", tiny_gguf)
    env = {"OLLAMA_MODELS": str(store)}
    r = run_ga("ask", "-m", "ollama:tiny", "hi", "--max-tokens", "3", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model"] == "ollama:tiny:latest"
    r = run_ga("ask", "-m", "ollama:tiny", "hi", "--engine", "transformers", env=env)
    assert r.returncode == 1 and "llama.cpp runs it, transformers does not" in r.stderr


def test_a_gguf_that_cannot_train_is_refused_before_training(ga, ledger, tmp_path):
    import gguf

    def write(path: Path, arch: str, template: bool) -> Path:
        w = gguf.GGUFWriter(str(path), arch)
        if template:
            w.add_chat_template("{{ messages }}")
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return path

    ga("correct", "--prompt", "p", "--rejected", "r", "--chosen", "c", "--why", "w")
    odd = write(tmp_path / "odd.gguf", "nonesuch", template=True)
    r = run_ga("train", "--base", str(odd))
    assert r.returncode == 1 and f"{odd}: its architecture `nonesuch` cannot be trained" in r.stderr
    plain = write(tmp_path / "plain.gguf", "llama", template=False)
    r = run_ga("train", "--base", str(plain))
    assert r.returncode == 1 and "has no chat template (tokenizer.chat_template)" in r.stderr
    r = run_ga("train", "--base", "openai/gpt-4o-mini")
    assert r.returncode == 1 and "it is a remote provider" in r.stderr
    assert not any((Path(os.environ["GA_HOME"]) / "models").glob("r-*"))  # nothing trained


@pytest.mark.slow
def test_train_on_an_ollama_model_then_export_it_to_ollama(
    ga, ledger, store, tiny_gguf, tiny_model, tmp_path
):
    from test_train import recipe

    from ga_cli import registry
    from ga_cli.models import gguf_base

    digest = pull(store, "tiny", tiny_gguf)
    blob = store / "blobs" / f"sha256-{digest}"
    for i in range(4):
        ga("correct", "--prompt", f"Q{i}?", "--rejected", "No.", "--chosen", f"Yes {i}.")
    rec = recipe(tmp_path, tiny_model, sft_steps=2, dpo=False)
    env = {"OLLAMA_MODELS": str(store)}
    r = run_ga("train", "--recipe", str(rec), "--base", "ollama:tiny", "--force", "--json",
               env=env, timeout=900)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads(r.stdout)
    assert info["base_model"] == "ollama:tiny"  # the run says which base, as it was named
    folder = Path(info["base_model_path"])
    assert gguf_base.source_of(folder) == blob  # converted once; the blob is its source
    assert not any(p.is_file() and p.suffix == ".gguf" for p in folder.iterdir())  # no copy
    backend = registry.current().backend()  # llama.cpp runs Ollama's file, the adapter on top
    assert Path(backend.model_path) == blob
    out = tmp_path / "export"
    r = run_ga("export", "current", "--ollama", str(out), env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    modelfile = (out / "Modelfile").read_text()
    assert "FROM tiny:latest\n" in modelfile and "ADAPTER ./adapter.gguf" in modelfile
    assert not (out / "base.gguf").exists() and (out / "adapter.gguf").is_file()
    assert "TEMPLATE" not in modelfile  # Ollama's model keeps its own template
