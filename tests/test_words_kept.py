"""Nothing the principal writes is lost, and a bad byte or a hand-edited file is a one-line
error: the edit that did not parse, text that is not UTF-8, bounded input, OS refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pexpect
from conftest import GA, REPO, commits, run_ga, spawn_ga


def _session_with_an_answer(prompt: str, answer: str) -> None:
    from ga_cli.chat.sessions import Session

    Session.create("ask", "fake").log_turn(prompt, answer, "fake")


EDITOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    p = Path(sys.argv[3])  # $EDITOR COUNTER MODE FILE
    text = p.read_text()
    count = Path(sys.argv[1])
    n = int(count.read_text()) if count.exists() else 0
    count.write_text(str(n + 1))
    Path(sys.argv[1] + f".{n}").write_text(text)  # what the principal was shown
    if n == 0:  # the mistake: an answer with ": " and "#" typed on the key's own line
        text = text.replace("chosen: |\\n  \\n", "chosen: It is: Paris # the capital\\n")
    elif n == 1 and sys.argv[2] == "fix":
        text = text.replace(
            "chosen: It is: Paris # the capital\\n",
            "chosen: |\\n  It is: Paris # the capital\\n",
        ).replace("why: |\\n  \\n", "why: |\\n  wrong: city # sure\\n")
    p.write_text(text)
    """
)


def test_an_edit_that_does_not_parse_is_reopened_with_the_problem(ledger, tmp_path, monkeypatch):
    _session_with_an_answer("capital of France?", "Lyon.")
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    count = tmp_path / "opened"
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script} {count} fix")
    monkeypatch.setenv("VISUAL", "")
    child = spawn_ga("correct")  # in a real terminal, as the principal runs it
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    second = (tmp_path / "opened.1").read_text()
    assert second.startswith("# ga: this did not parse")
    assert "# ga:   line 12: invalid YAML" in second  # the line as the principal sees it
    assert second.splitlines()[11] == "chosen: It is: Paris # the capital"
    entry = ledger.entries("correction")[0]
    assert entry.meta["chosen"].strip() == "It is: Paris # the capital"
    assert entry.meta["why"].strip() == "wrong: city # sure"
    assert entry.meta["prompt"] == "capital of France?" and entry.meta["rejected"] == "Lyon."
    assert len(commits(ledger)) == 2  # init, then exactly one commit for the correction


def test_an_edit_given_up_on_is_kept_in_a_file_that_is_named(ledger, tmp_path, ga_home):
    _session_with_an_answer("capital of France?", "Lyon.")
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    head = ledger.head()
    r = run_ga(
        "correct",
        env={"EDITOR": f"{sys.executable} {script} {tmp_path / 'opened'} giveup", "VISUAL": ""},
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    kept = next((ga_home / "unsaved-edits").iterdir())
    assert str(kept) in r.stderr and f"ga correct < {kept}" in r.stderr
    assert "chosen: It is: Paris # the capital" in kept.read_text()
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert ledger.head() == head


BAD = "be brief \udcff"  # what Python makes of the byte 0xff in an argument


def test_arguments_that_are_not_utf8_are_refused_at_the_door(ledger):
    head = ledger.head()
    for args, named in [
        (["values", "add", BAD], "argument 3"),
        (["correct", "--prompt", "p", "--rejected", "r", "--chosen", "c", "--why", BAD], "--why"),
        (["ask", BAD], "argument 2"),
        (["history", "-q", BAD], "-q"),
        (["prompt", "show", BAD], "argument 3"),
        (["values", "add", "x", f"--why={BAD}"], "--why"),
    ]:
        r = run_ga(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert named in r.stderr and "not valid UTF-8" in r.stderr, r.stderr
        assert "unexpected" not in r.stderr and "Traceback" not in r.stderr
    assert ledger.head() == head


def test_a_lone_surrogate_in_the_ledger_is_caught_by_doctor_and_left_out(ledger):
    from ga_cli.dataset import snapshot

    bad = ledger.root / "values" / "brief.md"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text(
        "---\nid: v-0badbad1\ncreated: 2026-01-01T00:00:00Z\nstatus: active\n"
        'provenance: principal\nwhy: "be brief \\uDCFF"\n---\nBe brief.\n'
    )
    r = run_ga("doctor")
    assert r.returncode == 1 and "values/brief.md:6" in r.stdout + r.stderr
    assert "lone surrogate" in r.stdout + r.stderr
    # the prompt is still built, without that file, and a warning says so
    r = run_ga("prompt", "show", "hi", "--model", "openai/fake", "--api-base", "http://127.0.0.1:9")
    assert r.returncode == 0 and "1 ledger file(s) fail the schema" in r.stderr, r.stderr
    subprocess.run(["git", "-C", str(ledger.root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(ledger.root), "commit", "-qm", "hand edit"], check=True)
    snap = snapshot.load(str(ledger.root), skip_invalid=True)  # the build's own reader
    assert [e.path for e in snap.invalid] == ["values/brief.md"]


def test_piped_and_attached_input_is_bounded(ledger, fake_provider, tmp_path):
    from ga_cli.chat.sessions import Session
    from ga_cli.cli.stdin import MAX_BYTES

    start = time.monotonic()
    r = run_ga("ask", "summarise", "-f", "/dev/zero", "--no-server")
    assert r.returncode == 1 and "-f /dev/zero is over 8 MiB" in r.stderr
    assert time.monotonic() - start < 30  # it stopped reading: no MemoryError minutes later
    big = tmp_path / "big.txt"
    big.write_text("line of text\n" * (MAX_BYTES // 13 + 10))
    r = run_ga("ask", "summarise", "-f", str(big))
    assert r.returncode == 1 and "over 8 MiB" in r.stderr
    with big.open("rb") as fh:
        r = subprocess.run(
            [*GA, "ask", "summarise"], stdin=fh, capture_output=True, text=True, cwd=REPO
        )
    assert r.returncode == 1 and "piped input is over 8 MiB" in r.stderr
    # within the bound but beyond the context window: trimmed, and history holds what was sent
    fair = tmp_path / "fair.txt"
    fair.write_text("a sentence of notes\n" * 50_000)  # 1 MB
    r = run_ga(
        "ask",
        "summarise",
        "-f",
        str(fair),
        "--model",
        "openai/fake",
        "--api-base",
        fake_provider.url,
    )
    assert r.returncode == 0, r.stderr
    sent = fake_provider.requests[-1]["messages"][-1]["content"]
    logged = Session.latest().turns()[-1]["data"]
    assert len(logged) < 1_000_000 // 4 and logged in sent


def test_hand_edited_templates_and_aliases_are_checked(ga, ledger, ga_home):
    folder = ga_home / "templates"
    assert ga("ask", "--save", "terse", "-s", "Be terse.").exit_code == 0
    r = ga("ask", "--save", "bad\n", "-s", "x")
    assert r.exit_code == 1 and "is not a template name" in r.stderr
    for name, text in [
        ("hot", "temperature: 99\n"),
        ("nan", "temperature: .nan\n"),
        ("flag", "max_tokens: true\n"),
        ("neg", "repetition_penalty: -3\n"),
        ("latin", None),
    ]:
        path = folder / f"{name}.yaml"
        if text is None:
            path.write_bytes(b"system: caf\xe9\n")
        else:
            path.write_text(text)
        r = ga("ask", "-t", name, "hi")
        assert r.exit_code == 1 and str(path) in r.stderr, r.stderr
        assert "unexpected" not in r.stderr
    r = ga("templates", "list", "--json")  # the good one is still listed beside the broken
    assert r.exit_code == 0 and [t["name"] for t in __import__("json").loads(r.stdout)] == ["terse"]
    assert "hot.yaml" in r.stderr
    aliases = ga_home / "aliases.yaml"
    aliases.write_text("embedded: openai/elsewhere\n")
    r = ga("ask", "-m", "embedded", "hi")
    assert r.exit_code == 1 and "embedded is ga's own name" in r.stderr
    aliases.write_bytes(b"fast: caf\xe9\n")
    r = ga("ask", "-m", "fast", "hi")
    assert r.exit_code == 1 and "not valid UTF-8" in r.stderr
    r = ga("models", "alias", "quick\n", "openai/x")
    assert r.exit_code == 1 and "cannot be an alias" in r.stderr


def test_operating_system_refusals_are_one_line(ledger, tmp_path):
    r = run_ga("ask", "hi", "--model", "m" * 300, "--no-server")
    assert r.returncode == 1 and "unexpected" not in r.stderr and "Traceback" not in r.stderr
    import errno

    from ga_cli.cli.group import os_error

    message, hint = os_error(OSError(errno.ENOSPC, "No space left on device", "/x/y"))
    assert message == "no space left on the disk (/x/y)" and "free some space" in hint
    message, _ = os_error(PermissionError(errno.EACCES, "Permission denied", "/ledger"))
    assert message == "permission denied (/ledger)"
    # a ledger on a file system that refuses writes: one line that names the file
    env = {"GA_LEDGER": "/proc/ga-ledger"}
    r = run_ga("init", env=env)
    assert r.returncode == 1 and "unexpected" not in r.stderr and "Traceback" not in r.stderr


def test_sigterm_runs_cleanup_and_stale_cache_folders_go(tmp_path):
    script = tmp_path / "hold.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, tempfile, time
            from ga_cli.cli.group import new_app
            app = new_app()
            @app.command()
            def hold() -> None:
                with tempfile.TemporaryDirectory(prefix="ga-gguf-", dir=sys.argv[1]) as tmp:
                    print(tmp, flush=True)
                    time.sleep(60)
            @app.command()
            def other() -> None:
                pass
            app(sys.argv[2:])
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), "hold"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    held = proc.stdout.readline().strip()
    assert os.path.isdir(held)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM and not os.path.exists(held)
    # a cache folder half-filled by a process killed harder (SIGKILL) is swept by the next fill
    from ga_cli.fileio.cachefill import fill_dir

    stale = tmp_path / ".model.tmp-dead"
    stale.mkdir()
    fill_dir(tmp_path / "model", lambda d: (d / "ok").write_text("x"))
    assert not stale.exists() and (tmp_path / "model" / "ok").is_file()


def test_history_finds_words_of_every_turn_even_unindexed_ones(ledger):
    import sqlite3

    from ga_cli.chat import sessions

    s = sessions.Session.create("chat", "fake")
    s.log_turn("Name a city.", "Lyon.", "fake")
    s.log_turn("And the capital?", "It is Paris, on the Seine.", "fake")
    found = run_ga("history", "-q", "Paris", "--json")
    assert [x["id"] for x in __import__("json").loads(found.stdout)] == [s.id]
    # a database whose index lost its rows (copied from an older ga, restored, hand-edited)
    db = sqlite3.connect(sessions.db_path())
    db.execute("INSERT INTO turns_fts(turns_fts) VALUES ('delete-all')")
    db.commit()
    db.close()
    found = run_ga("history", "-q", "seine", "--json")
    assert [x["id"] for x in __import__("json").loads(found.stdout)] == [s.id]
