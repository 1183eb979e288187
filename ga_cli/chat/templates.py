"""Templates: a saved system prompt, model and generation options, reused by name
(`ga ask --save NAME ...`, then `ga ask -t NAME ...`). One YAML file each under the data dir,
outside the ledger: a template is how the principal likes to ask, not what they taught."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, cast

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.fileio import atomic_write
from ga_cli.ledger import entries as E

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # fullmatch: no trailing newline


@dataclass(frozen=True)
class Template:
    """Every field optional: what a template leaves out, the command's defaults decide."""

    system: str | None = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    repetition_penalty: float | None = None

    def to_yaml(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


TYPES: dict[str, type] = {
    "system": str,
    "model": str,
    "temperature": float,
    "max_tokens": int,
    "repetition_penalty": float,
}
# the ranges the command-line options take (cli/modelopts.py)
RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "max_tokens": (1, 1 << 20),
    "repetition_penalty": (1.0, 2.0),
}


def folder() -> Path:
    d = paths.data_dir() / "templates"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def _path(name: str) -> Path:
    if not NAME.fullmatch(name):
        raise GaError(
            f"`{name}` is not a template name",
            "use letters, digits, `-`, `_` or `.` (at most 64), starting with a letter or digit",
        )
    return folder() / f"{name}.yaml"


def save(name: str, template: Template) -> Path:
    from ga_cli.fileio import yamlio

    if not template.to_yaml():
        raise GaError(
            f"template `{name}` would be empty",
            "give what it should keep: --system, --model, --temperature, --max-tokens",
        )
    target = _path(name)
    atomic_write(target, yamlio.dump(template.to_yaml()).encode("utf-8"))
    return target


def load(name: str) -> Template:
    from ga_cli.errors import LedgerFormatError
    from ga_cli.fileio import yamlio

    path = _path(name)
    if not path.is_file():
        known = ", ".join(names()) or "none yet"
        raise GaError(
            f"no template `{name}`",
            f"templates: {known}. Save one with `ga ask --save {name} --system ...`",
        )
    try:
        data = yamlio.load(E.decode(path.read_bytes(), str(path)), str(path))
    except LedgerFormatError as exc:
        raise GaError(exc.message, f"fix or remove {path}") from exc
    if not isinstance(data, dict):
        raise GaError(f"{path}: not a template (expected a YAML mapping)", f"fix or remove {path}")
    problems = [p for key, value in data.items() if (p := _problem(str(key), value))]
    if problems:
        raise GaError(
            f"{path}: " + "; ".join(problems),
            f"keys: {', '.join(f.name for f in fields(Template))}",
        )
    values: dict[str, Any] = {k: (float(v) if TYPES[k] is float else v) for k, v in data.items()}
    return Template(**values)


def _problem(key: str, value: Any) -> str | None:
    """What is wrong with one hand-edited template value, or None."""
    import math

    want = TYPES.get(key)
    if want is None:
        return f"unknown key `{key}`"
    numeric = want in (int, float)
    if isinstance(value, bool) or not (
        isinstance(value, want) or (want is float and isinstance(value, int))
    ):
        return f"`{key}` must be {'a number' if numeric else 'text'}"
    if not numeric:
        return None
    number = float(cast(float, value))
    low, high = RANGES[key]
    if math.isnan(number) or not low <= number <= high:
        return f"`{key}` must be between {low:g} and {high:g}"
    return None


def names() -> list[str]:
    return sorted(p.stem for p in folder().glob("*.yaml"))


def remove(name: str) -> None:
    path = _path(name)
    if not path.is_file():
        raise GaError(f"no template `{name}`", "list them with `ga templates list`")
    path.unlink()
