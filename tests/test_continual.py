"""Continual learning: incremental runs continue the current adapter on what is new, fall back to
a full run when something was taken back, and training can start itself in the background."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import run_ga, run_helper
from test_train import corrected, recipe  # noqa: F401  (fixture and helper)

from ga_cli.errors import GaError


def _train(*args: str) -> dict:
    r = run_ga("train", *args, "--json", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(json.loads(r.stdout))


@pytest.mark.slow
def test_incremental_run_continues_the_parent_then_a_removal_forces_a_full_run(
    ga, corrected, tiny_model, tmp_path
):
    rec = recipe(tmp_path, tiny_model, sft_steps=3, lr=0.01)
    rec.write_text(rec.read_text() + "incremental: {rescore: 2}\n")
    assert ga("config", "set", "recipe", str(rec)).exit_code == 0
    value = ga("values", "add", "Be brief.", "--why", "time").stderr
    first = _train("--force")
    assert first["training"]["kind"] == "full" and first["parent"] is None
    assert "no current model" in first["training"]["reason"]
    home = Path(os.environ["GA_HOME"])
    parent_adapter = home / "models" / first["id"] / "adapter"
    # the adapter a continued run starts from is the parent's, trainable, not a fresh LoRA
    out = run_helper("continued_adapter.py", tiny_model, parent_adapter, rec)
    loaded = json.loads(out.splitlines()[-1])  # after Unsloth's banner
    assert loaded["matched_saved"] == loaded["lora_params"] > 0, loaded
    assert loaded["equal_to_saved"] and loaded["trainable"], loaded
    assert loaded["fresh_lora_b_zero"] and loaded["differs_from_fresh"], loaded

    added = []
    for p, bad, good in [
        ("Name a fruit", "Apple.", "A blood orange, sliced thin."),
        ("Describe snow", "Cold.", "Quiet, blue at dusk."),
        ("Suggest a book", "Any.", "The Left Hand of Darkness."),
    ]:
        r = run_ga("correct", "--prompt", p, "--rejected", bad, "--better", good, "--why", "flat")
        assert r.returncode == 0, r.stderr
        added.append(r.stderr.split("correction ")[1].split()[0].rstrip(".:"))
    r = run_ga("train", "--force", "--json", timeout=900)  # promoted: the next run's parent
    assert r.returncode == 0, r.stderr[-3000:]
    second = json.loads(r.stdout)
    kind = second["training"]
    assert kind["kind"] == "incremental" and second["parent"] == first["id"], kind
    assert f"Incremental run, continuing {first['id']}" in r.stderr
    dataset = Path(second["dataset"])
    held = set(json.loads((dataset / "manifest.json").read_text())["heldout_ids"])
    trained_new = sorted(set(added) - held)
    assert trained_new and list(kind["new"]["entries"]) == trained_new, (kind, added, held)
    assert kind["new"]["sft"] == len(trained_new)
    assert kind["replayed"]["sft"] > 0  # earlier records are replayed beside the new ones
    # the gate judged it against its parent, on every past correction, drift against the base
    assert second["eval"]["reference"] == first["id"]
    assert second["eval"]["after"]["fixed"] + second["eval"]["after"]["wrong"] >= 9
    # only what is new is scored on the parent, what is new and a sample of 2 on the new run;
    # the rest keeps the parent's recorded result
    rescored = second["eval"]["rescored"]
    assert rescored["reference_carried"] > 0 and rescored["carried"] > 0, rescored
    assert rescored["scored"] >= len(trained_new) + 2, rescored
    assert first["eval"]["rescored"]["carried"] == 0  # a first run scores every pair
    # nothing new: nothing trained
    again = run_ga("train", timeout=900)
    assert again.returncode == 0 and "Nothing new since" in again.stderr, again.stderr[-2000:]
    current = second["id"]
    assert current in again.stderr
    # a value the model learned from is removed: continuing would keep it, so a full run
    value_id = value.split("value ")[1].split()[0].rstrip(".:")
    assert ga("values", "rm", value_id).exit_code == 0
    r = run_ga("train", "--force", "--json", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    third = json.loads(r.stdout)
    assert third["training"]["kind"] == "full" and third["parent"] is None
    assert third["eval"]["rescored"] == {"reference_carried": 0, "carried": 0,
                                         "scored": third["eval"]["after"]["fixed"]
                                         + third["eval"]["after"]["wrong"]}  # fmt: skip
    assert f"Full run: 1 entry {current} learned from was removed or retired" in r.stderr
    assert value_id in third["training"]["reason"]
    # --full is honoured (and said) even where a run could be continued
    run_ga("correct", "--prompt", "Name a tree", "--rejected", "Oak.", "--better", "A yew.")
    r = run_ga("train", "--full", "--steps", "1", "--force", "--json", timeout=900)
    assert r.returncode == 0 and json.loads(r.stdout)["training"]["reason"] == "--full was given"


@pytest.mark.slow
def test_auto_train_starts_one_background_run_after_n_entries(ga, corrected, tiny_model, tmp_path):
    rec = recipe(tmp_path, tiny_model, sft_steps=2, lr=0.01)
    assert ga("config", "set", "recipe", str(rec)).exit_code == 0
    first = _train("--force")  # the current model: new entries count from its commit
    assert ga("config", "set", "train.auto", "2").exit_code == 0

    def correct(p: str) -> str:
        r = run_ga("correct", "--prompt", p, "--rejected", "No.", "--better", f"{p}: yes.")
        assert r.returncode == 0, r.stderr
        return r.stderr

    assert "training in the background" not in correct("One")
    said = correct("Two")  # the second new entry: one background run starts
    assert "2 new entries since the current model: training in the background" in said, said
    from ga_cli import registry
    from ga_cli.training import auto

    state = auto.read_state()
    log = Path(state.log)
    logs = log.parent
    assert state.pid and log.is_file()
    assert registry.training_pid() == state.pid  # it holds the registry from its start
    assert "training in the background" not in correct("Three")  # none while one runs
    assert len(list(logs.glob("*.log"))) == 1
    deadline = time.monotonic() + 600
    while auto.running() and time.monotonic() < deadline:
        time.sleep(1)
    state = auto.read_state()
    assert state.finished, log.read_text()[-3000:]
    text = log.read_text()
    assert "sft: 0/2" in text and ("Promoted to current" in text or "NOT promoted" in text), text
    assert state.run and state.run != first["id"]
    status = run_ga("status")
    assert f"background training: {state.run}" in status.stdout, status.stdout
    # ga chat says it once, the next session no more
    chat = run_ga("chat", input="")
    assert f"Background training: {state.run}" in chat.stderr, chat.stderr
    assert "Background training" not in run_ga("chat", input="").stderr


def test_one_training_at_a_time(ga_home):
    from ga_cli import registry

    fd = registry.try_lock()
    assert fd is not None
    try:
        assert registry.try_lock() is None
        with pytest.raises(GaError, match="another ga train is running"), registry.training():
            pass
    finally:
        os.close(fd)
    with registry.training():
        assert registry.training_pid() == os.getpid()
    assert registry.training_pid() is None


def test_train_auto_is_validated(ga, ledger):
    r = ga("config", "set", "train.auto", "soon")
    assert r.exit_code == 1 and "train.auto: `soon` is not a whole number" in r.stderr
    assert ga("config", "set", "train.auto", "5").exit_code == 0
    assert ledger.config().train_auto == 5


def test_incremental_section_is_validated(ga, ledger, tmp_path):
    ga("train", "init", "cpu-tiny", str(tmp_path))
    copy = tmp_path / "cpu-tiny.yaml"
    copy.write_text(copy.read_text().replace("  epochs: 1  # passes", "  epochs: 0  # passes"))
    r = run_ga("train", "--recipe", str(copy))
    assert r.returncode == 1 and "`incremental.epochs` must be >= 1" in r.stderr
