"""The registry as a stage: one resolver for every command, run.json read and written in one
place (old files still read), the training lock. Runs are made here as `ga train` leaves them
on disk (a folder with run.json), without training: what is under test is how names resolve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from ga_cli import registry
from ga_cli.errors import GaError

OLD_RUN_JSON = {  # a run.json of the first registry: no training/eval sections, no seed
    "base_model": "embedded",
    "base_model_path": "/models/smollm2",
    "ledger_sha": "abc1234def",
    "recipe_name": "cpu-tiny",
    "recipe": {"max_seq_len": 256},
    "promoted": True,
    "eval": {"after": {"pref_accuracy": 0.75}, "retention": {"drift": 0.125}},
    "written_by": "ga 0.0.9",  # a key this version does not know
}


def make_run(run_id: str, current: bool = False, **fields) -> registry.Run:
    path = registry.root() / run_id
    (path / "adapter").mkdir(parents=True)
    (path / "run.json").write_text(json.dumps({**OLD_RUN_JSON, "id": run_id, **fields}))
    run = registry.Run(run_id, path)
    if current:
        registry.set_current(run, "test")
    return run


def test_run_json_of_an_older_version_reads_and_keeps_what_it_does_not_know():
    run = make_run("r-20261101-120000-aaaa")
    info = run.info
    assert (info.id, info.base_model, info.kind, info.seed) == (run.id, "embedded", "full", 0)
    assert (info.pref_accuracy, info.drift, info.last_eval) == (0.75, 0.125, None)
    run.save(info.with_eval({"run": run.id, "regressions": []}))
    saved = json.loads((run.path / "run.json").read_text())
    assert saved["written_by"] == "ga 0.0.9" and saved["last_eval"]["run"] == run.id
    assert registry.Run(run.id, run.path).info.last_eval == {"run": run.id, "regressions": []}


def test_a_run_json_that_is_not_one_is_named():
    run = make_run("r-20261101-120000-bbbb")
    (run.path / "run.json").write_text('{"id": "r-20261101-120000-bbbb"}')
    with pytest.raises(GaError, match=r"run\.json: not a run record \(no base_model"):
        _ = run.info
    (run.path / "run.json").write_text("{not json")
    with pytest.raises(GaError, match="cannot read the run record"):
        _ = run.info


def test_every_name_resolves_one_way(ga):
    older = make_run("r-20261101-120000-aaaa")
    newer = make_run("r-20261102-120000-bbbb", current=True)
    assert registry.resolve("current").run == newer
    assert registry.resolve("ga-personal").spec == newer.id
    assert registry.resolve("r-20261101").run == older  # a prefix of the id
    with pytest.raises(GaError, match="ambiguous"):
        registry.resolve("r-2026110")
    assert ga("models", "alias", "old", older.id[:12]).exit_code == 0
    assert ga("models", "alias", "now", "current").exit_code == 0
    assert ga("models", "alias", "small", "embedded").exit_code == 0
    aliases = json.loads(ga("models", "aliases", "--json").stdout)
    assert aliases == {"now": newer.id, "old": older.id, "small": "embedded"}  # runs by full id
    assert registry.resolve("old").run == older and registry.resolve("old").name == "old"
    target = registry.resolve("small")
    assert (target.run, target.spec, target.files) == (None, "embedded", "embedded")
    assert registry.resolve_default(None).run == newer  # no name: the current run
    with pytest.raises(GaError, match="is a model, not one of your trained runs"):
        registry.resolve_run("small")
    with pytest.raises(GaError) as bad:
        registry.resolve("nosuchmodel")
    assert "unknown model `nosuchmodel`" in bad.value.message
    assert "old" in (bad.value.hint or "") and "ga-personal" in (bad.value.hint or "")


def test_commands_share_the_resolver(ga, ledger):
    run = make_run("r-20261103-120000-cccc", current=True)
    assert ga("models", "alias", "mine", run.id).exit_code == 0
    shown = ga("models", "show", "mine")  # an alias works wherever a run is named
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == run.id
    assert ga("config", "set", "model", "mine").exit_code == 0  # a run is a model to talk to
    r = ga("eval", "small-model")
    assert r.exit_code == 1 and "unknown model `small-model`" in r.stderr
    assert ga("models", "alias", "tiny", "embedded").exit_code == 0
    r = ga("export", "tiny", "--gguf", "x.gguf")
    assert r.exit_code == 1 and "`tiny` is a model, not one of your trained runs" in r.stderr
    from ga_cli.serve import server

    _, key = server.loader("mine", None, print)  # `ga serve -m ALIAS`: pinned to the run
    assert key() == run.id
    with pytest.raises(GaError, match="unknown model `nope`"):
        server.loader("nope", None, print)  # refused before anything loads
    registry.set_current(None, "test")
    _, follow = server.loader(None, "embedded", print)
    assert follow() == "base"  # no -m: follows the current run, none now


def test_the_lock_names_its_holder_and_is_freed_when_it_dies(tmp_path):
    from ga_cli.fileio import FileLock

    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from ga_cli.fileio import FileLock
                lock = FileLock(Path({str(path)!r}))
                assert lock.acquire(wait=0)
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = FileLock(path)
        assert lock.holder() == holder.pid
        assert not lock.acquire(wait=0.05)  # polled, then refused
    finally:
        holder.kill()
        holder.wait()
    lock = FileLock(path)
    assert lock.holder() is None  # the kernel freed it
    assert lock.acquire(wait=0)
    assert lock.previous == holder.pid  # what the dead holder left: how stale state is found
    assert path.read_text() == str(os.getpid())
    lock.release()
    assert path.read_text() == ""
