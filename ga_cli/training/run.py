"""`ga train` end to end: dataset (rebuilt if stale) -> trainer -> eval -> registry -> promotion."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ga_cli.errors import GaError
from ga_cli.ledger.store import atomic_write
from ga_cli.training import recipe as R
from ga_cli.training import registry

Report = Callable[[dict[str, Any]], None]


def base_path(spec: str, progress: Callable[[str], None] | None = None) -> str:
    from ga_cli import models

    if models.is_remote(spec):
        raise GaError(f"cannot train `{spec}`: it is a remote provider",
                      "set base_model in the recipe to `embedded`, a local folder or a cached HF id")
    if spec == "embedded":
        from ga_cli.models import embedded

        return str(embedded.ensure_converted(progress))
    return str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec


def dataset_for(ledger: Any, rec: R.Recipe, base: str) -> Any:
    from ga_cli.dataset.build import Settings, build

    return build(ledger.root, "HEAD", settings=Settings(max_seq_len=rec["max_seq_len"],
                                                        tokenizer=base))


def evaluate_model(base: str, adapter: Path | None, dataset: Path, pairs: Path | None = None,
                   retention: bool = False) -> dict[str, Any]:
    """evaluate.evaluate(); with `retention`, also drift and generation health against the base
    (retention.measure: the base side comes from the same model with its adapter off)."""
    from ga_cli.models.local import LocalBackend
    from ga_cli.training import data
    from ga_cli.training.evaluate import evaluate

    backend = LocalBackend(base, adapter, name=Path(base).name)
    result = evaluate(backend, dataset, pairs)
    if retention:
        from ga_cli.training import retention as RT

        examples = [r for r in data.read_jsonl(dataset / "sft.jsonl")
                    if r.get("source") == "example"]
        result["retention"] = RT.measure(backend, examples)
    return result


def reference_eval(base: str, dataset: Path) -> tuple[str, dict[str, Any]]:
    """What a new run must not fall behind: the current model, or the base model."""
    cur = registry.current()
    if cur is not None:
        return cur.id, evaluate_model(cur.info["base_model_path"], cur.adapter, dataset)
    return "base", evaluate_model(base, None, dataset)


def train(ledger: Any, recipe_name: str | None, steps: int | None, resume: bool, force: bool,
          report: Report, say: Callable[[str], None]) -> dict[str, Any]:
    from ga_cli.training import evaluate as EV

    if resume:
        works = [w for w in registry.incomplete() if (w / "state.json").is_file()]
        if not works:
            raise GaError("there is no interrupted run to resume", "start one with `ga train`")
        work = works[-1]
        state = json.loads((work / "state.json").read_text())
        rec = R.load(state["recipe_path"])
    else:
        rec = R.load(recipe_name or str(ledger.config().get("recipe") or "cpu-default"))
        run_id = registry.new_run_id()
        work = registry.work_root() / run_id
        work.mkdir()
        state = {"run_id": run_id, "recipe_path": str(rec.path), "started": time.time()}
        atomic_write(work / "state.json", json.dumps(state).encode())
    base = base_path(rec["base_model"], say)
    built = dataset_for(ledger, rec, base)
    say(f"Dataset {'up to date' if built.cached else 'built'}: {built.out}")
    from ga_cli.training import trainer  # imports unsloth: only now, and before transformers
    from ga_cli.training import data, replay

    replayed = replay.rows(base, rec["sft"]["replay"], data.system_prompt(built.out), say)
    if resume and state.get("trained") and (work / "adapter" / "adapter_config.json").is_file():
        say("Training had finished before the interruption: evaluating it.")
        stages = {k: trainer.StageResult(**v) for k, v in state["trained"]["stages"].items()}
        train_seconds = state["trained"]["seconds"]
    else:
        t0 = time.perf_counter()
        stages = trainer.train(base, rec.data, built.out, work, report, steps=steps,
                               resume=resume, replay=replayed)
        train_seconds = time.perf_counter() - t0
        state["trained"] = {"seconds": train_seconds,
                            "stages": {k: asdict(v) for k, v in stages.items()}}
        atomic_write(work / "state.json", json.dumps(state).encode())  # --resume skips to eval
    say("Evaluating the base/current and the new model…")
    ref_name, ref = reference_eval(base, built.out)
    new = evaluate_model(base, work / "adapter", built.out, retention=True)
    ok, why = EV.promotion(ref, new, rec["gate"])
    info = {
        "id": state["run_id"], "base_model": rec["base_model"], "base_model_path": base,
        "ledger_sha": built.manifest["ledger_sha"], "dataset": str(built.out),
        "dataset_hash": built.manifest["content_hash"], "recipe_name": rec.name,
        "recipe": rec.data, "seed": rec["seed"], "versions": trainer.versions(),
        "durations": {k: round(v.seconds, 2) for k, v in stages.items()},
        "train_seconds": round(train_seconds, 2), "replay_rows": len(replayed),
        "metrics": {k: {"steps": v.steps, "final_loss": v.final_loss,
                        "tokens_per_s": round(v.tokens_per_s, 1)} for k, v in stages.items()},
        "eval": {"reference": ref_name, "before": brief(ref), "after": brief(new),
                 "regressions": EV.regressions(ref, new), "retention": new["retention"]},
        "promoted": ok or force, "promotion": why + (" (forced)" if force and not ok else ""),
    }
    (work / "run.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    run = registry.finish(work, state["run_id"])
    if ok or force:
        registry.set_current(run, "promoted by ga train" + (" --force" if force and not ok else ""))
    return info


def brief(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("model", "pairs", "pref_accuracy", "injection")} | {
        "fixed": len(result["fixed"]), "wrong": len(result["wrong"])}
