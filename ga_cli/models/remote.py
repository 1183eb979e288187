"""Any litellm provider: openai/..., anthropic/..., ollama/..., or openai/NAME at an --api-base."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

from ga_cli.errors import GaError, ProviderError
from ga_cli.models.base import Cancel, GenerationParams, Message, StopScanner, Usage

PROVIDERS = (
    "openai",
    "anthropic",
    "ollama",
    "ollama_chat",
    "gemini",
    "vertex_ai",
    "mistral",
    "groq",
    "together_ai",
    "openrouter",
    "azure",
    "bedrock",
    "deepseek",
    "xai",
    "cohere",
    "huggingface",
    "fireworks_ai",
    "perplexity",
    "cerebras",
    "hosted_vllm",
    "lm_studio",
    "litellm_proxy",
    "text-completion-openai",
)


OLLAMA_DEFAULT = "http://localhost:11434"


def is_provider_string(spec: str) -> bool:
    return "/" in spec and spec.split("/", 1)[0] in PROVIDERS


def tiktoken_offline() -> None:
    """tiktoken downloads its BPE files; litellm ships them. Point tiktoken there."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("litellm")
    if spec and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
        folder = folder / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)


def tiktoken_encoding() -> Any:
    """o200k_base, offline (token counts for hosted models and for comparison)."""
    tiktoken_offline()
    import tiktoken

    return tiktoken.get_encoding("o200k_base")


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map download
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class RemoteBackend:
    engine = "litellm"
    remote = True  # a provider's model: ga never trained it (prompting.corrections_mode)
    model_path = None

    def __init__(
        self,
        model: str,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
    ):
        self.litellm = _litellm()
        self.name = model
        if not api_base and model.split("/", 1)[0] in ("ollama", "ollama_chat"):
            api_base = os.environ.get("OLLAMA_API_BASE") or OLLAMA_DEFAULT  # Ollama's own default
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        self.usage = Usage()
        self.context_window = self._context_window()
        if not api_base:
            env = self.litellm.validate_environment(model=model)
            missing = env.get("missing_keys") or []
            if missing:
                raise GaError(
                    f"model `{model}` needs the environment variable {missing[0]}",
                    f"export {missing[0]}=... (it is never stored in the ledger)",
                )
        self._count: Callable[[str], int] | None = None

    def _context_window(self) -> int:
        try:
            info = self.litellm.get_model_info(self.name)
            return int(info.get("max_input_tokens") or info.get("max_tokens") or 8192)
        except Exception:
            return 8192

    def count_tokens(self, text: str) -> int:
        if self._count is None:
            self._count = token_counter()
        return self._count(text)

    def _call(self, messages: list[Message], params: GenerationParams, stream: bool) -> Any:
        kwargs: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "stream": stream,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "timeout": self.timeout,
            "num_retries": 0,
        }
        if params.stop:
            kwargs["stop"] = params.stop
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if self.api_base:
            kwargs["api_base"] = self.api_base
            kwargs["api_key"] = self.api_key or os.environ.get("OPENAI_API_KEY") or "none"
        if stream:
            kwargs["stream_options"] = {"include_usage": True}
        try:
            return self.litellm.completion(**kwargs)
        except Exception as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: Exception) -> GaError:
        lt = self.litellm
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else 502
        if isinstance(exc, lt.AuthenticationError):
            return ProviderError(
                f"{self.name}: the provider refused the API key ({first})",
                "check the key in your environment",
                status,
            )
        if isinstance(exc, (lt.Timeout,)):
            return ProviderError(
                f"{self.name}: no answer within {self.timeout:.0f} s",
                "check the server, or raise the timeout",
                504,
            )
        if isinstance(exc, lt.APIConnectionError) or "connection error" in str(exc).lower():
            where = self.api_base or "the provider"
            return ProviderError(
                f"{self.name}: cannot reach {where} (connection failed)",
                "is the server running and the address right?",
                502,
            )
        if isinstance(exc, lt.NotFoundError):
            return ProviderError(
                f"{self.name}: unknown model ({first})", "check the model name", status
            )
        return ProviderError(f"{self.name}: {type(exc).__name__}: {first}", None, status)

    def stream(
        self, messages: list[Message], params: GenerationParams, cancel: Cancel | None = None
    ) -> Iterator[str]:
        cancel = cancel or Cancel()
        self.usage = Usage()
        scanner = StopScanner(params.stop)
        response = self._call(messages, params, stream=True)
        text = ""
        try:
            for chunk in response:
                if cancel.is_set():
                    break
                usage = getattr(chunk, "usage", None)
                if usage:
                    self.usage.prompt_tokens = usage.prompt_tokens or 0
                    self.usage.completion_tokens = usage.completion_tokens or 0
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if getattr(choice, "finish_reason", None):
                    self.usage.finish_reason = choice.finish_reason
                piece = getattr(choice.delta, "content", None) or ""
                out = scanner.feed(piece)
                text += piece
                if out:
                    yield out
                if scanner.stopped:
                    break
            tail = "" if scanner.stopped else scanner.flush()
            if tail:
                yield tail
        except GaError:
            raise
        except Exception as exc:
            raise self._explain(exc) from exc
        if not self.usage.completion_tokens:
            self.usage.completion_tokens = self.count_tokens(text)
            self.usage.prompt_tokens = sum(self.count_tokens(m["content"]) for m in messages)

    def answer_logprobs(self, messages: list[Message], answer: str) -> list[float]:
        raise GaError(
            f"{self.name} is a remote model: scoring answers needs a local model",
            "evaluate with the embedded or a local model",
        )


def token_counter() -> Callable[[str], int]:
    """Counts tokens as a provider would (o200k_base, else cl100k_base), for a hosted model and
    for prompts built without a model loaded."""
    try:
        encoding = tiktoken_encoding()
    except Exception:
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base")
    return lambda text: len(encoding.encode(text, disallowed_special=()))
