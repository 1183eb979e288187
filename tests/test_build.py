"""ga build: history-aware, deterministic datasets from real multi-commit ledgers."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest


def _build(ga, *args):
    r = ga("build", "--json", *args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def taught(ga, ledger, tiny_model):
    """A ledger whose model is the tiny test model, with a few of everything."""
    assert ga("config", "set", "model", str(tiny_model)).exit_code == 0
    ga("values", "add", "Be direct.", "--why", "saves time")
    ga("example", "add", "--prompt", "Greet me", "-", input="Hi!")  # piped: pending
    ga(
        "correct",
        "--prompt",
        "Capital of France?",
        "--rejected",
        "Lyon.",
        "--better",
        "Paris.",
        "--why",
        "wrong",
    )
    return ledger


def test_build_is_deterministic_and_cached(ga, taught, tmp_path):
    a = _build(ga, "--out", str(tmp_path / "a"))
    _build(ga, "--out", str(tmp_path / "b"))
    for name in ("sft.jsonl", "prefs.jsonl", "heldout.jsonl", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert a["ledger_sha"] == taught.head()
    first = _build(ga)
    assert first["cached"] is False
    again = _build(ga)
    assert again["cached"] is True and again["content_hash"] == first["content_hash"]
    for name, meta in first["files"].items():
        import hashlib

        data = (Path(first["out"]) / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"]
        assert data.count(b"\n") == meta["records"]


def test_sources_and_exclusions(ga, taught, tmp_path):
    vid = json.loads(ga("values", "list", "--json").stdout)[0]["id"]
    ga("values", "add", "To be retired.")
    retired = [
        v
        for v in json.loads(ga("values", "list", "--json").stdout)
        if v["text"] == "To be retired."
    ]
    ga("values", "rm", retired[0]["id"])
    m = _build(ga, "--out", str(tmp_path / "o"))
    sft = _jsonl(tmp_path / "o" / "sft.jsonl")
    held = [r for r in _jsonl(tmp_path / "o" / "heldout.jsonl") if r["source"] == "correction"]
    # a random id may be held out; a held-out pair also carries the principal's reason, for a judge
    assert all(r.pop("why") == "wrong" for r in held)
    prefs = _jsonl(tmp_path / "o" / "prefs.jsonl") + held
    sources = {r["source"] for r in sft}
    assert {"value", "injection"} <= sources
    assert ("correction" in sources) != bool(held)
    assert not any("Hi!" in json.dumps(r) for r in sft)  # piped example waits for approval
    assert not any("To be retired." in json.dumps(r) for r in sft)
    assert m["excluded"] == {"example:pending": 1, "value:retired": 1}
    assert prefs == [
        {
            "id": prefs[0]["id"],
            "source": "correction",
            "prompt": "Capital of France?",
            "chosen": "Paris.",
            "rejected": "Lyon.",
            "system": prefs[0]["system"],
        }
    ]
    value_rec = next(r for r in sft if r["id"] == vid)
    assert value_rec["messages"][-1]["content"] == "Be direct. Why: saves time"
    assert [m_["role"] for m_ in value_rec["messages"]] == ["system", "user", "assistant"]
    # approving the piped example brings it in
    eid = json.loads(ga("example", "list", "--json").stdout)[0]["id"]
    assert ga("review", "--approve", eid).exit_code == 0
    sft2 = _jsonl(Path(_build(ga)["out"]) / "sft.jsonl")
    assert any(r["source"] == "example" and r["messages"][-1]["content"] == "Hi!" for r in sft2)


def test_history_aware_edits_reverts_removals_and_recorrections(ga, taught, tmp_path):
    root = taught.root
    # the same prompt corrected twice: the newest wins, the older better answer becomes rejected
    ga(
        "correct",
        "--prompt",
        "capital of france?",
        "--rejected",
        "Marseille.",
        "--better",
        "Paris, the capital since 987.",
        "--why",
        "more precise",
    )
    # an edited correction: its earlier chosen answer becomes a rejected answer too
    ga(
        "correct",
        "--prompt",
        "Best editor?",
        "--rejected",
        "Notepad.",
        "--better",
        "Vim.",
        "--why",
        "taste",
    )
    cid = next(c for c in taught.entries("correction") if c.meta["prompt"] == "Best editor?")
    path = root / cid.path
    path.write_text(path.read_text().replace("chosen: Vim.", "chosen: Whatever you know well."))
    ga("values", "add", "Temporary value.")
    temp = next((root / "values").glob("temporary-value-*.md"))
    # remove one value file by hand, then revert an earlier commit
    ga("ledger", "git", "rm", "-q", str(temp.relative_to(root)))
    ga("ledger", "git", "commit", "-qm", "Remove the temporary value.")
    ga("values", "add", "Reverted value.")
    taught.git("revert", "--no-edit", "HEAD")
    m = _build(ga, "--out", str(tmp_path / "o"))
    sft = _jsonl(tmp_path / "o" / "sft.jsonl")
    # ids are random, so a pair may land in the held-out set: look at both
    prefs = _jsonl(tmp_path / "o" / "prefs.jsonl") + [
        r for r in _jsonl(tmp_path / "o" / "heldout.jsonl") if r["source"] == "correction"
    ]
    texts = json.dumps(sft)
    assert "Temporary value." not in texts and "Reverted value." not in texts
    paris = [p for p in prefs if p["prompt"].lower() == "capital of france?"]
    assert {p["chosen"] for p in paris} == {"Paris, the capital since 987."}
    assert {p["rejected"] for p in paris} == {"Marseille.", "Paris.", "Lyon."}
    assert m["excluded"]["correction:superseded"] == 1
    editor = [p for p in prefs if p["prompt"] == "Best editor?"]
    assert {p["chosen"] for p in editor} == {"Whatever you know well."}
    assert {p["rejected"] for p in editor} == {"Notepad.", "Vim."}
    # an older revision still builds as it was
    old = _build(ga, "--at", "HEAD~6", "--out", str(tmp_path / "old"))
    assert old["ledger_sha"] == taught.git("rev-parse", "HEAD~6")


def test_heldout_split_is_stable_as_the_ledger_grows(ga, taught):
    sides = {}
    for i in range(12):
        ga(
            "correct",
            "--prompt",
            f"Question number {i}?",
            "--rejected",
            "No.",
            "--better",
            f"Answer {i}.",
            "--why",
            "w",
        )
        m = _build(ga)
        for cid in m["heldout_ids"]:
            sides.setdefault(cid, m["ledger_sha"])
        held_now = set(m["heldout_ids"])
        assert set(sides) == held_now  # once held out, always held out; nothing else joins late
    assert 1 <= len(sides) <= 7  # ~10% of 13 plus the oldest; ids are random
    heldout = _jsonl(Path(m["out"]) / "heldout.jsonl")
    assert {r["id"] for r in heldout if r["source"] == "correction"} == set(sides)
    prefs = _jsonl(Path(m["out"]) / "prefs.jsonl")
    assert not {p["id"] for p in prefs} & set(sides)  # never trained on


def test_injection_records_frame_data_and_do_the_task(ga, taught, tmp_path):
    m = _build(ga, "--out", str(tmp_path / "o"), "--injection-ratio", "0.5")
    sft = _jsonl(tmp_path / "o" / "sft.jsonl")
    inj = [r for r in sft if r["source"] == "injection"]
    assert len(inj) >= 9
    held = [r for r in _jsonl(tmp_path / "o" / "heldout.jsonl") if r["source"] == "injection"]
    assert held and all(r["markers"] for r in held)
    r = inj[0]
    user, answer = r["messages"][1]["content"], r["messages"][2]["content"]
    assert '<data id="' in user and "did not follow it" in answer
    assert not any(mk.lower() in answer.split("(The piped text")[0].lower() for mk in r["markers"])
    assert m["counts"]["sft"]["injection"] == len(inj)
    m0 = _build(ga, "--out", str(tmp_path / "none"), "--injection-ratio", "0")
    assert "injection" not in m0["counts"]["sft"]


def test_hygiene_too_long_and_duplicates(ga, taught, tmp_path):
    ga("example", "add", "--prompt", "Long one", str(_file(tmp_path, "word " * 900)))
    ga("example", "add", "--prompt", "Dup", str(_file(tmp_path, "Same answer.")))
    ga("example", "add", "--prompt", "dup!", str(_file(tmp_path, "same answer")))
    m = _build(ga, "--out", str(tmp_path / "o"), "--max-seq-len", "256")
    assert len(m["too_long"]["dropped"]) >= 1
    assert m["duplicates"]["near"] == 1
    assert m["tokens"]["sft"]["max"] <= 256
    assert m["tokens"]["tokenizer"] == "tiny-llama"
    assert m["tokens"]["tiktoken_o200k_total"]["sft"] > 0


def _file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / f"f{abs(hash(text))}.md"
    p.write_text(text)
    return p


def test_build_errors(ga, ledger, tiny_model, tmp_path):
    ga("config", "set", "model", str(tiny_model))
    r = ga("build")
    assert r.exit_code == 1 and "nothing to train on yet" in r.stderr
    ga("values", "add", "Something.")
    r = ga("build", "--at", "no-such-rev")
    assert r.exit_code == 1 and "--at no-such-rev: no such revision" in r.stderr
    (ledger.root / "values" / "bad.md").write_text("---\nid: [\n---\nx\n")
    ledger.git("add", "-A")
    ledger.git("commit", "-qm", "bad file")
    r = ga("build")
    import re

    # the C parser notices the unclosed bracket at the end of the front matter (line 3)
    assert r.exit_code == 1 and re.search(r"values/bad.md:[23]: invalid YAML", r.stderr)
    ok = _build(ga, "--skip-invalid", "--out", str(tmp_path / "skip"))
    assert ok["invalid"] and re.match(r"values/bad.md:[23]: invalid YAML", ok["invalid"][0])
    locked = tmp_path / "ro"
    locked.mkdir()
    os.chmod(locked, stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() != 0:  # root ignores permissions
        r = ga("build", "--skip-invalid", "--out", str(locked / "x"))
        assert r.exit_code == 1 and "cannot write the dataset" in r.stderr
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = ga("build", "--skip-invalid", "--out", str(afile / "x"))
    assert r.exit_code == 1 and "cannot write the dataset" in r.stderr


def test_dataset_show(ga, taught):
    assert "run `ga build` first" in ga("dataset", "show").stderr
    _build(ga)
    shown = json.loads(ga("dataset", "show", "--json").stdout)
    # ids are random: the one correction is either trained on or held out
    assert (
        shown["counts"]["sft"].get("correction", 0)
        + shown["counts"]["heldout"].get("correction", 0)
    ) == 1
    text = ga("dataset", "stats").stdout
    assert "sft" in text and "tokens" in text and "excluded" in text


def test_interview_asks_least_known_first_one_commit(ga, taught):
    from ga_cli.chat import interview

    first = interview.plan(taught, 3)
    assert [c for c, _ in first] == ["communication", "work", "taste"]
    r = ga("interview", "--max", "3", input="Short and direct.\n\nI write software.\n")
    assert r.exit_code == 0, r.stderr
    assert "? " in r.stdout and "?:" not in r.stdout  # a question ends in one mark
    msg = taught.git("log", "-1", "--format=%s")
    assert msg == "interview: 2 answer(s) about communication, taste."
    entry = taught.entries("interview")[0]
    assert [a["category"] for a in entry.meta["answers"]] == ["communication", "taste"]
    nxt = interview.plan(taught, 3)
    assert nxt[0][0] == "work" and first[0][1] not in [q for _, q in nxt]
    m = _build(ga)
    assert m["counts"]["sft"]["interview"] == 2
    r = ga("interview", "--max", "2", input="\n\n")
    assert "nothing was written" in r.stderr


def test_a_correction_of_marks_alone_is_a_preference_pair(ga, taught, tmp_path):
    """Backticks, punctuation or case are what the principal corrected: the pair is kept."""
    for prompt, bad, good in [
        ("How do I see my changes?", "Run git diff.", "Run `git diff`."),
        ("Which city?", "paris", "Paris"),
        ("Spacing only?", "Yes,  really.", "Yes, really."),
    ]:
        ga("correct", "--prompt", prompt, "--rejected", bad, "--chosen", good)
    out = _build(ga, "--out", str(tmp_path / "d"))
    rows = _jsonl(Path(out["out"]) / "prefs.jsonl") + _jsonl(Path(out["out"]) / "heldout.jsonl")
    pairs = {(r["chosen"], r["rejected"]) for r in rows if r.get("source") == "correction"}
    assert ("Run `git diff`.", "Run git diff.") in pairs and ("Paris", "paris") in pairs
    assert not any(c == "Yes, really." for c, _ in pairs)  # only spacing differed: no pair


def test_recipe_chosen_repeats_weights_the_principals_answers_only(ga, taught, tmp_path):
    from ga_cli.errors import GaError
    from ga_cli.training import data
    from ga_cli.training import recipe as R

    ga("correct", "--prompt", "Capital of Italy?", "--rejected", "Milan.", "--better", "Rome.")
    out = Path(_build(ga, "--injection-ratio", "0")["out"])
    records = _jsonl(out / "sft.jsonl")
    corrections = [r for r in records if r["source"] == "correction"]
    assert corrections and len(corrections) < len(records)  # the value is there too
    once, thrice = data.sft_rows(out), data.sft_rows(out, 3)
    assert len(thrice) == len(once) + 2 * len(corrections)
    for r in records:
        n = 3 if r["source"] == "correction" else 1
        assert thrice.count(data.sft_row(r)) == n * once.count(data.sft_row(r)), r["source"]
    # a recipe copied out before the key existed gets 1; below 1 is refused by name
    text = Path(ga("train", "init", "cpu-default", str(tmp_path)).stdout.strip()).read_text()
    assert re.search(r"\n  chosen_repeats: \d+", text)
    old = tmp_path / "old.yaml"
    old.write_text(re.sub(r"\n  chosen_repeats: \d+", "\n", text))
    assert "chosen_repeats:" not in old.read_text()
    assert R.load(str(old)).sft.chosen_repeats == 1
    old.write_text(re.sub(r"chosen_repeats: \d+", "chosen_repeats: 0", text))
    with pytest.raises(GaError, match=r"`sft.chosen_repeats` must be >= 1"):
        R.load(str(old))
