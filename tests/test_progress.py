"""Progress off a terminal: plain lines when a stage starts, about every 30 s, and when it ends
(a script or CI running `ga train` sees where it is)."""

from ga_cli.cli import output
from ga_cli.training.progress import Steps


def test_plain_progress_lines_off_a_terminal(capsys):
    bar = output.StageProgress(every=30)
    now = [100.0]
    bar.clock = lambda: now[0]
    assert not bar.tty  # pytest captures stderr: not a terminal
    with bar:
        events = [(0, 0, None), (1, 1, 2.5), (20, 4, 2.0), (31, 5, 1.5), (40, 10, 1.0)]
        events.append((41, 10, None))  # the trainer's closing summary: no second "done" line
        for t, step, loss in events:
            now[0] = 100.0 + t
            bar({"stage": "sft", "step": step, "total": 10, "loss": loss, "tokens_per_s": 200})
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "sft: 0/10, 200 tok/s",
        "sft: 5/10, loss 1.5000  200 tok/s, about 31s left",
        "sft: 10/10, loss 1.0000  200 tok/s (done in 40s)",
    ]


def test_steps_report_each_step_and_nothing_without_a_callback():
    seen = []
    step = Steps(seen.append, "base: preference pairs", 3)
    step()
    step(2)
    assert [(e["step"], e["total"]) for e in seen] == [(0, 3), (1, 3), (3, 3)]
    Steps(None, "quiet", 2)()  # no callback: no error, nothing to report to
