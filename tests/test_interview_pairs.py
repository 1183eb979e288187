"""`ga interview --pairs` through a real pseudo-terminal: the model's own two answers, the
principal's pick, one correction and one commit per choice, and what the dataset makes of it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pexpect
from conftest import commits, run_ga, spawn_ga


def _past_questions(ga_home: Path) -> None:
    """What the principal asked before: two plain questions, one about piped data, and one they
    have corrected since."""
    from ga_cli.chat.sessions import Session

    s = Session.create("ask", "test")
    s.log_turn("Which train goes to Lyon?", "The TGV.", "test")
    s.log_turn("Summarise this", "A list.", "test", data="piped text")
    s.log_turn("Capital of France?", "Lyon.", "test")
    s.log_turn("How do I learn French fast?", "Practise daily.", "test")
    s.log_turn("What should I cook tonight?", "Pasta.", "test")


def flat(text: str) -> str:
    return " ".join(text.split())


def _pick(child: pexpect.spawn) -> tuple[str, tuple[str, str]]:
    child.expect(r"\[\d/3\] (.+?)\r\n--- 1 ---\r\n(.*?)\r\n--- 2 ---\r\n(.*?)\r\nWhich is better\?")
    return child.match.group(1), (child.match.group(2), child.match.group(3))


def test_pairs_pick_write_and_one_commit_each(ga, ledger, tiny_model, ga_home):
    assert ga("config", "set", "model", str(tiny_model)).exit_code == 0
    ga("correct", "--prompt", "Capital of France?", "--rejected", "Lyon.", "--chosen", "Paris.")
    _past_questions(ga_home)
    before = len(commits(ledger))
    child = spawn_ga("interview", "--pairs", "--max", "3", timeout=300)
    child.logfile_read = transcript = io.StringIO()
    child.expect("least sure")
    first_prompt, first = _pick(child)
    child.sendline("x")  # not a choice: the keys are explained, and it asks again
    child.expect("neither, write your own")
    child.expect(r"Which is better\?")
    child.sendline("2")
    child.expect(r"Recorded c-[0-9a-f]{8} \(one commit\)")
    second_prompt, second = _pick(child)
    child.sendline("n")
    child.expect("better>")
    child.send("My own answer.\r")
    child.expect(r"Recorded c-[0-9a-f]{8}")
    third_prompt, third = _pick(child)
    child.sendline("e")
    child.expect(r"Edit which, 1 or 2\?")
    child.sendline("1")
    child.expect("better>")  # the editor starts from answer 1, the cursor at its end
    child.send(" Thanks.\r")
    child.expect("3 choice\\(s\\) recorded")
    child.expect(pexpect.EOF)
    out = transcript.getvalue()
    # only the principal's own plain questions are asked about, never a corrected one
    assert {first_prompt, second_prompt, third_prompt} == {
        "Which train goes to Lyon?",
        "How do I learn French fast?",
        "What should I cook tonight?",
    }
    assert "Summarise this" not in out and "Capital of France" not in out
    assert len(commits(ledger)) == before + 3
    assert commits(ledger)[0].startswith("interview: picked an answer to ")
    made = {
        str(e.meta["prompt"]): e.meta for e in ledger.entries("correction") if e.meta.get("via")
    }
    picked, written, edited = made[first_prompt], made[second_prompt], made[third_prompt]
    assert (flat(picked["chosen"]), flat(picked["rejected"])) == (flat(first[1]), flat(first[0]))
    assert picked["via"] == "interview" and "also_rejected" not in picked
    assert written["chosen"] == "My own answer."
    assert {flat(written["rejected"]), *map(flat, written["also_rejected"])} == set(
        map(flat, second)
    )
    assert flat(edited["chosen"]) == flat(third[0] + " Thanks.")
    assert {flat(edited["rejected"]), *map(flat, edited["also_rejected"])} == set(map(flat, third))
    # both of the model's answers are rejected beside the principal's own
    r = run_ga("build", "--json")
    assert r.returncode == 0, r.stderr
    out_dir = Path(json.loads(r.stdout)["out"])
    rows = [
        json.loads(line)
        for f in ("prefs.jsonl", "heldout.jsonl")
        for line in (out_dir / f).read_text().splitlines()
    ]
    mine = [r for r in rows if r.get("prompt") == second_prompt]
    assert {flat(r["rejected"]) for r in mine} == set(map(flat, second))
    assert {r["chosen"] for r in mine} == {"My own answer."}


def test_pairs_need_something_to_ask_about(ga, ledger, tiny_model):
    assert ga("config", "set", "model", str(tiny_model)).exit_code == 0
    r = ga("interview", "--pairs")
    assert r.exit_code == 0 and "Nothing to ask about yet" in r.stderr
    assert "--prompt goes with --pairs" in ga("interview", "--prompt", "x").stderr
