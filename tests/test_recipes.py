"""Recipes are validated against their own dataclasses (no second schema), every problem at
once with its line; the ledger's settings are read into one typed record."""

from __future__ import annotations

import json

import pytest
from conftest import run_helper

from ga_cli.errors import GaError
from ga_cli.training import recipe as R

BAD = """\
base_model: embedded
max_seq_len: "512"
seed: true
lora:
  r: 8
  alpha: 16
  dropout: 0
  target_modules: [q_proj, 3]
sft: 5
dpo:
  enabled: yes
  epochs: 1
  max_steps: null
  learning_rate: 0.1
  beta: 0.1
  batch_size: 1
  sft_weight: 1
  bogus: 2
gate:
  max_drift: 0.25
"""


def test_every_problem_is_named_with_its_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(GaError) as err:
        R.load(str(path))
    said = err.value.message.splitlines()[1:]
    assert [line.strip() for line in said] == [
        f"{path}:2: `max_seq_len` has the wrong type: text, expected a whole number",
        f"{path}:3: `seed` has the wrong type: true/false, expected a whole number",
        f"{path}:8: `lora.target_modules` has the wrong type: a list, expected a list of text",
        f"{path}:9: `sft` has the wrong type: a whole number, expected a mapping",
        f"{path}:11: `dpo.enabled` has the wrong type: text, expected true/false",
        f"{path}:18: unknown key `dpo.bogus`",
        f"{path}: missing `gate.max_repetition_rise`",
        f"{path}: missing `gate.max_degenerate_rise`",
        f"{path}: missing `gate.min_length_ratio`",
        f"{path}: missing `gate.max_length_ratio`",
    ]


def test_shipped_recipes_load_typed_and_round_trip(tmp_path):
    for name in R.names():
        rec = R.load(name)
        assert rec.sft.epochs >= 1 and isinstance(rec.gate.max_drift, float)
        assert isinstance(rec.lora.target_modules, list)
        copy = tmp_path / f"{name}.json"  # JSON is YAML: what run.json keeps loads as a recipe
        copy.write_text(json.dumps(rec.to_json()))
        again = R.load(str(copy))
        assert again.method() == rec.method() and again.gate == rec.gate
    rec = R.load("cpu-default")
    inc = rec.for_round()  # an incremental round: the section's epochs, nothing else
    assert inc.sft.epochs == inc.dpo.epochs == rec.incremental.epochs != rec.sft.epochs
    assert inc.sft.learning_rate == rec.sft.learning_rate and inc.gate == rec.gate


def test_a_recipe_without_later_keys_gets_their_defaults(tmp_path):
    data = R.load("cpu-tiny").to_json()
    del data["incremental"], data["sft"]["chosen_repeats"], data["dpo"]["on_policy"]
    del data["gradient_checkpointing"]
    path = tmp_path / "old.yaml"
    path.write_text(json.dumps(data))
    old = R.load(str(path))
    assert old.incremental == R.Incremental() and old.sft.chosen_repeats == 1
    assert old.dpo.on_policy == 0 and old.gradient_checkpointing is False


def test_gradient_checkpointing_is_memory_not_method(tmp_path):
    """Turning it on or off trains the same model: a continued run stays incremental."""
    from dataclasses import replace

    rec = R.load("cpu-default")
    assert rec.gradient_checkpointing is True  # the shipped default: peak memory <= 2.5 GB
    flipped = replace(rec, gradient_checkpointing=False)
    assert flipped.method() == rec.method() and flipped.to_json() != rec.to_json()
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps({**rec.to_json(), "gradient_checkpointing": "yes"}))
    with pytest.raises(GaError) as err:
        R.load(str(path))
    assert "`gradient_checkpointing` has the wrong type: text, expected true/false" in str(
        err.value
    )


def test_the_recipe_turns_checkpointing_on_and_off_in_the_model(tiny_model, tmp_path):
    """Both ways a run loads its model: a fresh LoRA, and a run's adapter continued (where
    Unsloth would otherwise turn checkpointing on by itself)."""
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(json.dumps({**R.load("cpu-tiny").to_json(), "base_model": str(tiny_model)}))
    seen = json.loads(run_helper("checkpointing.py", tiny_model, recipe).splitlines()[-1])
    assert seen == {
        "fresh_on": [True],
        "fresh_off": [False],
        "continued_on": [True],
        "continued_off": [False],
    }


def test_the_ledger_settings_are_typed(ga, ledger):
    from ga_cli.ledger.store import Ledger

    assert Ledger.open().config().train_auto == 0
    assert ga("config", "set", "train.auto", "7").exit_code == 0
    assert ga("config", "set", "teacher", "openai/gpt-4o-mini").exit_code == 0
    config = Ledger.open().config()
    assert config.train_auto == 7 and config.teacher_target == ("openai/gpt-4o-mini", None)
    assert (config.model, config.recipe, config.prompt_corrections) == (
        "embedded",
        "cpu-default",
        None,
    )
