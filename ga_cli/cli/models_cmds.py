"""`ga models`: the registry's runs and aliases: list, inspect, switch, roll back, remove."""

from __future__ import annotations

from typing import Any

import typer

from ga_cli.cli import output
from ga_cli.cli.group import new_app
from ga_cli.cli.options import JSON
from ga_cli.cli.output import number as num

models_app = new_app(help="Your trained models: list, inspect, switch, roll back, remove.")


@models_app.command("list")
def models_list(json_out: bool = JSON) -> None:
    """Everything `-m` can name, like `ollama list` and `ollama ps` together: the embedded
    model, your trained runs (`*` the current one), aliases, and what a running `ga serve` has
    loaded."""
    rows = _listing()
    if json_out:
        output.emit_json(rows)
        return
    output.table(
        ["", "kind", "name", "base / target", "ledger", "recipe", "pref acc", "drift", "promoted"],
        whole=("name", "ledger"),
        rows=(
            [
                "*" if r.get("current") else "",
                r["kind"],
                r.get("id") or r["name"],
                r.get("base_model") or r.get("target") or r.get("url") or "",
                r.get("ledger_sha") or "",
                r.get("recipe") or "",
                num(r.get("pref_accuracy")),
                num(r.get("drift"), 3),
                r.get("promoted", ""),
            ]
            for r in rows
        ),
    )
    if not any(r["kind"] == "run" for r in rows):
        output.info("No trained models yet. Train one with `ga train`.")


def _listing() -> list[dict[str, Any]]:
    """Rows with a `kind`: base (embedded), run, alias, served."""
    from ga_cli import registry
    from ga_cli.models import embedded
    from ga_cli.registry import aliases
    from ga_cli.serve.server import loaded_by_running

    cur = registry.current()
    rows: list[dict[str, Any]] = [
        {"kind": "base", "name": "embedded", "target": f"{embedded.NAME} (shipped, Q4_1)"}
    ]
    for r in registry.runs():
        i = r.info
        rows.append(
            {
                "kind": "run",
                "id": r.id,
                "name": r.id,
                "current": bool(cur and cur.id == r.id),
                "base_model": i.base_model,
                "ledger_sha": i.ledger_sha[:7],
                "recipe": i.recipe_name,
                "pref_accuracy": i.pref_accuracy,
                "drift": i.drift,
                "promoted": i.promoted,
            }
        )
    rows += [{"kind": "alias", "name": n, "target": t} for n, t in aliases.all_aliases().items()]
    rows += [{"kind": "served", **loaded} for loaded in loaded_by_running()]
    return rows


@models_app.command("show")
def models_show(run_id: str = typer.Argument("current", metavar="RUN")) -> None:
    """Print a run's run.json."""
    from ga_cli import registry

    output.emit_json(registry.resolve_run(run_id).info.to_json())


@models_app.command("use")
def models_use(run_id: str = typer.Argument(..., metavar="RUN")) -> None:
    """Make RUN the model ga chat, ga ask and ga serve use by default."""
    from ga_cli import registry

    r = registry.resolve_run(run_id)
    registry.set_current(r, "ga models use")
    output.info(f"Current model: {r.id}")


@models_app.command("rollback")
def models_rollback() -> None:
    """Go back to the model that was current before."""
    from ga_cli import registry

    r = registry.rollback()
    output.info(f"Current model: {r.id if r else 'the base model'}")


@models_app.command("rm")
def models_rm(run_id: str = typer.Argument(..., metavar="RUN")) -> None:
    """Delete a run that is not current."""
    from ga_cli import registry

    r = registry.resolve_run(run_id)
    registry.remove(r)
    output.info(f"Removed {r.id}.")


@models_app.command("alias")
def models_alias(
    name: str = typer.Argument(..., help="The short name, e.g. fast."),
    target: str = typer.Argument(
        ..., metavar="RUN|MODEL", help="A run id, or a model (litellm id, folder, .gguf, ...)."
    ),
) -> None:
    """Name a run or a model: ga models alias fast ollama/llama3.2, then ga ask -m fast."""
    from ga_cli import registry
    from ga_cli.registry import aliases

    aliases.check_name(name)
    resolved = registry.resolve(target)  # refused here if it names nothing that loads
    if target != "ga-personal":  # a run by its whole id (`current` would move), a model as is
        target = resolved.spec
    aliases.set_alias(name, target)
    output.info(f"{name} -> {target}")


@models_app.command("aliases")
def models_aliases(json_out: bool = JSON) -> None:
    """Every alias and what it stands for."""
    from ga_cli.registry import aliases

    found = aliases.all_aliases()
    if json_out:
        output.emit_json(found)
        return
    if not found:
        output.info("No aliases yet: ga models alias NAME RUN|MODEL")
        return
    output.table(["alias", "model"], found.items(), whole=("alias", "model"))


@models_app.command("unalias")
def models_unalias(name: str = typer.Argument(..., help="The alias to remove.")) -> None:
    """Remove an alias (what it named stays)."""
    from ga_cli.registry import aliases

    aliases.remove(name)
    output.info(f"Removed alias {name}.")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
