"""What `ga config set` accepts: each key's value checked before it is committed, so a typo
fails at once (naming the key and what it takes) rather than at the next `ga chat`."""

from __future__ import annotations

from urllib.parse import urlparse

from ga_cli.errors import GaError
from ga_cli.prompt import prompting

KEYS = {
    "model": "`embedded`, a model folder, a .gguf file, a Hugging Face id, a litellm provider, "
    "a run id or an alias",
    "teacher": "a litellm provider string (openai/gpt-4o-mini, ollama/llama3.2, ...)",
    "teacher_api_base": "an http(s) URL of an OpenAI-compatible server",
    "recipe": "a shipped recipe name (ga train recipes) or a recipe YAML file",
    "prompt_corrections": "how past corrections enter the system prompt: auto (chosen for a "
    "litellm provider, off for a local model), pairs (question, rejected and wanted answer), "
    "chosen (question and wanted answer) or off",
    "train.auto": "a whole number N: train in the background once N trusted entries are new "
    "since the current model (0: never, the default)",
}


def check(key: str, value: str | None) -> str | int | None:
    """The value to store for `key` (None clears it); GaError when it cannot work."""
    from ga_cli import models

    if key not in KEYS:
        raise GaError(f"unknown setting `{key}`", f"choose one of: {', '.join(KEYS)}")
    if value is None:
        return None
    value = value.strip()
    if key == "model":
        from ga_cli import registry

        try:
            registry.resolve(value)  # what ga chat/ask will resolve it to, refused if nothing
        except GaError as exc:
            raise GaError(f"model: {exc.message}", exc.hint) from exc
    elif key == "teacher" and not models.is_remote(value):
        raise GaError(f"teacher: `{value}` is not a litellm provider string", KEYS[key])
    elif key == "teacher_api_base":
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise GaError(f"teacher_api_base: `{value}` is not an http(s) URL", KEYS[key])
    elif key == "prompt_corrections" and value not in prompting.CORRECTION_MODES:
        raise GaError(f"prompt_corrections: `{value}` is not a mode", KEYS[key])
    elif key == "train.auto":
        if not value.isdigit():
            raise GaError(f"train.auto: `{value}` is not a whole number", KEYS[key])
        return int(value)
    elif key == "recipe":
        from ga_cli.training import recipe

        try:
            recipe.load(value)
        except GaError as exc:
            raise GaError(f"recipe: {exc.message}", exc.hint) from exc
    return value
