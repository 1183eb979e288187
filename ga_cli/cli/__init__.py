"""The thin Typer layer: parse arguments, call ga_cli's core, hand results to output.py."""

from ga_cli.cli.app import app, main

__all__ = ["app", "main"]
