"""Model aliases, as Ollama and llm users expect: `ga models alias fast ollama/llama3.2`, then
`ga ask -m fast`. One YAML mapping (name -> a run id or a model spec) in the data dir: an alias
names something on this machine, so it lives beside the registry, not in the ledger."""

from __future__ import annotations

import re
from pathlib import Path

from ga_cli import paths
from ga_cli.errors import GaError, LedgerFormatError
from ga_cli.ledger import entries as E

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")  # fullmatch: no trailing newline
RESERVED = ("embedded", "current", "ga-personal")


def _file() -> Path:
    return paths.data_dir() / "aliases.yaml"


def all_aliases() -> dict[str, str]:
    from ga_cli.fileio import yamlio

    f = _file()
    if not f.is_file():
        return {}
    try:
        data = yamlio.load(E.decode(f.read_bytes(), str(f)), str(f)) or {}
    except LedgerFormatError as exc:
        raise GaError(exc.message, f"fix or remove {f}") from exc
    if not isinstance(data, dict):
        raise GaError(f"{f}: expected a mapping of alias: model", f"fix or remove {f}")
    for name, target in data.items():
        problem = _problem(str(name))
        if problem or not isinstance(target, str) or not target.strip():
            raise GaError(
                f"{f}: alias `{name}`: {problem or 'must name a model or run'}",
                f"fix or remove that line of {f}",
            )
    return {str(k): str(v) for k, v in data.items()}


def _problem(name: str) -> str | None:
    """Why `name` cannot be an alias, or None."""
    if not NAME.fullmatch(name) or "/" in name:
        return "use a short name of letters, digits, `-`, `_` or `.`"
    if name in RESERVED:
        return f"{name} is ga's own name and cannot be redefined"
    if name.startswith("r-"):
        return "it looks like a run id; choose a name not starting with r-"
    return None


def resolve(name: str) -> str:
    """What `name` stands for, or `name` itself when it is no alias."""
    return all_aliases().get(name, name)


def _write(data: dict[str, str]) -> None:
    from ga_cli.fileio import atomic_write, yamlio

    f = _file()
    f.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(f, yamlio.dump(dict(sorted(data.items()))).encode("utf-8"))


def check_name(name: str) -> None:
    """Refuse a name that cannot be an alias (GaError saying why)."""
    problem = _problem(name)
    if problem:
        raise GaError(f"`{name}` cannot be an alias", problem)


def set_alias(name: str, target: str) -> None:
    check_name(name)
    data = all_aliases()
    data[name] = target
    _write(data)


def remove(name: str) -> None:
    data = all_aliases()
    if name not in data:
        raise GaError(f"no alias `{name}`", "list them with `ga models aliases`")
    del data[name]
    _write(data)
