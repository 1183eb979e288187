"""Where ga keeps things: XDG directories, overridden by GA_HOME (everything) and GA_LEDGER."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def home() -> Path | None:
    value = os.environ.get("GA_HOME")
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """Sessions, the model registry and (by default) the ledger."""
    return home() or _xdg("XDG_DATA_HOME", ".local/share") / "ga"


def cache_dir() -> Path:
    """Rebuildable things: converted base models, datasets. GA_CACHE_DIR overrides it alone."""
    if os.environ.get("GA_CACHE_DIR"):
        return Path(os.environ["GA_CACHE_DIR"]).expanduser()
    h = home()
    return h / "cache" if h else _xdg("XDG_CACHE_HOME", ".cache") / "ga"


def runtime_dir() -> Path:
    """Discovery files of running servers."""
    h = home()
    if h:
        return h / "run"
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "ga"
    return data_dir() / "run"


def ledger_dir() -> Path:
    value = os.environ.get("GA_LEDGER")
    if value:
        return Path(value).expanduser()
    return data_dir() / "ledger"


def template_dir() -> Path:
    """`ledger_template/`: shipped inside the wheel, or beside the package in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "ledger_template", here.parent / "ledger_template"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("ledger_template/ is missing from this installation")
