"""Retention and generation health: the probe set, its metrics, the cached base references and
the promotion gate, on real models and real `ga train` runs."""

from __future__ import annotations

import json
import math

import pytest
from conftest import listed_runs, run_ga
from test_train import corrected, recipe  # noqa: F401  (fixture and helper)

from ga_cli.training import retention as RT
from ga_cli.training.recipe import Gate

LIMITS = Gate(
    max_drift=0.3,
    max_repetition_rise=0.1,
    max_degenerate_rise=0.15,
    min_length_ratio=0.2,
    max_length_ratio=3.0,
)


def test_probe_set_is_large_varied_and_unique():
    probes = RT.probes()
    assert len(probes) >= 50
    areas = {p["area"] for p in probes}
    assert areas == {"writing", "reasoning", "facts", "code", "advice"}
    assert all(sum(p["area"] == a for p in probes) >= 10 for a in areas)
    assert len({p["prompt"] for p in probes}) == len(probes)
    assert len({p["id"] for p in probes}) == len(probes)
    assert 15 <= len(RT.health_probes()) < len(probes)


def test_health_metrics_on_known_text():
    loop = "a fleeting moment of beauty, " * 8
    assert RT.repetition("the cat sat on the mat") == 0.0
    assert RT.repetition(loop) > 0.7
    assert RT.longest_repeat("one two three one two three four") == 3
    assert RT.longest_repeat("all different words here") == 0
    assert RT.longest_repeat(loop) > 30
    q = "What is the capital of France?"
    assert RT.degenerate("", "stop", q) == "empty"
    assert RT.degenerate(" ... ", "stop", q) == "empty"
    assert RT.degenerate(q + " It is", "stop", q) == "copies the prompt"
    assert RT.degenerate(loop, "length", q) == "runs on repeating"
    assert RT.degenerate("The capital of France is the", "stop", q) == "stops mid-sentence"
    assert RT.degenerate("Bottom course:", "stop", q) is None  # too short to judge
    assert RT.degenerate("Paris is the capital of France.", "stop", q) is None
    assert RT.degenerate("The answer is: 18", "stop", q) is None
    assert RT.degenerate("A long answer the token limit cut in the mid", "length", q) is None
    h = RT.health([("Paris.", "stop", 2), ("", "stop", 0), (loop, "length", 60)], [q, q, q])
    assert h.outputs == 3 and h.degenerate == pytest.approx(2 / 3, abs=1e-3)
    assert h.degenerate_kinds == {"empty": 1, "runs on repeating": 1}
    assert h.mean_tokens == pytest.approx(62 / 3, abs=0.1)
    assert [s["why"] for s in h.samples] == ["empty", "runs on repeating"]


def _result(drift=0.05, rep=(0.05, 0.06), deg=(0.05, 0.05), ratio=1.0):
    side = lambda r, d: RT.Health(3, r, 0, d, {}, 40.0, [])
    return RT.Retention(
        probes=3,
        health_prompts=3,
        max_tokens=RT.MAX_TOKENS,
        probe_logprob=RT.LogprobDrift(-2.0, None if drift is None else -2.0 - drift),
        drift=drift,
        examples=None,
        health={
            m: RT.HealthChange(side(rep[0], deg[0]), side(rep[1], deg[1]), ratio)
            for m in ("greedy", "sampled")
        },
    )


def test_gate_names_every_failing_number():
    assert RT.gate(_result(), LIMITS) == []
    assert RT.gate(_result(drift=0.5), LIMITS) == [
        "drift on general prompts 0.500 nats/token > gate.max_drift 0.3"
    ]
    assert "gate.max_drift" in RT.gate(_result(drift=None), LIMITS)[0]  # a blown-up model
    fails = RT.gate(_result(rep=(0.05, 0.4)), LIMITS)
    assert len(fails) == 2 and fails[0].startswith("greedy repetition rose 0.350 (0.05 -> 0.40)")
    assert "sampled" in fails[1] and "gate.max_repetition_rise 0.1" in fails[1]
    fails = RT.gate(_result(deg=(0.0, 0.5), ratio=0.1), LIMITS)
    assert any("degenerate outputs rose 0.50" in f for f in fails)
    assert any("length ratio 0.100 outside" in f for f in fails)
    assert not RT.gate(_result(drift=-0.2), LIMITS)  # more likely than the base: no harm


def test_references_are_deterministic_per_base_model_and_cached(
    tiny_model, embedded_dir, tmp_path, monkeypatch
):
    from ga_cli.models.local import LocalBackend

    monkeypatch.setenv("GA_CACHE_DIR", str(tmp_path / "one"))
    backend = LocalBackend(tiny_model)
    first = RT.references(backend)
    assert [a["id"] for a in first["answers"]] == [p["id"] for p in RT.probes()]
    assert math.isfinite(first["logprob"]) and first["logprob"] < 0
    assert len(list((tmp_path / "one" / "probes").glob("*.json"))) == 1
    # the second call reads the cache and does not generate
    monkeypatch.setattr(backend, "generate_batch", lambda *a, **k: pytest.fail("regenerated"))
    assert RT.references(backend) == first
    # a fresh load into an empty cache produces the same answers and numbers
    monkeypatch.setenv("GA_CACHE_DIR", str(tmp_path / "two"))
    again = RT.references(LocalBackend(tiny_model))
    assert again == first
    assert RT.cache_key(str(tiny_model)) != RT.cache_key(str(embedded_dir))
    # the base model measured against itself: no drift, same health
    same = RT.measure(LocalBackend(tiny_model), [])
    assert same.drift == 0.0 and same.health["greedy"].length_ratio == 1.0
    assert same.to_json()["health"]["greedy"]["base"] == first["health"]["greedy"]


def test_recipe_gate_is_validated(ga, ledger, tmp_path):
    out = ga("train", "init", "cpu-tiny", str(tmp_path))
    copy = tmp_path / "cpu-tiny.yaml"
    text = copy.read_text()
    copy.write_text(
        text.replace("  min_length_ratio: 0.4", "  min_length_ratio: 5").replace(
            "  sft_weight: 0.0", "  sft_weight: -1"
        )
    )
    r = run_ga("train", "--recipe", str(copy))
    assert r.returncode == 1 and out.exit_code == 0
    assert "`gate.min_length_ratio` must be below `gate.max_length_ratio`" in r.stderr
    assert "`dpo.sft_weight` must be >= 0" in r.stderr
    copy.write_text(text[: text.index("gate:")])
    r = run_ga("train", "--recipe", str(copy))
    assert r.returncode == 1 and "missing `gate`" in r.stderr


@pytest.mark.slow
def test_gate_refuses_an_overtrained_run_and_passes_a_normal_one(
    ga, corrected, tiny_model, tmp_path
):
    normal = recipe(tmp_path, tiny_model, sft_steps=2, lr=1e-5, dpo=False, replay=5)
    r = run_ga("train", "--recipe", str(normal), "--json", timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    kept = json.loads(r.stdout)  # progress went to stderr: stdout is only the JSON
    # off a terminal, each stage and evaluation phase says where it is in plain lines
    for line in ("sft: 0/2", "sft: 2/2", "base: preference pairs: 0/", "retention: drift"):
        assert line in r.stderr, (line, r.stderr[-3000:])
    assert "(done in" in r.stderr
    from ga_cli.training import replay

    assert kept["replay_rows"] == len(replay.rows(str(tiny_model), 5))  # cached: no generation
    assert kept["promoted"] is True, kept["promotion"]
    assert "retention gate passed" in kept["promotion"]
    ret = kept["eval"]["retention"]
    assert ret["probes"] == len(RT.probes()) and abs(ret["drift"]) < LIMITS.max_drift
    assert ret["examples"] is None  # this ledger has corrections, no examples
    hot = recipe(tmp_path, tiny_model, sft_steps=12, lr=0.5, dpo=False, name="hot")
    r = run_ga("train", "--recipe", str(hot), timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Kept, NOT promoted" in r.stderr and "gate.max_drift" in r.stderr
    assert "No earlier checkpoint passed either (" in r.stderr  # its epochs were tried too
    listed = {m["id"]: m for m in listed_runs()}
    refused = next(m for i, m in listed.items() if i != kept["id"])
    assert listed[kept["id"]]["current"] and not refused["promoted"]
    shown = json.loads(run_ga("models", "show", refused["id"]).stdout)
    assert shown["eval"]["retention"]["drift"] is None or shown["eval"]["retention"]["drift"] > 0.3
    # ga eval shows the same numbers side by side, and the gate's verdict
    ev = run_ga("eval", refused["id"], timeout=600)
    assert ev.returncode == 0, ev.stderr
    assert "general prompts log-prob" in ev.stdout and "greedy: repeated 3-grams" in ev.stdout
    assert "retention gate failed" in ev.stderr and "gate.max_drift" in ev.stderr


@pytest.mark.slow
def test_a_run_whose_final_model_fails_keeps_its_latest_passing_checkpoint(
    ga, corrected, tiny_model, tmp_path
):
    """SFT barely moves the model, then DPO at a learning rate that breaks it: the final model
    fails the gate, so do DPO's earlier epochs, and SFT's last epoch is kept and promoted."""
    from ga_cli.training.recipe import Gate

    assert Gate(0.3, 0.1, 0.15, 0.2, 3.0).checkpoints == 4  # a recipe without the key: on
    p = tmp_path / "late-break.yaml"
    p.write_text(f"""base_model: {tiny_model}
max_seq_len: 512
seed: 0
lora: {{r: 8, alpha: 16, dropout: 0.0, target_modules: [q_proj, k_proj, v_proj, o_proj]}}
sft: {{epochs: 2, max_steps: null, learning_rate: 0.000001, batch_size: 4, warmup_steps: 0,
       scheduler: constant, grad_clip: 1.0, replay: 0}}
dpo: {{enabled: true, epochs: 2, max_steps: null, learning_rate: 0.5, beta: 0.1,
       batch_size: 4, sft_weight: 1.0}}
gate: {{max_drift: 0.3, max_repetition_rise: 0.1, max_degenerate_rise: 0.15,
        min_length_ratio: 0.2, max_length_ratio: 3.0, checkpoints: 4}}
""")
    r = run_ga("train", "--recipe", str(p), "--json", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    run = json.loads(r.stdout)
    said = r.stderr
    assert "The final model failed the rule; trying up to 3 earlier checkpoint(s)." in said
    assert "Kept sft epoch 2 of 2: the final model failed the rule (" in said, said[-3000:]
    assert "gate.max_drift" in said and "so did dpo epoch 1 of 2" in said
    assert run["promoted"] is True, run["promotion"]
    kept = run["checkpoint"]
    assert kept["kept"] == "sft epoch 2 of 2" and kept["seconds"] > 0
    assert [m["model"] for m in kept["refused"]] == ["the final model", "dpo epoch 1 of 2"]
    assert all("gate.max_drift" in m["why"] for m in kept["refused"])
    # the run's adapter is the kept checkpoint: ga eval measures it within the gate
    assert run["eval"]["retention"]["drift"] < 0.3
    import os
    from pathlib import Path

    folder = Path(os.environ["GA_HOME"]) / "models" / run["id"]
    assert (folder / "adapter" / "adapter_config.json").is_file()
    assert not (folder / "checkpoints").exists()  # not kept with the finished run
    ev = json.loads(run_ga("eval", run["id"], "--json", timeout=600).stdout)
    assert ev["retention"]["drift"] == pytest.approx(run["eval"]["retention"]["drift"], abs=1e-3)
    assert ev["gate"]["failures"] == []


def test_promotion_needs_accuracy_and_the_gate():
    from dataclasses import replace

    from ga_cli.training.evaluate import Evaluation, promotion

    ref = Evaluation("base", 10, 0.6, ["a"], [])
    cand = Evaluation("r-1", 10, 0.9, ["a"], [], retention=_result(drift=0.8))
    ok, why = promotion(ref, cand, LIMITS)
    assert not ok and why == "drift on general prompts 0.800 nats/token > gate.max_drift 0.3"
    cand = replace(cand, retention=_result())
    ok, why = promotion(ref, cand, LIMITS)
    assert ok and why.endswith("retention gate passed")
    cand = replace(cand, pref_accuracy=0.5, retention=_result(rep=(0.0, 0.5)))
    ok, why = promotion(ref, cand, LIMITS)
    assert not ok and why.startswith(
        "held-out preference accuracy fell from 0.60 to 0.50; greedy repetition rose 0.500"
    )


@pytest.mark.slow
def test_replay_is_the_base_models_own_finished_answers_made_once(embedded_dir, monkeypatch):
    from ga_cli import models
    from ga_cli.training import replay

    assert not set(replay.prompts()) & {p["prompt"] for p in RT.probes()}  # never scored on
    rows = replay.rows(str(embedded_dir), 8, system="You are ga.")
    assert 1 <= len(rows) <= 8
    for row in rows:
        assert row["prompt"][0] == {"role": "system", "content": "You are ga."}
        prompt, answer = row["prompt"][1]["content"], row["completion"][0]["content"]
        assert row["prompt"][1]["role"] == "user" and prompt in replay.prompts()
        assert answer and RT.degenerate(answer, "stop", prompt) is None
    monkeypatch.setattr(models, "load", lambda *a, **k: pytest.fail("regenerated"))
    assert replay.rows(str(embedded_dir), 8, system="You are ga.") == rows
    assert replay.rows(str(embedded_dir), 1)[0]["prompt"][0]["role"] == "user"
    assert replay.rows(str(embedded_dir), 0) == []
