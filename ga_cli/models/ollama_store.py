"""Models the principal already pulled with Ollama, read from Ollama's own store: `ollama:NAME`
names the GGUF file Ollama runs, found through its manifest, never copied.

The store is `$OLLAMA_MODELS`, else `~/.ollama/models`: `manifests/HOST/NAMESPACE/NAME/TAG`
(JSON; `registry.ollama.ai/library/` for plain names) lists layers, and the layer whose
mediaType is `application/vnd.ollama.image.model` is the weights, at `blobs/sha256-HEX`.
`ollama:llama3.2` means tag `latest`; `ollama:llama3.2:1b`, `ollama:user/model:tag` and
`ollama:host/namespace/model:tag` are read as Ollama reads them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ga_cli.errors import GaError

PREFIX = "ollama:"
MODEL_LAYER = "application/vnd.ollama.image.model"
DEFAULT_HOST, DEFAULT_NAMESPACE, DEFAULT_TAG = "registry.ollama.ai", "library", "latest"
PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # one path part: no `..`, no `/`


@dataclass(frozen=True)
class OllamaModel:
    name: str  # as Ollama names it (`llama3.2:1b`): what a Modelfile's FROM takes
    manifest: Path
    gguf: Path  # the weights blob, a GGUF file
    digest: str  # sha256 of the blob: it names the file, so it identifies the weights


def is_ollama(spec: str) -> bool:
    return spec.startswith(PREFIX)


def store() -> Path:
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models")


def _parts(name: str) -> tuple[str, str, str, str]:
    """(host, namespace, model, tag) of an Ollama model name."""
    path, _, tag = name.partition(":")
    parts = path.split("/")
    if len(parts) > 3 or not all(PART.fullmatch(p) for p in [*parts, tag or DEFAULT_TAG]):
        raise GaError(
            f"`{PREFIX}{name}` is not an Ollama model name",
            "write it as Ollama does: ollama:llama3.2, ollama:llama3.2:1b, ollama:user/model:tag",
        )
    host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) == 3:
        host, namespace = parts[0], parts[1]
    elif len(parts) == 2:
        namespace = parts[0]
    return host, namespace, parts[-1], tag or DEFAULT_TAG


def find(spec: str) -> OllamaModel:
    """The model `ollama:NAME` names in the local store; GaError saying what to do otherwise."""
    name = spec.removeprefix(PREFIX).strip()
    host, namespace, model, tag = _parts(name)
    root = store()
    manifest = root / "manifests" / host / namespace / model / tag
    if not manifest.is_file():
        where = f"{root} (OLLAMA_MODELS)" if os.environ.get("OLLAMA_MODELS") else str(root)
        raise GaError(
            f"Ollama has no model `{name}` in {where}",
            f"pull it first (`ollama pull {name}`), or see `ollama list`",
        )
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers") or []
        digest = next(str(x["digest"]) for x in layers if x.get("mediaType") == MODEL_LAYER)
    except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError) as exc:
        raise GaError(
            f"{manifest}: not an Ollama manifest with a model layer",
            f"pull the model again: ollama pull {name}",
        ) from exc
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexdigest):
        raise GaError(f"{manifest}: the model layer's digest `{digest}` is not a sha256")
    blob = root / "blobs" / f"sha256-{hexdigest}"
    if not blob.is_file():
        raise GaError(f"{blob}: the weights `{name}` names are missing", f"ollama pull {name}")
    short = f"{model}:{tag}" if (host, namespace) == (DEFAULT_HOST, DEFAULT_NAMESPACE) else name
    return OllamaModel(short, manifest, blob, hexdigest)
