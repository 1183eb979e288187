"""Nothing is lost: hand edits, concurrency, stale locks, secrets, editors, malformed files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import GA, REPO, commits, run_ga

HAND_WRITTEN = """---
# my own note on this value
id: v-1234abcd
created: 2026-01-02T03:04:05Z
tags: [craft]   # keep it short
status: active
provenance: principal
priority: 2
---
Prefer plain words over jargon.
"""


def _editor(tmp_path: Path, body: str, code: int = 0) -> str:
    """A real editor program: a script that rewrites the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nfrom pathlib import Path\n{body}\nsys.exit({code})\n")
    return f"{sys.executable} {script}"


def test_round_trip_keeps_hand_comments_and_key_order(ga, ledger):
    path = ledger.root / "values" / "plain-words.md"
    path.parent.mkdir()
    path.write_text(HAND_WRITTEN)
    r = ga("values", "rm", "v-1234")
    assert r.exit_code == 0, r.stderr
    after = path.read_text()
    assert "# my own note on this value" in after and "# keep it short" in after
    assert after.replace("status: retired", "status: active") == HAND_WRITTEN
    # the hand edit was committed on its own first, then the retirement
    msgs = commits(ledger)
    assert msgs[0].startswith("Retire value v-1234abcd")
    assert msgs[1] == "Commit hand edits found in the ledger: values/plain-words.md."


def test_uncommitted_hand_edits_are_committed_never_discarded(ga, ledger):
    (ledger.root / "principal.yaml").write_text(
        (ledger.root / "principal.yaml").read_text().replace('about: ""', 'about: "A gardener."')
    )
    assert ledger.dirty_files() == ["principal.yaml"]
    assert ga("values", "add", "Water first.").exit_code == 0
    assert ledger.dirty_files() == []
    assert "A gardener." in ledger.git("show", "HEAD~1:principal.yaml")
    assert commits(ledger)[1].startswith("Commit hand edits")


def test_twenty_concurrent_processes_give_twenty_commits(ledger):
    procs = [
        subprocess.Popen(
            [*GA, "values", "add", f"Concurrent value {i}."],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(20)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, [o[1] for o in outs]
    assert len(list((ledger.root / "values").glob("*.md"))) == 20
    added = [m for m in commits(ledger) if m.startswith("Add value")]
    assert len(added) == 20
    assert ledger.dirty_files() == []
    assert ledger.git("fsck", "--no-progress") == ""


def test_stale_lock_from_killed_process_is_cleared(ga, ledger):
    """A process killed while holding the lock (and git's index.lock) does not wedge the ledger."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import time\n"
                "from pathlib import Path\n"
                "from ga_cli.ledger.store import Ledger\n"
                "l = Ledger.open()\n"
                "with l.locked():\n"
                "    (l.root/'.git'/'index.lock').write_text('')\n"
                "    print('locked', flush=True)\n"
                "    time.sleep(60)\n"
            ),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (ledger.root / ".git" / "index.lock").exists()
    assert (ledger.root / ".ga" / "lock").read_text() == str(holder.pid)
    r = ga("values", "add", "After the crash.")
    assert r.exit_code == 0, r.stderr
    assert not (ledger.root / ".git" / "index.lock").exists()
    assert commits(ledger)[0] == "Add value " + r.stdout.strip() + ": After the crash."


def test_a_live_lock_holder_makes_others_wait(ledger):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import time\nfrom ga_cli.ledger.store import Ledger\n"
                "with Ledger.open().locked():\n"
                "    print('locked', flush=True)\n    time.sleep(1.5)\n"
            ),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    r = run_ga("values", "add", "Waited my turn.")
    waited = time.monotonic() - started
    holder.wait()
    assert r.returncode == 0, r.stderr
    assert waited > 0.5  # it queued behind the holder instead of writing concurrently


def test_secret_is_refused_unless_allowed(ga, ledger):
    key = "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3"
    r = ga("values", "add", f"My key is {key}")
    assert r.exit_code == 1 and "OpenAI-style API key" in r.stderr and "--allow-secret" in r.stderr
    assert not (ledger.root / "values").exists() or not list((ledger.root / "values").iterdir())
    r = ga(
        "correct",
        "--prompt",
        "p",
        "--rejected",
        "r",
        "--better",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
        "--why",
        "w",
    )
    assert r.exit_code == 1 and "private key" in r.stderr
    assert ga("values", "add", f"My key is {key}", "--allow-secret").exit_code == 0
    # a secret added by hand is caught before it is committed too
    (ledger.root / "notes.txt").write_text("token ghp_" + "a" * 36 + "\n")
    r = ga("values", "add", "Another.")
    assert r.exit_code == 1 and "notes.txt:1" in r.stderr and "GitHub token" in r.stderr


def test_values_edit_through_a_real_editor(ga, ledger, tmp_path):
    vid = ga("values", "add", "Be brief.").stdout.strip()
    editor = _editor(
        tmp_path,
        "p = Path(sys.argv[1]); "
        "p.write_text(p.read_text().replace('Be brief.', 'Be brief and warm.'))",
    )
    r = ga("values", "edit", vid, env={"EDITOR": editor, "VISUAL": ""})
    assert r.exit_code == 0, r.stderr
    assert json.loads(ga("values", "list", "--json").stdout)[0]["text"] == "Be brief and warm."
    assert commits(ledger)[0].startswith(f"Edit value {vid}")


def test_editor_failure_or_no_change_writes_nothing(ga, ledger, tmp_path):
    vid = ga("values", "add", "Be brief.").stdout.strip()
    before = ledger.head()
    failing = _editor(tmp_path, "Path(sys.argv[1]).write_text('changed')", code=3)
    r = ga("values", "edit", vid, env={"EDITOR": failing, "VISUAL": ""})
    assert r.exit_code == 1 and "exited with status 3" in r.stderr
    unchanged = _editor(tmp_path, "pass")
    r = ga("values", "edit", vid, env={"EDITOR": unchanged, "VISUAL": ""})
    assert r.exit_code == 1 and "nothing changed" in r.stderr
    r = ga("example", "add", "--prompt", "Hi", env={"EDITOR": unchanged, "VISUAL": ""})
    assert r.exit_code == 1 and "nothing changed" in r.stderr
    assert ledger.head() == before and ledger.dirty_files() == []


def test_invalid_edit_is_kept_for_the_principal(ga, ledger, tmp_path):
    vid = ga("values", "add", "Be brief.").stdout.strip()
    breaking = _editor(
        tmp_path,
        "p = Path(sys.argv[1]); "
        "p.write_text(p.read_text().replace('status: active', 'status: maybe'))",
    )
    r = ga("values", "edit", vid, env={"EDITOR": breaking, "VISUAL": ""})
    assert r.exit_code == 1 and "`status` must be one of" in r.stderr
    kept = Path(r.stderr.split("saved in ")[1].split(":")[0])
    assert "status: maybe" in kept.read_text()
    kept.unlink()
    assert "status: active" in ledger.read(ledger.find(vid).path)


def test_example_written_in_editor(ga, ledger, tmp_path):
    editor = _editor(tmp_path, "p = Path(sys.argv[1]); p.write_text(p.read_text() + 'My answer.')")
    r = ga("example", "add", "--prompt", "Greet me", env={"EDITOR": editor, "VISUAL": ""})
    assert r.exit_code == 0, r.stderr
    listed = json.loads(ga("example", "list", "--json").stdout)
    assert listed[0]["answer"] == "My answer." and listed[0]["provenance"] == "principal"


def test_doctor_reports_every_problem_with_path_and_line(ga, ledger):
    (ledger.root / "values").mkdir()
    (ledger.root / "values" / "broken.md").write_text("---\nid: v-1234abcd\ntags: [a, b\n---\nx\n")
    (ledger.root / "values" / "nofence.md").write_text("just text\n")
    (ledger.root / "values" / "badstatus.md").write_text(
        "---\nid: v-2234abcd\ncreated: 2026-01-01T00:00:00Z\nstatus: maybe\n"
        "provenance: principal\n---\nText.\n"
    )
    (ledger.root / "examples").mkdir()
    (ledger.root / "examples" / "latin1.md").write_bytes(b"---\nprompt: caf\xe9\n---\nx\n")
    (ledger.root / "corrections" / "2026" / "01").mkdir(parents=True)
    (ledger.root / "corrections" / "2026" / "01" / "c.yaml").write_text(
        "id: c-3234abcd\ncreated: 2026-01-01T00:00:00Z\nstatus: active\nprovenance: principal\n"
        "prompt: p\nrejected: r\n"
    )
    r = ga("doctor")
    assert r.exit_code == 1
    lines = r.stdout.strip().splitlines()
    assert "values/broken.md:3: invalid YAML" in lines[-3] or any(
        line.startswith("values/broken.md:") and "invalid YAML" in line for line in lines
    )
    assert "values/nofence.md:1: expected front matter starting with a `---` line" in lines
    assert "values/badstatus.md:4: `status` must be one of active, pending, retired" in lines
    assert "examples/latin1.md:2: file is not valid UTF-8" in lines
    assert "corrections/2026/01/c.yaml:1: missing required field `chosen`" in lines
    assert len(lines) == 5, lines
    as_json = json.loads(ga("doctor", "--json").stdout)
    assert len(as_json["problems"]) == 5


def test_doctor_fix_fills_missing_fields_in_one_commit(ga, ledger):
    (ledger.root / "values").mkdir()
    (ledger.root / "values" / "hand.md").write_text(
        "---\n# typed by hand\ntags: [x]\n---\nBe fair.\n"
    )
    assert ga("doctor").exit_code == 1
    r = ga("doctor", "--fix")
    assert r.exit_code == 0, r.stdout + r.stderr
    text = (ledger.root / "values" / "hand.md").read_text()
    assert (
        "# typed by hand" in text and "status: active" in text and "provenance: principal" in text
    )
    assert commits(ledger)[0] == "doctor: fill in missing fields in 1 file(s)."
    assert ga("doctor").exit_code == 0


def test_malformed_entry_fails_listing_with_path_line(ga, ledger):
    (ledger.root / "values").mkdir()
    (ledger.root / "values" / "bad.md").write_text("---\nid: [x\n---\ntext\n")
    r = ga("values", "list")
    assert r.exit_code == 1 and r.stderr.startswith("Error: values/bad.md:2: invalid YAML")


def test_cli_reference_is_current():
    from ga_cli.cli.docs import render

    assert (REPO / "docs" / "cli.md").read_text() == render(), "run `make docs`"
