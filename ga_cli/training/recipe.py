"""Recipes: validated YAML, one per training method. Every problem is reported at once."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ga_cli.errors import GaError, LedgerFormatError
from ga_cli.ledger import yamlio

SHIPPED = Path(__file__).with_name("recipes")
SCHEDULERS = ("constant", "linear", "cosine")
NUM = (int, float)
SCHEMA: dict[str, Any] = {
    "base_model": str,
    "max_seq_len": int,
    "seed": int,
    "lora": {"r": int, "alpha": int, "dropout": NUM, "target_modules": list},
    "sft": {
        "epochs": int,
        "max_steps": (int, type(None)),
        "learning_rate": NUM,
        "batch_size": int,
        "warmup_steps": int,
        "scheduler": str,
        "grad_clip": NUM,
        "replay": int,
        "chosen_repeats": int,
    },
    "dpo": {
        "enabled": bool,
        "epochs": int,
        "max_steps": (int, type(None)),
        "learning_rate": NUM,
        "beta": NUM,
        "batch_size": int,
        "sft_weight": NUM,
        "on_policy": int,
    },
    "incremental": {
        "enabled": bool,
        "epochs": int,
        "replay_ratio": NUM,
        "general_ratio": NUM,
        "replay_cap": int,
    },
    "gate": {
        "max_drift": NUM,
        "max_repetition_rise": NUM,
        "max_degenerate_rise": NUM,
        "min_length_ratio": NUM,
        "max_length_ratio": NUM,
    },
}

# keys added after recipes were first copied out: a recipe without them gets these values
OPTIONAL: dict[str, dict[str, Any]] = {"sft": {"chosen_repeats": 1}, "dpo": {"on_policy": 0}}
# sections added after recipes were first copied out: a recipe without one gets this
OPTIONAL_SECTIONS: dict[str, dict[str, Any]] = {
    "incremental": {
        "enabled": True,
        "epochs": 3,
        "replay_ratio": 1.0,
        "general_ratio": 0.5,
        "replay_cap": 40,
    }
}


@dataclass
class Recipe:
    name: str
    path: Path
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def names() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def resolve_path(name_or_path: str) -> Path:
    p = Path(name_or_path).expanduser()
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise GaError(f"recipe file {p} does not exist")
        return p
    if name_or_path not in names():
        raise GaError(
            f"unknown recipe `{name_or_path}`",
            f"choose one of: {', '.join(names())}, or give a path to a recipe YAML file",
        )
    return SHIPPED / f"{name_or_path}.yaml"


def _check(
    data: Any, schema: dict[str, Any], prefix: str, raw: Any, problems: list[str], path: str
) -> None:
    for key, typ in schema.items():
        where = f"{prefix}{key}"
        line = yamlio.key_line(raw, key) if raw is not None else None
        loc = f"{path}:{line}" if line else path
        if not isinstance(data, dict) or key not in data:
            problems.append(f"{loc}: missing `{where}`")
            continue
        value = data[key]
        if isinstance(typ, dict):
            _check(value, typ, f"{where}.", value, problems, path)
        elif isinstance(value, bool) and typ in (int, NUM):
            problems.append(f"{loc}: `{where}` must be a number")
        elif not isinstance(value, typ):
            problems.append(
                f"{loc}: `{where}` has the wrong type: {_kind(value)}, expected {_kind_of(typ)}"
            )
    if isinstance(data, dict):
        for key in data:
            if key not in schema:
                line = yamlio.key_line(raw, key)
                problems.append(f"{path}:{line}: unknown key `{prefix}{key}`")


def _kind(value: Any) -> str:
    """What YAML value this is, in the principal's words (never ruamel's class names)."""
    for typ, name in (
        (bool, "true/false"),
        (int, "a whole number"),
        (float, "a number"),
        (str, "text"),
        (list, "a list"),
        (dict, "a mapping"),
    ):
        if isinstance(value, typ):
            return name
    return "empty" if value is None else "a value of another kind"


def _kind_of(typ: Any) -> str:
    types = typ if isinstance(typ, tuple) else (typ,)
    names = {
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        bool: "true/false",
        type(None): "null",
    }
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def _ranges(d: dict[str, Any], path: str) -> list[str]:
    out = []

    def need(ok: bool, msg: str) -> None:
        if not ok:
            out.append(f"{path}: {msg}")

    need(64 <= d["max_seq_len"] <= 32768, "`max_seq_len` must be 64..32768")
    need(d["lora"]["r"] > 0 and d["lora"]["alpha"] > 0, "`lora.r` and `lora.alpha` must be > 0")
    need(0 <= d["lora"]["dropout"] < 1, "`lora.dropout` must be in [0, 1)")
    need(bool(d["lora"]["target_modules"]), "`lora.target_modules` must not be empty")
    for stage in ("sft", "dpo"):
        s = d[stage]
        need(0 < s["learning_rate"] < 1, f"`{stage}.learning_rate` must be in (0, 1)")
        need(
            s["batch_size"] >= 1 and s["epochs"] >= 1,
            f"`{stage}` batch_size and epochs must be >= 1",
        )
        need(
            s["max_steps"] is None or s["max_steps"] >= 1,
            f"`{stage}.max_steps` must be >= 1 or null",
        )
    need(
        d["sft"]["scheduler"] in SCHEDULERS,
        f"`sft.scheduler` must be one of {', '.join(SCHEDULERS)}",
    )
    need(d["dpo"]["beta"] > 0, "`dpo.beta` must be > 0")
    need(d["sft"]["replay"] >= 0, "`sft.replay` must be >= 0 (0 turns replay off)")
    need(
        d["sft"]["chosen_repeats"] >= 1,
        "`sft.chosen_repeats` must be >= 1 (1: each correction's chosen answer once per epoch)",
    )
    need(d["dpo"]["on_policy"] >= 0, "`dpo.on_policy` must be >= 0 (0 turns it off)")
    need(d["dpo"]["sft_weight"] >= 0, "`dpo.sft_weight` must be >= 0 (0 turns the SFT term off)")
    i = d["incremental"]
    need(i["epochs"] >= 1, "`incremental.epochs` must be >= 1")
    need(
        min(i["replay_ratio"], i["general_ratio"], i["replay_cap"]) >= 0,
        "`incremental` ratios and `replay_cap` must be >= 0",
    )
    g = d["gate"]
    need(all(g[k] >= 0 for k in g), "every `gate` threshold must be >= 0")
    need(
        g["min_length_ratio"] < g["max_length_ratio"],
        "`gate.min_length_ratio` must be below `gate.max_length_ratio`",
    )
    return out


def load(name_or_path: str) -> Recipe:
    path = resolve_path(name_or_path)
    shown = path.name if path.parent == SHIPPED else str(path)
    try:
        raw = yamlio.load(path.read_text(encoding="utf-8"), shown)
    except LedgerFormatError as exc:
        raise GaError(f"invalid recipe: {exc.message}") from exc
    except UnicodeDecodeError as exc:
        raise GaError(
            f"invalid recipe: {shown} is not a UTF-8 text file",
            "give a recipe name or a recipe YAML file",
        ) from exc
    except OSError as exc:
        raise GaError(f"cannot read the recipe {shown}: {exc.strerror}") from exc
    if not isinstance(raw, dict):
        raise GaError(
            f"invalid recipe: {shown} is not a recipe (expected a YAML mapping with "
            f"base_model, lora, sft, dpo and gate)",
            "give a recipe name (`ga train recipes`) or a recipe YAML file",
        )
    for section, defaults in OPTIONAL_SECTIONS.items():
        raw.setdefault(section, dict(defaults))
    for section, defaults in OPTIONAL.items():
        if isinstance(raw.get(section), dict):
            for key, value in defaults.items():
                raw[section].setdefault(key, value)
    problems: list[str] = []
    _check(raw, SCHEMA, "", raw, problems, shown)
    if not problems:
        problems += _ranges(raw, shown)
    if problems:
        raise GaError(
            "invalid recipe:\n  " + "\n  ".join(problems),
            "fix every line above (see `ga train init NAME` for a valid example)",
        )
    return Recipe(path.stem, path, yamlio.plain(raw))


def copy_out(name: str, dest: Path) -> Path:
    """Copy a shipped recipe (or a valid recipe file) to `dest` for editing."""
    src = load(name).path  # a name, or a file that validates as a recipe: nothing else is copied
    target = dest / src.name if dest.is_dir() else dest
    if not target.parent.is_dir():
        raise GaError(f"{target.parent} is not a directory", "create it first, or choose another")
    if target.exists():
        raise GaError(f"{target} already exists; refusing to overwrite it", "choose another path")
    shutil.copyfile(src, target)
    return target
