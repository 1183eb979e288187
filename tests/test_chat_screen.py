"""What a person at a terminal sees of `ga chat`'s answers: a real pseudo-terminal of a given
size, its bytes fed to a terminal emulator (pyte) that keeps the scrollback, so the test reads
the screen as it ends up, not the stream of redraws that produced it."""

from __future__ import annotations

import re
import time

import pexpect
import pyte
import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

# 40 distinct words, each once, long enough that the answer is taller than a 12-row screen
WORDS = [f"word{i:02d}x" for i in range(40)]
ANSWER = (
    " ".join(WORDS[:14])
    + ". It was named after a French saint, "
    + " ".join(WORDS[14:])
    + " and nothing more."
)


class Terminal:
    def __init__(self, rows: int, cols: int, fake_url: str):
        import os
        import sys

        self.screen = pyte.HistoryScreen(cols, rows, history=2000)
        self.stream = pyte.ByteStream(self.screen)
        env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        env.pop("COLUMNS", None)  # the pty's own size decides
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "ga_cli", "chat", "--model", "openai/fake", "--api-base", fake_url],
            cwd=str(REPO),
            env=env,
            dimensions=(rows, cols),
            timeout=60,
        )

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return
            self.stream.feed(data)

    def wait_for(self, text: str, seconds: float = 60) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(0.2)
            if text in self.text():
                return
        raise AssertionError(f"{text!r} never reached the screen:\n{self.text()}")

    def text(self) -> str:
        """Scrollback and screen, as lines of text."""
        top = ["".join(c.data for c in line.values()) for line in self.screen.history.top]
        return "\n".join([*(t.rstrip() for t in top), *(d.rstrip() for d in self.screen.display)])


def words_on(text: str) -> list[str]:
    return re.findall(r"word\d\dx", text)


@pytest.mark.parametrize("cols", [40, 80])
def test_every_word_of_a_long_answer_reaches_the_screen_once(ledger, fake_provider, cols):
    fake_provider.replies.append(ANSWER)
    fake_provider.delay = 0.01  # streamed word by word, redrawn while it grows
    term = Terminal(12, cols, fake_provider.url)
    term.wait_for("you>")
    term.child.send("Tell me about the city.\r")
    term.wait_for("nothing more.")
    term.pump(0.5)
    shown = term.text()
    assert words_on(shown) == WORDS, shown  # all of them, in order, each once
    assert "French saint" in re.sub(r"\s+", " ", shown)  # wrapped, not cropped at the edge
    term.child.sendeof()
    term.child.expect(pexpect.EOF)


def test_ctrl_c_mid_answer_shows_the_partial_answer_once(ledger, fake_provider):
    fake_provider.replies.append(ANSWER)
    fake_provider.delay = 0.15
    term = Terminal(12, 60, fake_provider.url)
    term.wait_for("you>")
    term.child.send("Tell me about the city.\r")
    term.wait_for("word05x")
    term.child.sendintr()
    term.wait_for("[stopped]")
    term.pump(0.5)
    seen = words_on(term.text())
    assert seen and seen == WORDS[: len(seen)], term.text()  # a prefix, never repeated
    term.child.sendeof()
    term.child.expect(pexpect.EOF)
