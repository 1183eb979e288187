"""ga chat driven through a real pseudo-terminal, as a person would use it."""

from __future__ import annotations

import json

import pexpect
import pytest
from conftest import run_ga, spawn_ga

pytestmark = pytest.mark.slow


def spawn_chat(provider, *extra: str) -> pexpect.spawn:
    """The model is a scripted OpenAI-compatible server over real HTTP, so answers are known."""
    return spawn_ga(
        "chat", "--model", "openai/fake", "--api-base", provider.url, *extra, term="dumb"
    )


def test_chat_streams_keeps_examples_corrections_and_resumes(ledger, fake_provider):
    fake_provider.replies += ["Hi. How can I help?", "Hello again."]
    child = spawn_chat(fake_provider)
    child.expect("/help for commands")
    child.expect("you> ")
    child.sendline("Hello there \\")
    child.expect(r"\.\.\.> ")
    child.sendline("second line")
    child.expect("ga> Hi. How can I help?")
    child.expect("you> ")
    child.sendline("/good")
    child.expect("Kept the answer as example e-")
    child.expect("you> ")
    child.sendline("/correct A warm hello back.")
    child.expect("Recorded correction c-")
    child.expect("you> ")
    child.sendline("/retry")
    child.expect("ga> Hello again.")
    child.expect("you> ")
    child.sendline("/values")
    child.expect("No values yet.")
    child.expect("you> ")
    child.sendline("/nonsense")
    child.expect("unknown command /nonsense")
    child.expect("you> ")
    child.sendintr()  # Ctrl-C at the prompt does not leave
    child.expect(r"Ctrl-D or /quit to leave")
    child.expect("you> ")
    child.sendeof()  # Ctrl-D leaves
    child.expect("saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    examples = json.loads(run_ga("example", "list", "--json").stdout)
    assert examples[0]["prompt"] == "Hello there \nsecond line"
    assert examples[0]["tags"] == ["from-chat"] and examples[0]["answer"] == "Hi. How can I help?"
    corrections = [e for e in (ledger.entries("correction"))]
    assert corrections[0].meta["chosen"] == "A warm hello back."
    assert corrections[0].meta["prompt"] == "Hello there \nsecond line"
    assert corrections[0].meta["rejected"] == "Hi. How can I help?"
    # the retried question went to the model with the conversation so far, not twice
    sent = fake_provider.requests[1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    sessions = json.loads(run_ga("history", "--json").stdout)
    assert sessions[-1]["kind"] == "chat" and sessions[-1]["turns"] == 2  # question + retry

    resumed = spawn_chat(fake_provider, "--continue")
    resumed.expect(f"Resumed session {sessions[-1]['id']} \\(2 turns\\)")
    resumed.expect("you> ")
    resumed.sendline("/quit")
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0


def test_ctrl_c_stops_an_answer_without_leaving(ledger, fake_provider):
    fake_provider.default = " ".join(f"word{i}" for i in range(200))
    fake_provider.delay = 0.05  # ten seconds of streaming if nobody stops it
    child = spawn_chat(fake_provider)
    child.expect("you> ")
    child.sendline("tell me a long story")
    child.expect("word3 ")
    child.sendintr()
    child.expect(r"\[stopped\]")
    child.expect("you> ")
    fake_provider.delay = 0.0
    fake_provider.replies.append("Still here.")
    child.sendline("are you there?")
    child.expect("ga> Still here.")
    child.expect("you> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    session = json.loads(run_ga("history", "--json").stdout)[-1]
    turns = json.loads(run_ga("history", "show", session["id"], "--json").stdout)["turns"]
    assert turns[0]["interrupted"] is True and "word199" not in turns[0]["answer"]
    assert turns[1]["answer"] == "Still here."
