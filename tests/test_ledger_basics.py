"""ga init / values / example / correct / log / show / status against real git repos."""

from __future__ import annotations

import json
import os
import stat
import sys

from conftest import commits, run_ga


def test_init_creates_private_repo_with_one_commit(ga, ga_home):
    result = ga("init", "--name", "Ann", "--email", "ann@example.org")
    assert result.exit_code == 0, result.stderr
    root = ga_home / "ledger"
    assert result.stdout.strip() == str(root)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    from ga_cli.ledger.store import Ledger

    ledger = Ledger.open()
    assert commits(ledger) == ["Create the ledger from the ga template."]
    assert (root / "principal.yaml").exists() and (root / ".ga" / "config.yaml").exists()
    assert ledger.git("config", "user.email") == "ann@example.org"
    assert 'name: "Ann"' in (root / "principal.yaml").read_text()
    # the template's comments survive the name being filled in
    assert "# Who you are." in (root / "principal.yaml").read_text()
    assert ledger.dirty_files() == []


def test_init_refuses_non_empty_dir_and_file(ga, tmp_path):
    target = tmp_path / "full"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = ga("init", str(target))
    assert result.exit_code == 1
    assert "not empty" in result.stderr and str(target) in result.stderr
    assert (target / "keep.txt").read_text() == "mine"
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert "is a file" in ga("init", str(afile)).stderr


def test_ga_ledger_env_overrides_location(ga, tmp_path, monkeypatch):
    monkeypatch.setenv("GA_LEDGER", str(tmp_path / "elsewhere"))
    assert ga("init").exit_code == 0
    assert (tmp_path / "elsewhere" / ".git").is_dir()
    assert ga("values", "add", "Be kind.").exit_code == 0
    assert len(list((tmp_path / "elsewhere" / "values").glob("*.md"))) == 1


def test_no_ledger_offers_init(ga):
    result = ga("values", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no ledger at")
    assert "ga init" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_ledger_path_is_a_file(ga, ga_home):
    (ga_home / "ledger").write_text("oops")
    result = ga("status")
    assert result.exit_code == 1 and "is a file" in result.stderr


def test_corrupt_git_repo_is_reported(ga, ledger):
    (ledger.root / ".git" / "HEAD").write_text("garbage\n")
    result = ga("status")
    assert result.exit_code == 1
    assert "corrupt" in result.stderr or "not a ga ledger" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # Error: + Hint:


def test_values_add_list_json_rm(ga, ledger):
    r = ga(
        "values",
        "add",
        "Tell me plainly when I am wrong.",
        "--why",
        "I learn faster",
        "--tag",
        "style",
        "--tag",
        "honesty",
        "--priority",
        "1",
    )
    assert r.exit_code == 0, r.stderr
    vid = r.stdout.strip()
    assert vid.startswith("v-") and len(vid) == 10
    files = list((ledger.root / "values").glob("*.md"))
    assert len(files) == 1
    text = files[0].read_text()
    assert text.startswith("---\n") and "Tell me plainly when I am wrong." in text
    assert "provenance: principal" in text and "status: active" in text
    assert commits(ledger)[0] == f"Add value {vid}: Tell me plainly when I am wrong."

    listed = json.loads(ga("values", "list", "--json").stdout)
    assert [(v["id"], v["text"], v["tags"], v["priority"]) for v in listed] == [
        (vid, "Tell me plainly when I am wrong.", ["style", "honesty"], 1)
    ]
    assert listed[0]["created"].endswith("Z")

    assert ga("values", "rm", vid[:5]).exit_code == 0
    assert json.loads(ga("values", "list", "--json").stdout) == []
    retired = json.loads(ga("values", "list", "--all", "--json").stdout)
    assert retired[0]["status"] == "retired"
    assert commits(ledger)[0].startswith(f"Retire value {vid}")
    assert files[0].exists()  # retired, not deleted: history and file keep it


def test_empty_value_and_bad_priority_are_refused(ga, ledger):
    r = ga("values", "add", "   ")
    assert r.exit_code == 1 and "empty" in r.stderr
    r = ga("values", "add", "x", "--priority", "9")
    assert r.exit_code != 0 and "priority" in r.stderr
    assert commits(ledger) == ["Create the ledger from the ga template."]


def test_unknown_and_ambiguous_ids(ga, ledger):
    assert "no entry with id" in ga("show", "v-ffffffff").stderr
    assert "too short" in ga("show", "v").stderr


def test_example_from_file_and_stdin(ga, ledger, tmp_path):
    answer = tmp_path / "answer.md"
    answer.write_text("Short and concrete.\n\n- one\n- two\n")
    r = ga("example", "add", "--prompt", "Summarise this PR", str(answer), "--tag", "review")
    assert r.exit_code == 0, r.stderr
    r2 = ga("example", "add", "--prompt", "Say hi", "-", input="Hello there.")
    assert r2.exit_code == 0, r2.stderr
    listed = {e["prompt"]: e for e in json.loads(ga("example", "list", "--json").stdout)}
    assert listed["Summarise this PR"]["answer"] == "Short and concrete.\n\n- one\n- two"
    assert listed["Summarise this PR"]["provenance"] == "principal"
    assert listed["Say hi"]["provenance"] == "stdin" and listed["Say hi"]["status"] == "pending"
    assert ga("example", "add", "--prompt", "x", str(tmp_path / "missing.md")).exit_code == 1


def test_example_rejects_binary_stdin(ga, ledger, runner):
    from ga_cli.cli import app

    r = runner.invoke(app, ["example", "add", "--prompt", "x", "-"], input=b"\x00\x01\x02")
    assert r.exit_code == 1 and "binary" in r.stderr


def test_correct_with_flags_and_yaml_stdin(ga, ledger):
    r = ga(
        "correct",
        "--prompt",
        "Is Rust faster than Go?",
        "--rejected",
        "Yes.",
        "--better",
        "Often, for CPU-bound code; measure yours.",
        "--why",
        "overclaimed",
    )
    assert r.exit_code == 0, r.stderr
    assert commits(ledger)[0] == "correct: overclaimed"
    entry = ledger.find(r.stdout.strip())
    assert entry.path.startswith("corrections/20") and entry.path.endswith(".yaml")
    assert entry.meta["chosen"] == "Often, for CPU-bound code; measure yours."
    assert entry.meta["rejected"] == "Yes." and entry.provenance == "principal"

    piped = "prompt: hi\nrejected: yo\nbetter: |\n  Hello.\n  How can I help?\nwhy: too casual\n"
    r = ga("correct", input=piped)
    assert r.exit_code == 0, r.stderr
    entry = ledger.find(r.stdout.strip())
    assert entry.meta["chosen"] == "Hello.\nHow can I help?"
    assert entry.provenance == "stdin" and entry.status == "pending"


def test_correct_bad_yaml_names_line(ga, ledger):
    r = ga("correct", input="prompt: hi\nrejected: [unclosed\nbetter: x\n")
    assert r.exit_code == 1 and r.stderr.startswith("Error: <stdin>:")
    r = ga("correct", input="prompt: hi\nrejected: a\nbetter: b\ncolour: red\n")
    assert r.exit_code == 1 and "<stdin>:4: unknown key `colour`" in r.stderr
    r = ga("correct", "--prompt", "p", "--rejected", "r")
    assert r.exit_code == 1 and "the answer you wanted is empty" in r.stderr
    assert "--chosen" in r.stderr


def test_log_show_status(ga, ledger):
    vid = ga("values", "add", "Keep my voice.").stdout.strip()
    log = json.loads(ga("log", "--json").stdout)
    assert [c["kinds"] for c in log] == [["value"], ["principal"]]
    assert log[0]["message"].startswith(f"Add value {vid}")
    table = ga("log", "-n", "1").stdout
    assert "value" in table and "Keep my voice" in table and "template" not in table
    shown = ga("show", vid)
    assert "Keep my voice." in shown.stdout and shown.stdout.startswith("---\n")
    assert json.loads(ga("show", vid, "--json").stdout)["id"] == vid
    st = json.loads(ga("status", "--json").stdout)
    assert st["counts"] == {"value": {"active": 1}} and st["dirty"] == [] and st["problems"] == 0
    assert st["head"] == ledger.head()
    assert "values" in ga("status").stdout


def test_ledger_git_passthrough(ledger):
    r = run_ga("ledger", "git", "log", "--format=%s")
    assert r.returncode == 0
    assert r.stdout.strip() == "Create the ledger from the ga template."
    assert run_ga("ledger", "git", "no-such-subcommand").returncode != 0


def test_sync_pushes_and_pulls_through_a_real_remote(ga, ledger, tmp_path):
    import subprocess

    assert "no remote" in ga("sync").stderr
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    ledger.git("remote", "add", "origin", str(remote))
    ga("values", "add", "First.")
    assert ga("sync").exit_code == 0
    # a second machine clones, adds a value and pushes
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True)
    (other / "values" / "from-laptop.md").write_text(
        "---\nid: v-0000abcd\ncreated: 2026-01-01T00:00:00Z\nstatus: active\n"
        "provenance: principal\n---\nSecond.\n"
    )
    for cmd in (
        ["add", "-A"],
        ["-c", "user.name=x", "-c", "user.email=x@y", "commit", "-qm", "add"],
        ["push", "-q"],
    ):
        subprocess.run(["git", "-C", str(other), *cmd], check=True)
    ga("values", "add", "Third.")
    r = ga("sync")
    assert r.exit_code == 0, r.stderr
    texts = sorted(v["text"] for v in json.loads(ga("values", "list", "--json").stdout))
    assert texts == ["First.", "Second.", "Third."]


def test_debug_shows_traceback(ledger):
    r = run_ga("show", "v-ffffffff", env={"GA_DEBUG": "1"})
    assert r.returncode == 1 and "Traceback" in r.stderr and "Error: no entry" in r.stderr
    r = run_ga("show", "v-ffffffff")
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_ledger_commands_do_not_import_heavy_modules(ledger):
    code = (
        "import sys\n"
        "from ga_cli.cli import app\n"
        "for args in (['values','add','Fast start.'], ['values','list'], ['status'], ['log'], "
        "['doctor']):\n"
        "    try:\n"
        "        app(args, prog_name='ga')\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, (args, e.code)\n"
        "heavy = sorted(m for m in ('torch','transformers','litellm','unsloth','peft','trl') "
        "if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    import subprocess

    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_version_is_the_package_version(ga):
    from ga_cli import __version__

    r = ga("--version")
    assert r.exit_code == 0 and r.stdout == f"ga {__version__}\n"
    bare = ga()
    assert "Usage: ga" in bare.stdout + bare.stderr and "--version" in bare.stdout + bare.stderr
