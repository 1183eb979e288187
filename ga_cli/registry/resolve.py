"""One name, one meaning, for every command: `resolve(name) -> Target`.

A name is an alias (`ga models alias`), `current`/`ga-personal` (the current run), a run id or
its prefix (r-...), or a model spec (`embedded`, a folder, a .gguf, a cached Hugging Face id, a
litellm provider string). `ga ask/chat/serve/eval/export/models` all resolve through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ga_cli.errors import GaError
from ga_cli.registry import aliases, runs
from ga_cli.registry.runs import Run

if TYPE_CHECKING:
    from ga_cli.models.base import Backend

CURRENT = ("current", "ga-personal")  # the current run, by either name


def names_a_run(spec: str) -> bool:
    return spec in CURRENT or spec.startswith("r-")


@dataclass(frozen=True)
class Target:
    """What a name stands for: a trained run (its base model with its adapter), or a model."""

    name: str  # as the principal gave it
    spec: str  # the run's id, or the model spec
    run: Run | None = None

    @property
    def files(self) -> str:
        """The model whose files (tokenizer, weights) this uses: a run's base, else the spec."""
        return self.run.base_path if self.run is not None else self.spec

    def load(
        self,
        progress: Callable[[str], None] | None = None,
        adapter: str | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
    ) -> Backend:
        if self.run is not None:
            return self.run.backend(progress)
        from ga_cli import models

        return models.load(
            self.spec, adapter=adapter, api_base=api_base, api_key=api_key, progress=progress
        )


def resolve(name: str) -> Target:
    """The run or model `name` stands for; a name that cannot load is refused before anything
    loads, with the names that would work."""
    spec = aliases.resolve(name.strip())
    if spec in CURRENT:
        cur = runs.current()
        if cur is None:
            raise GaError("there is no current model yet", "train one with `ga train`")
        return Target(name, cur.id, cur)
    if spec.startswith("r-"):
        run = runs.get(spec)
        return Target(name, run.id, run)
    _check_known(spec)
    return Target(name, spec)


def resolve_default(configured: str | None) -> Target:
    """What to use when no name is given: the current run, else the ledger's configured model,
    else the embedded one."""
    cur = runs.current()
    if cur is not None:
        return Target("current", cur.id, cur)
    return resolve(configured or "embedded")


def resolve_run(name: str | None) -> Run:
    """A trained run by name (default: the current one); a model that is not a run is refused."""
    target = resolve(name or "current")
    if target.run is None:
        raise GaError(
            f"`{name}` is a model, not one of your trained runs",
            "give a run id from `ga models list`, or `current`",
        )
    return target.run


def _check_known(spec: str) -> None:
    from ga_cli import models

    try:
        models.check_spec(spec)
    except GaError as exc:
        names = [*aliases.all_aliases(), *(["ga-personal"] if runs.current() else [])]
        names += [r.id for r in runs.runs()][-3:]
        known = f"; or one of yours: {', '.join(names)}" if names else ""
        raise GaError(exc.message, (exc.hint or "") + known) from None
