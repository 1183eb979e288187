"""The options every talking command shares, and turning them into a loaded backend."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import typer

from ga_cli.cli import output

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
NO_SERVER = typer.Option(
    False, "--no-server", help="Load the model in this process even if `ga serve` is running."
)


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


def choose(
    ledger: Any,
    model: Optional[str],
    adapter: Optional[str],
    api_base: Optional[str],
    no_server: bool = False,
) -> dict[str, Any]:
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
                return {"served": running}
        run = registry.current()
    if run is not None:
        return {
            "spec": run.base_path,
            "adapter": str(run.adapter),
            "api_base": None,
            "api_key": None,
        }
    return {
        "spec": model_spec(ledger, model),
        "adapter": adapter,
        "api_base": api_base,
        "api_key": None,
    }


def open_target(target: dict[str, Any]) -> Any:
    """A backend for what `choose` picked."""
    if "served" in target:
        from ga_cli.models.served import ServedBackend

        return ServedBackend(target["served"]["url"], target["served"].get("token"))
    return load_backend(target["spec"], target["adapter"], target["api_base"], target["api_key"])


def load_backend(
    spec: str, adapter: Optional[str], api_base: Optional[str], api_key: Optional[str] = None
) -> Any:
    from ga_cli import models

    with spinner(f"Loading {spec}…"):
        return models.load(
            spec, adapter=adapter, api_base=api_base, api_key=api_key, progress=output.info
        )
