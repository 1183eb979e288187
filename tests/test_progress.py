"""Progress off a terminal: plain lines when a stage starts, about every 30 s, and when it ends
(a script or CI running `ga train` sees where it is)."""

import pytest

from ga_cli.cli import output
from ga_cli.progress import Steps


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


@pytest.mark.slow
def test_a_gguf_conversion_reports_its_tensors_through_ga_progress(tmp_path, capfd):
    """The one-time de-quantising of a GGUF (the embedded model's, a principal's base) reports
    one step a tensor to ga's progress; transformers' own tqdm bar never reaches stderr."""
    from gguf import GGUFReader

    from ga_cli.models import embedded, gguf_base

    source = embedded.gguf_path()
    seen: list = []
    gguf_base.dequantise(source, tmp_path / "hf", eos="<|im_end|>", report=seen.append)
    tensors = len(GGUFReader(str(source)).tensors)
    assert {e["stage"] for e in seen} == {f"converting {source.name} (once)"}
    assert [e["step"] for e in seen] == list(range(tensors + 1))
    assert {e["total"] for e in seen} == {tensors}
    assert gguf_base.complete(tmp_path / "hf")
    err = capfd.readouterr().err
    assert "de-quantizing" not in err and "it/s]" not in err, err
