"""One schema and one trust rule for every reader of the ledger (doctor, prompt, dataset build).

A ledger holding every kind of invalid or untrusted entry: none of them reaches the system prompt
or any dataset file, each invalid one is named by `ga doctor` and listed by `ga dataset show`,
and the dataset build's fast parser agrees with the round-trip parser on every file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_ga

TOPIC = "Tell me about the lighthouse keeper"

# (relative path, text, marker, why it must not shape the model)
UNTRUSTED = [
    (
        "values/bad-status.md",
        "---\nid: v-0000000a\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: Retired\nprovenance: principal\n---\nMARKER-BAD-STATUS lighthouse keeper\n",
        "MARKER-BAD-STATUS",
        "invalid status (capital R)",
    ),
    (
        "values/retired.md",
        "---\nid: v-0000000b\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: retired\nprovenance: principal\n---\nMARKER-RETIRED lighthouse keeper\n",
        "MARKER-RETIRED",
        "retired",
    ),
    (
        "values/pending.md",
        "---\nid: v-0000000c\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: pending\nprovenance: stdin\n---\nMARKER-PENDING lighthouse keeper\n",
        "MARKER-PENDING",
        "pending",
    ),
    (
        "values/bad-provenance.md",
        "---\nid: v-0000000d\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: active\nprovenance: admin\n---\nMARKER-BAD-PROVENANCE lighthouse keeper\n",
        "MARKER-BAD-PROVENANCE",
        "invalid provenance",
    ),
    (
        "values/stdin-unapproved.md",
        "---\nid: v-0000000e\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: active\nprovenance: stdin\n---\nMARKER-STDIN-ACTIVE lighthouse keeper\n",
        "MARKER-STDIN-ACTIVE",
        "piped in, active but never approved",
    ),
    (
        "values/wrong-type.md",
        "---\nid: v-0000000f\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: active\nprovenance: principal\npriority: high\n---\n"
        "MARKER-WRONG-TYPE lighthouse keeper\n",
        "MARKER-WRONG-TYPE",
        "priority is not a number",
    ),
    (
        "values/bool-priority.md",
        "---\nid: v-00000010\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: active\nprovenance: principal\npriority: yes\n---\n"
        "MARKER-BOOL-PRIORITY lighthouse keeper\n",
        "MARKER-BOOL-PRIORITY",
        "priority is a boolean",
    ),
    (
        "values/bad-id.md",
        "---\nid: value-one\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: active\nprovenance: principal\n---\nMARKER-BAD-ID lighthouse keeper\n",
        "MARKER-BAD-ID",
        "malformed id",
    ),
    (
        "values/missing-status.md",
        "---\nid: v-00000011\ncreated: '2026-01-01T00:00:00Z'\n"
        "provenance: principal\n---\nMARKER-MISSING-STATUS lighthouse keeper\n",
        "MARKER-MISSING-STATUS",
        "missing status",
    ),
    (
        "corrections/2026/01/missing-chosen.yaml",
        "id: c-00000012\ncreated: '2026-01-01T00:00:00Z'\nstatus: active\nprovenance: principal\n"
        f"prompt: {TOPIC} (MARKER-MISSING-CHOSEN)\nrejected: MARKER-MISSING-CHOSEN-R\n",
        "MARKER-MISSING-CHOSEN",
        "missing chosen",
    ),
    (
        "corrections/2026/01/list-prompt.yaml",
        "id: c-00000013\ncreated: '2026-01-01T00:00:00Z'\nstatus: active\nprovenance: principal\n"
        f"prompt: [{TOPIC}]\nrejected: MARKER-LIST-PROMPT-R\nchosen: MARKER-LIST-PROMPT-C\n",
        "MARKER-LIST-PROMPT",
        "prompt is a list",
    ),
    (
        "corrections/2026/01/bad-created.yaml",
        "id: c-00000014\ncreated: yesterday\nstatus: active\nprovenance: principal\n"
        f"prompt: {TOPIC} again\nrejected: MARKER-BAD-CREATED-R\nchosen: MARKER-BAD-CREATED-C\n",
        "MARKER-BAD-CREATED",
        "created is not a time",
    ),
    (
        "derived/2026/01/teacher.yaml",
        "id: d-00000015\ncreated: '2026-01-01T00:00:00Z'\nstatus: active\nprovenance: teacher\n"
        f"source: c-00000099\ntype: paraphrase\nprompt: {TOPIC} please\n"
        "chosen: MARKER-TEACHER-C\nrejected: MARKER-TEACHER-R\n",
        "MARKER-TEACHER",
        "teacher entry without approval",
    ),
    (
        "examples/empty-tags.md",
        "---\nid: e-00000016\ncreated: '2026-01-01T00:00:00Z'\n"
        f"status: active\nprovenance: principal\nprompt: {TOPIC}\ntags: lighthouse\n---\n"
        "MARKER-TAGS-NOT-LIST\n",
        "MARKER-TAGS-NOT-LIST",
        "tags is not a list",
    ),
]
TRUSTED = [
    (
        "values/approved-stdin.md",
        "---\nid: v-00000017\ncreated: '2026-01-01T00:00:00Z'\n"
        "status: active\nprovenance: stdin\napproved: '2026-01-02T00:00:00Z'\n---\n"
        "MARKER-APPROVED lighthouse keeper\n",
        "MARKER-APPROVED",
    ),
]
INVALID_PATHS = [
    "values/bad-status.md",
    "values/bad-provenance.md",
    "values/wrong-type.md",
    "values/bool-priority.md",
    "values/bad-id.md",
    "values/missing-status.md",
    "corrections/2026/01/missing-chosen.yaml",
    "corrections/2026/01/list-prompt.yaml",
    "corrections/2026/01/bad-created.yaml",
    "examples/empty-tags.md",
]


@pytest.fixture
def hostile(ga, ledger, tiny_model):
    ga("config", "set", "model", str(tiny_model))
    ga("values", "add", "MARKER-TRUSTED-VALUE lighthouse keeper")
    ga(
        "correct",
        "--prompt",
        TOPIC,
        "--rejected",
        "MARKER-OK-R",
        "--better",
        "MARKER-OK-C",
        "--why",
        "flat",
    )
    for rel, text, *_ in UNTRUSTED + TRUSTED:
        path = ledger.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    ledger.git("add", "-A")
    ledger.git("commit", "-qm", "Hand-written entries, some of them broken.")
    return ledger


def test_doctor_names_every_invalid_file(ga, hostile):
    r = ga("doctor")
    assert r.exit_code == 1
    for rel in INVALID_PATHS:
        assert f"{rel}:" in r.stdout + r.stderr, rel
    for rel in (
        "values/retired.md",
        "values/pending.md",
        "values/approved-stdin.md",
        "values/stdin-unapproved.md",
        "derived/2026/01/teacher.yaml",
    ):
        assert rel not in r.stdout + r.stderr  # valid files: untrusted is not invalid


@pytest.mark.slow
def test_untrusted_entries_never_reach_the_prompt(hostile, tiny_model):
    # the mode that shows most of a correction (its rejected answer and why too)
    assert run_ga("config", "set", "prompt_corrections", "pairs").returncode == 0
    r = run_ga("prompt", "show", f"{TOPIC} and the lighthouse", "--json")
    assert r.returncode == 0, r.stderr
    system = json.loads(r.stdout)["messages"][0]["content"]
    assert "MARKER-TRUSTED-VALUE" in system and "MARKER-APPROVED" in system
    assert "MARKER-OK-C" in system  # the trusted correction is relevant and shown
    for _, _, marker, why in UNTRUSTED:
        assert marker not in system, why
    assert "fail the schema" in r.stderr  # the principal is told, not silently ignored


def test_untrusted_entries_never_reach_any_dataset_file(ga, hostile, tmp_path):
    r = ga("build")
    assert r.exit_code == 1 and ("values/" in r.stderr or "corrections/" in r.stderr)
    r = ga("build", "--skip-invalid", "--json")
    assert r.exit_code == 0, r.stderr
    out = Path(json.loads(r.stdout)["out"])
    text = "".join((out / f).read_text() for f in ("sft.jsonl", "prefs.jsonl", "heldout.jsonl"))
    assert "MARKER-TRUSTED-VALUE" in text and "MARKER-APPROVED" in text and "MARKER-OK-C" in text
    for _, _, marker, why in UNTRUSTED:
        assert marker not in text, why
    manifest = json.loads((out / "manifest.json").read_text())
    for rel in INVALID_PATHS:
        assert any(reason.startswith(f"{rel}:") for reason in manifest["invalid"]), rel
    shown = ga("dataset", "show")
    assert f"invalid   {len(INVALID_PATHS)}" in shown.stdout
    assert "values/bad-status.md:4: `status` must be one of" in shown.stdout


def test_fast_and_round_trip_parsers_agree_on_every_file(hostile):
    from ruamel.yaml import YAML

    from ga_cli.dataset import snapshot
    from ga_cli.errors import LedgerFormatError
    from ga_cli.fileio import yamlio
    from ga_cli.ledger import entries as E

    y = YAML(typ="safe", pure=False)
    files = hostile.entry_files()
    assert len(files) == len(UNTRUSTED) + len(TRUSTED) + 2
    for rel in files:
        kind = E.kind_of_path(rel)
        raw = (hostile.root / rel).read_bytes()
        try:
            entry = hostile.load(rel)
            slow = E.problems(entry)
        except LedgerFormatError as exc:
            entry, slow = None, [(exc.line, exc.detail)]
        try:
            item = snapshot.parse_fast(kind, rel, raw, y)
            fast = None
        except LedgerFormatError as exc:
            item, fast = None, (exc.line, exc.detail)
        assert (fast is None) == (not slow), rel
        if fast is not None:
            assert fast == slow[0], rel  # same first problem, same line
            continue
        assert yamlio.plain(item.meta) == yamlio.plain(entry.meta), rel
        assert item.body == entry.body, rel
        assert (E.untrusted(item.meta) is None) == entry.trusted, rel


@pytest.mark.slow
def test_pairs_are_scored_under_the_messages_chat_sends(ga, ledger, tiny_model):
    """One function builds the prompt for `ga ask` and for scoring in `ga eval`/`ga train`."""
    from ga_cli.models.local import LocalBackend
    from ga_cli.training import compare, data

    ga("config", "set", "model", str(tiny_model))
    # past corrections in the prompt (a local model gets none by default: `auto` is off)
    assert ga("config", "set", "prompt_corrections", "chosen").exit_code == 0
    ga("values", "add", "Answer like a lighthouse keeper.", "--priority", "1")
    words = [
        "amber",
        "birch",
        "cedar",
        "dune",
        "ember",
        "fjord",
        "glacier",
        "harbor",
        "iris",
        "juniper",
        "kelp",
        "lagoon",
    ]
    for i, w in enumerate(words):  # one distinct word each: its own correction ranks first
        ga(
            "correct",
            "--prompt",
            f"How do I trim the {w} lamp wick?",
            "--rejected",
            f"No idea {i}.",
            "--better",
            f"Cut the {w} wick square.",
            "--why",
            "vague",
        )
    out = Path(json.loads(ga("build", "--json").stdout)["out"])
    held = set(json.loads((out / "manifest.json").read_text())["heldout_ids"])
    assert held
    backend = LocalBackend(tiny_model)
    messages_for = compare.scoring_messages(backend, compare.eval_context(ledger.root, out))
    trained = data.read_jsonl(out / "prefs.jsonl")[0]
    shown = run_ga("prompt", "show", trained["prompt"], "--json")
    assert shown.returncode == 0, shown.stderr
    chat_messages = json.loads(shown.stdout)["messages"]
    pairs = data.eval_pairs([trained], messages_for)
    assert pairs[0]["messages"] == chat_messages  # exactly what `ga ask` sends for it
    assert "Answer like a lighthouse keeper." in chat_messages[0]["content"]
    assert trained["chosen"] in chat_messages[0]["content"]  # its correction is relevant
    held_row = next(r for r in data.read_jsonl(out / "heldout.jsonl") if r["id"] in held)
    assert held_row["chosen"] in messages_for(held_row["prompt"], None)[0]["content"]
    scored = data.eval_pairs([held_row], messages_for, leave_out_own=True)[0]["messages"]
    assert held_row["chosen"] not in scored[0]["content"]  # its own answer is not shown
