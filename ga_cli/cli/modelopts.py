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
    from ga_cli.training.registry import Run

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
TEMPERATURE = typer.Option(
    0.7, "--temperature", "-t", min=0.0, max=2.0, help="0 answers greedily (repeatable)."
)
MAX_TOKENS = typer.Option(
    ANSWER_MAX_TOKENS,
    "--max-tokens",
    min=1,
    help="Longest answer, in tokens; an answer cut off by it is marked as such.",
)
REPETITION_PENALTY = typer.Option(
    ANSWER_REPETITION_PENALTY,
    "--repetition-penalty",
    min=1.0,
    max=2.0,
    help="Above 1 keeps a small model from repeating itself; 1 turns it off. Local models and "
    "`ga serve` apply it; remote providers ignore it.",
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


def open_ledger_or_none(required: bool = False) -> Any:
    from ga_cli.errors import GaError
    from ga_cli.ledger.store import Ledger

    try:
        return Ledger.open()
    except GaError:
        if required:
            raise
        return None


def model_spec(ledger: Any, model: Optional[str]) -> str:
    if model:
        return model
    if ledger is not None:
        configured = ledger.config().get("model")
        if configured:
            return str(configured)
    return "embedded"


@contextmanager
def spinner(message: str) -> Iterator[None]:
    """A spinner on stderr, only when a person is watching it."""
    if sys.stderr.isatty():
        with output.console(True).status(message):
            yield
    else:
        yield


@dataclass(frozen=True)
class Target:
    """What a talking command will use: a running `ga serve`, a trained run, or a model spec
    (with an optional adapter and API base)."""

    served: dict[str, Any] | None = None  # the running server's {url, pid, token}
    run: Run | None = None  # opened through Run.backend: its base model and adapter
    spec: str = "embedded"
    adapter: Optional[str] = None
    api_base: Optional[str] = None

    def open(self) -> Any:
        """A loaded backend for it."""
        if self.served is not None:
            from ga_cli.models.served import ServedBackend

            return ServedBackend(self.served["url"], self.served.get("token"))
        if self.run is not None:
            with spinner(f"Loading {self.run.id}…"):
                return self.run.backend(progress=output.info)
        return load_backend(self.spec, self.adapter, self.api_base)


def choose(
    ledger: Any,
    model: Optional[str],
    adapter: Optional[str],
    api_base: Optional[str],
    no_server: bool = False,
) -> Target:
    """What to talk to: a running `ga serve`, the current personal model, or what was asked for.

    `--model ga-personal` or a run id (r-...) picks a trained run explicitly."""
    from ga_cli.training import registry

    run = None
    if model in ("ga-personal", "current") or (model or "").startswith("r-"):
        run = registry.get(model or "current")
    elif model is None and adapter is None and api_base is None:
        if not no_server:
            from ga_cli.serve.server import find_running

            running = find_running()
            if running:
                return Target(served=running)
        run = registry.current()
    if run is not None:
        return Target(run=run)
    return Target(spec=model_spec(ledger, model), adapter=adapter, api_base=api_base)


def load_backend(
    spec: str, adapter: Optional[str], api_base: Optional[str], api_key: Optional[str] = None
) -> Any:
    from ga_cli import models

    with spinner(f"Loading {spec}…"):
        return models.load(
            spec, adapter=adapter, api_base=api_base, api_key=api_key, progress=output.info
        )
