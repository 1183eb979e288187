"""`ga export`: a personal model for other engines (transformers/vLLM, llama.cpp, Ollama)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ga_cli.cli import modelopts, output


def export(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id, or `current`."),
    merged: Optional[Path] = typer.Option(
        None,
        "--merged",
        help="Write a merged 16-bit Hugging Face folder here (loads in transformers or vLLM).",
    ),
    gguf: Optional[Path] = typer.Option(
        None,
        "--gguf",
        help="Write one GGUF file here (the adapter merged in): llama.cpp, LM Studio, llamafile.",
    ),
    ollama: Optional[Path] = typer.Option(
        None,
        "--ollama",
        help="Write base.gguf, adapter.gguf and a Modelfile into this folder; then "
        "`ollama create NAME -f DIR/Modelfile`.",
    ),
    quant: str = typer.Option(
        "q8_0", "--quant", help="GGUF precision: f16, q8_0 or q4_k_m (smallest)."
    ),
) -> None:
    """Export a personal model for other engines, offline.

    ga export current --gguf me.gguf --quant q4_k_m"""
    from ga_cli import registry
    from ga_cli.errors import GaError
    from ga_cli.training import export as X

    if not (merged or gguf or ollama):
        raise GaError("nothing to export", "give --merged DIR, --gguf FILE and/or --ollama DIR")
    r = registry.resolve_run(run_id)
    if merged:
        with modelopts.spinner("Merging the adapter into the base model…"):
            X.merged(r, merged)
        output.info(f"Wrote {merged}")
    if gguf:
        with modelopts.spinner(f"Merging and converting to GGUF ({quant})…"):
            X.gguf(r, gguf, quant)
        output.info(f"Wrote {gguf}")
    if ollama:
        from ga_cli.prompt import conversation

        ledger = modelopts.open_ledger_or_none()
        system = (
            conversation.standing_system(conversation.ledger_context(ledger)) if ledger else None
        )
        with modelopts.spinner(f"Writing the base ({quant}) and the adapter as GGUF…"):
            path = X.ollama(r, ollama, system, quant)
        output.info(f"Wrote {ollama}; next: ollama create NAME -f {path}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
