"""Recipes: validated YAML, one per training method. Every problem is reported at once."""

from __future__ import annotations

import shutil
from dataclasses import MISSING, asdict, dataclass, fields, is_dataclass, replace
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from ga_cli.errors import GaError, LedgerFormatError
from ga_cli.fileio import yamlio
from ga_cli.registry import RunInfo

SHIPPED = Path(__file__).with_name("recipes")
SCHEDULERS = ("constant", "linear", "cosine")


@dataclass(frozen=True)
class Lora:
    r: int
    alpha: int
    dropout: float
    target_modules: list[str]


@dataclass(frozen=True)
class Sft:
    epochs: int
    max_steps: int | None
    learning_rate: float
    batch_size: int
    warmup_steps: int
    scheduler: str
    grad_clip: float
    replay: int  # the base model's own general answers trained beside yours (0: off)
    chosen_repeats: int = 1  # each correction's chosen answer per epoch (added later: default)


@dataclass(frozen=True)
class Dpo:
    enabled: bool
    epochs: int
    max_steps: int | None
    learning_rate: float
    beta: float
    batch_size: int
    sft_weight: float  # the SFT term on the chosen answers (RPO); 0: plain DPO
    on_policy: int = 0  # the base model's own answers per corrected prompt, as rejected


@dataclass(frozen=True)
class Incremental:
    """How `ga train` continues the current run on what is new (a section added later: a recipe
    without it gets these values)."""

    enabled: bool = True
    epochs: int = 3
    replay_ratio: float = 1.0
    general_ratio: float = 0.5
    replay_cap: int = 40
    # evaluation: past-correction pairs scored again (a random sample); the others keep the
    # parent's recorded result, the new ones are all scored (compare.py)
    rescore: int = 40


@dataclass(frozen=True)
class Gate:
    """The promotion rule's retention limits (training/retention.py's gate)."""

    max_drift: float
    max_repetition_rise: float
    max_degenerate_rise: float
    min_length_ratio: float
    max_length_ratio: float
    # when the final model fails the rule: earlier epoch checkpoints evaluated, newest first,
    # and the first that passes kept (training/checkpoints.py; 0: the final model or nothing)
    checkpoints: int = 4


@dataclass(frozen=True)
class Recipe:
    """A recipe as validated: each YAML section is the dataclass of the same name, checked
    against these fields and their types (no second schema)."""

    name: str
    path: Path
    base_model: str
    max_seq_len: int
    seed: int
    lora: Lora
    sft: Sft
    dpo: Dpo
    gate: Gate
    incremental: Incremental = Incremental()
    # recompute each layer's activations in the backward pass instead of keeping them (Unsloth's
    # checkpointing): the same model for less memory and more time (added later: default off)
    gradient_checkpointing: bool = False

    def to_json(self) -> dict[str, Any]:
        """The sections as trained (run.json's `recipe`, and a file `ga train --recipe` reads)."""
        return {k: v for k, v in asdict(self).items() if k not in ("name", "path")}

    def method(self) -> dict[str, Any]:
        """What makes two recipes train the same model: all but `gate`, `incremental` and
        `gradient_checkpointing` (memory against time, the same model)."""
        apart = ("gate", "incremental", "gradient_checkpointing")
        return {k: v for k, v in self.to_json().items() if k not in apart}

    def for_round(self) -> Recipe:
        """The recipe an incremental round trains with: its own number of epochs."""
        epochs = self.incremental.epochs
        return replace(
            self, sft=replace(self.sft, epochs=epochs), dpo=replace(self.dpo, epochs=epochs)
        )


SECTIONS: dict[str, Any] = {
    k: v for k, v in get_type_hints(Recipe).items() if k not in ("name", "path")
}


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


def _check(raw: Any, cls: type, prefix: str, problems: list[str], path: str) -> dict[str, Any]:
    """The fields of `cls` from the mapping `raw`, each checked against its annotation; every
    problem (missing, unknown, wrong type) is added to `problems` with its line."""
    hints = get_type_hints(cls)
    given = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in ("name", "path"):
            continue
        typ, where = hints[f.name], f"{prefix}{f.name}"
        line = yamlio.key_line(raw, f.name) if isinstance(raw, dict) else None
        loc = f"{path}:{line}" if line else path
        if f.name not in given:
            if f.default is MISSING and f.default_factory is MISSING:
                problems.append(f"{loc}: missing `{where}`")
            continue
        value = given[f.name]
        if isinstance(typ, type) and is_dataclass(typ):
            if not isinstance(value, dict):
                problems.append(
                    f"{loc}: `{where}` has the wrong type: {_kind(value)}, expected a mapping"
                )
                continue
            values[f.name] = _check(value, typ, f"{where}.", problems, path)
        elif not _fits(value, typ):
            problems.append(
                f"{loc}: `{where}` has the wrong type: {_kind(value)}, expected {_kind_of(typ)}"
            )
        else:
            values[f.name] = float(value) if typ is float else yamlio.plain(value)
    for key in given:
        if key not in {f.name for f in fields(cls)} or key in ("name", "path"):
            line = yamlio.key_line(raw, key)
            problems.append(f"{f'{path}:{line}' if line else path}: unknown key `{prefix}{key}`")
    return values


def _fits(value: Any, typ: Any) -> bool:
    """Whether a YAML value is of an annotation's type (true/false is never a number)."""
    options = get_args(typ) if get_origin(typ) in (Union, UnionType) else (typ,)
    for option in options:
        if option is type(None) and value is None:
            return True
        if option in (int, float) and isinstance(value, bool):
            continue
        if option is float and isinstance(value, (int, float)):
            return True
        if get_origin(option) is list and isinstance(value, list):
            return all(isinstance(v, get_args(option)[0]) for v in value)
        if isinstance(option, type) and isinstance(value, option):
            return True
    return False


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
    options = get_args(typ) if get_origin(typ) in (Union, UnionType) else (typ,)
    names = {
        int: "a whole number",
        float: "a number",
        str: "text",
        bool: "true/false",
        type(None): "null",
    }
    said = (
        f"a list of {names[get_args(t)[0]]}" if get_origin(t) is list else names.get(t, str(t))
        for t in options
    )
    return " or ".join(dict.fromkeys(said))


def _ranges(r: Recipe, path: str) -> list[str]:
    out = []

    def need(ok: bool, msg: str) -> None:
        if not ok:
            out.append(f"{path}: {msg}")

    need(64 <= r.max_seq_len <= 32768, "`max_seq_len` must be 64..32768")
    need(r.lora.r > 0 and r.lora.alpha > 0, "`lora.r` and `lora.alpha` must be > 0")
    need(0 <= r.lora.dropout < 1, "`lora.dropout` must be in [0, 1)")
    need(bool(r.lora.target_modules), "`lora.target_modules` must not be empty")
    for stage, s in (("sft", r.sft), ("dpo", r.dpo)):
        need(0 < s.learning_rate < 1, f"`{stage}.learning_rate` must be in (0, 1)")
        need(s.batch_size >= 1 and s.epochs >= 1, f"`{stage}` batch_size and epochs must be >= 1")
        need(s.max_steps is None or s.max_steps >= 1, f"`{stage}.max_steps` must be >= 1 or null")
    need(r.sft.scheduler in SCHEDULERS, f"`sft.scheduler` must be one of {', '.join(SCHEDULERS)}")
    need(r.dpo.beta > 0, "`dpo.beta` must be > 0")
    need(r.sft.replay >= 0, "`sft.replay` must be >= 0 (0 turns replay off)")
    need(
        r.sft.chosen_repeats >= 1,
        "`sft.chosen_repeats` must be >= 1 (1: each correction's chosen answer once per epoch)",
    )
    need(r.dpo.on_policy >= 0, "`dpo.on_policy` must be >= 0 (0 turns it off)")
    need(r.dpo.sft_weight >= 0, "`dpo.sft_weight` must be >= 0 (0 turns the SFT term off)")
    i = r.incremental
    need(i.epochs >= 1, "`incremental.epochs` must be >= 1")
    need(
        min(i.replay_ratio, i.general_ratio, i.replay_cap) >= 0,
        "`incremental` ratios and `replay_cap` must be >= 0",
    )
    g = r.gate
    need(all(v >= 0 for v in asdict(g).values()), "every `gate` threshold must be >= 0")
    need(
        g.min_length_ratio < g.max_length_ratio,
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
    return from_mapping(raw, path.stem, path, shown)


def from_run(info: RunInfo) -> Recipe:
    """The recipe a run was trained with, from its run.json (validated as any recipe is)."""
    return from_mapping(
        info.recipe, info.recipe_name, Path(info.recipe_name), f"{info.id}'s recipe"
    )


def from_mapping(raw: Any, name: str, path: Path, shown: str) -> Recipe:
    """Validate a recipe's sections (every problem reported at once) and build it."""
    problems: list[str] = []
    values = _check(raw, Recipe, "", problems, shown)
    if not problems:
        sections = {k: SECTIONS[k](**v) for k, v in values.items() if is_dataclass(SECTIONS[k])}
        rec = Recipe(name, path, **{**values, **sections})
        problems += _ranges(rec, shown)
    if problems:
        raise GaError(
            "invalid recipe:\n  " + "\n  ".join(problems),
            "fix every line above (see `ga train init NAME` for a valid example)",
        )
    return rec


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
