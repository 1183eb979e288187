"""Why training rows and chat carry different system prompts (issue 25 item 5), measured.

Training rows (dataset/records.py) carry a short fixed system message; `ga ask`/`ga chat` and
evaluation send the ledger's system prompt (prompt/prompting.py: values, lessons, what the
principal told, relevant corrections). Would one builder for both be better? For each suite of
bench/suites.py, on a fresh ledger built through the real `ga` commands, this measures over
the dataset's SFT turns and preference pairs:

- system tokens per row (the embedded model's tokenizer): what every training step would pay;
- distinct system texts: the ledger prompt is chosen per question;
- after one more `ga values add`: the rows whose system text changes. An incremental round
  (training/incremental.py) trains on the records that are new or changed; with the ledger
  prompt in every row, one new value would make every row new.

    python bench/system_prompts.py [--suite NAME ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from learning import bench_env, ga, make_ledger, must
from suites import SUITES


def ledger_systems(home: str, rows: list[dict], backend) -> list[str]:
    """The system prompt `ga ask PROMPT` sends for each row's prompt, from the ledger now."""
    import os

    os.environ["GA_HOME"] = home
    from ga_cli.ledger.store import Ledger
    from ga_cli.prompt import conversation

    context = conversation.ledger_context(Ledger.open())
    out = []
    for r in rows:
        prompt = r["prompt"] if "prompt" in r else r["messages"][1]["content"]
        prepared = conversation.prepare(backend, prompt, context=context)
        out.append(prepared.messages[0]["content"])
    return out


def dataset_rows(env: dict) -> list[dict]:
    """The SFT turns and preference pairs `ga build` writes (injection probes left out)."""
    out = Path(json.loads(must(ga(env, "build", "--json")))["out"])
    lines = [ln for f in ("sft.jsonl", "prefs.jsonl") for ln in (out / f).read_text().splitlines()]
    rows = [json.loads(line) for line in lines]
    return [r for r in rows if r["source"] != "injection"]


def training_system(row: dict) -> str:
    return row["system"] if "system" in row else row["messages"][0]["content"]


def measure(name: str, backend) -> dict:
    home, env = bench_env(None)
    with tempfile.TemporaryDirectory() as tmp:
        make_ledger(env, SUITES[name], tmp)
    rows = dataset_rows(env)
    short = [training_system(r) for r in rows]
    before = ledger_systems(home, rows, backend)
    must(ga(env, "values", "add", "Prefer plain words to jargon."))
    after = ledger_systems(home, rows, backend)
    rebuilt = {(r["id"], r["source"]): training_system(r) for r in dataset_rows(env)}
    short_changed = sum(rebuilt.get((r["id"], r["source"])) != s for r, s in zip(rows, short))
    count = backend.count_tokens
    return {
        "suite": name,
        "rows": len(rows),
        "short_tokens": sum(map(count, short)) / len(rows),
        "ledger_tokens": sum(map(count, before)) / len(rows),
        "short_distinct": len(set(short)),
        "ledger_distinct": len(set(before)),
        "short_changed": short_changed,
        "ledger_changed": sum(b != a for b, a in zip(before, after)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", action="append", choices=sorted(SUITES))
    args = ap.parse_args()
    from ga_cli import models

    backend = models.load("embedded")
    print(
        "| suite | rows | system tokens per row: short / ledger | distinct systems: short / "
        "ledger | rows changed by one new value: short / ledger |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name in args.suite or sorted(SUITES):
        m = measure(name, backend)
        print(
            f"| {m['suite']} | {m['rows']} | {m['short_tokens']:.0f} / {m['ledger_tokens']:.0f} "
            f"| {m['short_distinct']} / {m['ledger_distinct']} "
            f"| {m['short_changed']} / {m['ledger_changed']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
