"""The options every talking command shares, and turning them into a loaded backend."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Optional

import typer

from ga_cli.cli import output
from ga_cli.models import ENGINES, threads
from ga_cli.models.base import ANSWER_MAX_TOKENS, ANSWER_REPETITION_PENALTY

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger
    from ga_cli.models.base import Backend
    from ga_cli.registry import Target
    from ga_cli.serve.server import Running

MODEL = typer.Option(
    None,
    "--model",
    "-m",
    help="`embedded`, a model folder, a Hugging Face id, "
    "or a litellm provider string (openai/gpt-4o-mini). Default: the ledger's "
    "config, else embedded.",
)
API_BASE = typer.Option(
    None,
    "--api-base",
    help="An OpenAI-compatible server, e.g. "
    "http://127.0.0.1:8000/v1 (use with --model openai/<name>).",
)
ADAPTER = typer.Option(None, "--adapter", help="A LoRA adapter folder to load on the model.")
TEMPERATURE_DEFAULT = 0.7
TEMPERATURE = typer.Option(
    None,
    "--temperature",
    min=0.0,
    max=2.0,
    help=f"0 answers greedily (repeatable). Default: the template's, else {TEMPERATURE_DEFAULT}.",
)
MAX_TOKENS = typer.Option(
    None,
    "--max-tokens",
    min=1,
    help="Longest answer, in tokens; an answer cut off by it is marked as such. Default: the "
    f"template's, else {ANSWER_MAX_TOKENS}.",
)
REPETITION_PENALTY = typer.Option(
    None,
    "--repetition-penalty",
    min=1.0,
    max=2.0,
    help="Above 1 keeps a small model from repeating itself; 1 turns it off. Local models and "
    f"`ga serve` apply it; remote providers ignore it. Default: {ANSWER_REPETITION_PENALTY}.",
)
SYSTEM = typer.Option(
    None,
    "--system",
    "-s",
    help="A system prompt of your own; --memory says what your ledger adds to it.",
)
MEMORY = typer.Option(
    "merge",
    "--memory",
    help="What your ledger adds to a system prompt given with -s (or by a client of ga serve): "
    "`merge` puts your values, lessons and relevant corrections ahead of it, marked as yours; "
    "`fill` adds them only where none was given; `off` never.",
)


def memory_mode(value: str) -> str:
    """--memory's value, checked."""
    from ga_cli.errors import GaError
    from ga_cli.prompt.conversation import MEMORY_MODES

    if value not in MEMORY_MODES:
        raise GaError(f"unknown --memory `{value}`", f"choose one of {', '.join(MEMORY_MODES)}")
    return value


TEMPLATE = typer.Option(
    None,
    "--template",
    "-t",
    help="Start from a saved template (system prompt, model, options); flags given override it. "
    "`ga templates list` shows them.",
)


def params(
    temperature: Optional[float],
    max_tokens: Optional[int],
    repetition_penalty: Optional[float],
    template: Any = None,
) -> Any:
    """GenerationParams from the flags given, then the template's values, then the defaults."""
    from ga_cli.models.base import GenerationParams

    def pick(flag: Any, key: str, default: Any) -> Any:
        if flag is not None:
            return flag
        saved = getattr(template, key, None) if template is not None else None
        return default if saved is None else saved

    return GenerationParams(
        temperature=pick(temperature, "temperature", TEMPERATURE_DEFAULT),
        max_tokens=pick(max_tokens, "max_tokens", ANSWER_MAX_TOKENS),
        repetition_penalty=pick(
            repetition_penalty, "repetition_penalty", ANSWER_REPETITION_PENALTY
        ),
    )


def _to_env(name: str) -> Any:
    """A callback that passes an option on as an environment variable, where the model loader
    (in this process, or a server's workers) reads it."""

    def callback(value: Any) -> Any:
        if value is not None:
            import os

            os.environ[name] = str(value)
        return value

    return callback


THREADS = typer.Option(
    None,
    "--threads",
    min=1,
    callback=_to_env(threads.ENV),
    help="CPU threads for a local model. Default: $GA_THREADS, else the physical cores.",
)


ENGINE = typer.Option(
    None,
    "--engine",
    metavar="[" + "|".join(ENGINES) + "]",
    callback=_to_env("GA_ENGINE"),
    help="Local engine: llama.cpp runs GGUF files (the embedded model: fast, no conversion), "
    "transformers runs Hugging Face folders and LoRA adapters. Default: $GA_ENGINE, else auto.",
)
NO_SERVER = typer.Option(
    False, "--no-server", help="Load the model in this process even if `ga serve` is running."
)


def cut_off_note(max_tokens: int) -> str:
    return f"[cut off at --max-tokens {max_tokens}]"


def open_ledger() -> Ledger:
    """The principal's ledger (GaError saying how to create one when there is none)."""
    from ga_cli.ledger.store import Ledger

    return Ledger.open()


def open_ledger_or_none() -> Ledger | None:
    """The ledger, or None where ga works without one (answers are then not personal)."""
    from ga_cli.errors import GaError

    try:
        return open_ledger()
    except GaError:
        return None


def target(ledger: Ledger | None, model: Optional[str], explicit_only: bool = False) -> Target:
    """What `-m` names (an alias, a run, a model), else the current run, else the ledger's
    configured model, else embedded. `explicit_only` skips the current run (with --adapter or
    --api-base, which go with a model, not a run)."""
    from ga_cli import registry

    configured = ledger.config().model if ledger is not None else None
    if model:
        return registry.resolve(model)
    if explicit_only:
        return registry.resolve(configured or "embedded")
    return registry.resolve_default(configured)


@contextmanager
def spinner(message: str) -> Iterator[None]:
    """A spinner on stderr, only when a person is watching it."""
    if sys.stderr.isatty():
        with output.console(True).status(message):
            yield
    else:
        yield


@dataclass(frozen=True)
class Chosen:
    """What a talking command will use: a running `ga serve`, or a resolved run or model (with
    an optional adapter and API base)."""

    served: Running | None = None  # a running `ga serve`
    target: Target | None = None
    adapter: Optional[str] = None
    api_base: Optional[str] = None

    def open(self) -> Backend:
        """A loaded backend for it."""
        if self.served is not None:
            from ga_cli.models.served import ServedBackend

            return ServedBackend(self.served.url, self.served.token)
        assert self.target is not None
        return load(self.target, self.adapter, self.api_base)


def choose(
    ledger: Ledger | None,
    model: Optional[str],
    adapter: Optional[str],
    api_base: Optional[str],
    no_server: bool = False,
) -> Chosen:
    """What to talk to: a running `ga serve` (when nothing was asked for), else `target`."""
    if model is None and adapter is None and api_base is None and not no_server:
        from ga_cli.serve.server import find_running

        running = find_running()
        if running:
            return Chosen(served=running)
    explicit = adapter is not None or api_base is not None
    return Chosen(None, target(ledger, model, explicit), adapter, api_base)


def load(
    chosen: Target,
    adapter: Optional[str] = None,
    api_base: Optional[str] = None,
    api_key: Optional[str] = None,
) -> Backend:
    with spinner(f"Loading {chosen.spec}…"):
        return chosen.load(output.info, adapter=adapter, api_base=api_base, api_key=api_key)
