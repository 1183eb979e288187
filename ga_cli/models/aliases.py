"""Model aliases, as Ollama and llm users expect: `ga models alias fast ollama/llama3.2`, then
`ga ask -m fast`. One YAML mapping (name -> a run id or a model spec) in the data dir: an alias
names something on this machine, so it lives beside the registry, not in the ledger."""

from __future__ import annotations

import re
from pathlib import Path

from ga_cli import paths
from ga_cli.errors import GaError

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
RESERVED = ("embedded", "current", "ga-personal")


def _file() -> Path:
    return paths.data_dir() / "aliases.yaml"


def all_aliases() -> dict[str, str]:
    from ga_cli.ledger import yamlio

    f = _file()
    if not f.is_file():
        return {}
    data = yamlio.load(f.read_text(encoding="utf-8"), str(f)) or {}
    if not isinstance(data, dict):
        raise GaError(f"{f}: expected a mapping of alias: model", f"fix or remove {f}")
    return {str(k): str(v) for k, v in data.items()}


def resolve(name: str | None) -> str | None:
    """What `name` stands for, or `name` itself when it is no alias."""
    if not name:
        return name
    return all_aliases().get(name, name)


def _write(data: dict[str, str]) -> None:
    from ga_cli.ledger import yamlio
    from ga_cli.ledger.store import atomic_write

    f = _file()
    f.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(f, yamlio.dump(dict(sorted(data.items()))).encode("utf-8"))


def set_alias(name: str, target: str) -> None:
    if not NAME.match(name) or name in RESERVED or "/" in name:
        raise GaError(
            f"`{name}` cannot be an alias",
            "use a short name of letters, digits, `-`, `_` or `.` that is not "
            + ", ".join(RESERVED),
        )
    if name.startswith("r-"):
        raise GaError(f"`{name}` looks like a run id", "choose a name not starting with r-")
    data = all_aliases()
    data[name] = target
    _write(data)


def remove(name: str) -> None:
    data = all_aliases()
    if name not in data:
        raise GaError(f"no alias `{name}`", "list them with `ga models aliases`")
    del data[name]
    _write(data)
