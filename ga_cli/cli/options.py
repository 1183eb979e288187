"""Options many commands share, defined once (the model and engine set is in modelopts.py)."""

from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="Print JSON for other programs.")
