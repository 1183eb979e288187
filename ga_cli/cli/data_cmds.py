"""`ga build`, `ga dataset show|stats` and `ga interview`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ga_cli.cli import modelopts, output
from ga_cli.cli.group import new_app
from ga_cli.cli.options import JSON

dataset_app = new_app(help="Inspect the training sets `ga build` made.")


def build(
    at: str = typer.Option("HEAD", "--at", help="Build from this ledger revision."),
    out: Optional[Path] = typer.Option(
        None, "--out", help="Output directory (default: the cache, keyed by ledger commit)."
    ),
    max_seq_len: int = typer.Option(
        1024, "--max-seq-len", min=64, help="Drop records longer than this many tokens."
    ),
    injection_ratio: float = typer.Option(
        0.1,
        "--injection-ratio",
        min=0.0,
        max=0.9,
        help="Share of SFT records that teach ignoring instructions inside piped data.",
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Leave malformed entries out (listed in the manifest) instead of failing.",
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild even if a build exists."),
    json_out: bool = JSON,
) -> None:
    """Distil the ledger at one commit into sft.jsonl, prefs.jsonl, heldout.jsonl, manifest.json.

    The same commit and settings always give byte-identical files."""
    from ga_cli.dataset.build import Settings
    from ga_cli.dataset.build import build as run_build

    ledger = modelopts.open_ledger()
    spec = modelopts.target(ledger, None, explicit_only=True).files
    settings = Settings(
        max_seq_len=max_seq_len,
        injection_ratio=injection_ratio,
        tokenizer=spec,
        skip_invalid=skip_invalid,
    )
    with modelopts.spinner("Building the dataset…"):
        result = run_build(ledger.root, at, out, settings, force=force, progress=output.info)
    m = result.manifest
    if json_out:
        output.emit_json({"out": str(result.out), "cached": result.cached, **m})
        return
    state = "up to date" if result.cached else "built"
    output.info(f"Dataset {state} for ledger {m['ledger_sha'][:7]}: {result.out}")
    for name, counts in m["counts"].items():
        output.info(
            f"  {name:<8} {sum(counts.values()):>6}  "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    if m["too_long"]["dropped"]:
        output.warn(f"{len(m['too_long']['dropped'])} record(s) over {max_seq_len} tokens dropped")
    output.text(str(result.out))


@dataset_app.command("show")
def dataset_show(json_out: bool = JSON) -> None:
    """Counts per source, token totals and percentiles, longest records, exclusions."""
    from ga_cli.dataset.build import latest_manifest

    ledger = modelopts.open_ledger()
    folder, m = latest_manifest(ledger.root)
    if json_out:
        output.emit_json({"out": str(folder), **m})
        return
    output.text(f"dataset   {folder}")
    output.text(f"ledger    {m['ledger_sha'][:7]}   tokenizer {m['tokens']['tokenizer']}")
    for name, counts in m["counts"].items():
        t = m["tokens"].get(name, {})
        output.text(
            f"{name:<9} {sum(counts.values()):>6} records, {t.get('total', 0)} tokens "
            f"(p50 {t.get('p50', '-')}, p90 {t.get('p90', '-')}, max {t.get('max', '-')})"
            f"  [{', '.join(f'{k} {v}' for k, v in counts.items())}]"
        )
    output.text(f"tiktoken  o200k totals: {m['tokens']['tiktoken_o200k_total']}")
    if m["excluded"]:
        output.text("excluded  " + ", ".join(f"{k} {v}" for k, v in m["excluded"].items()))
    output.text(f"invalid   {len(m['invalid'])} (never trusted; fix them, then `ga doctor`)")
    for reason in m["invalid"]:
        output.text(f"  {reason}")
    output.text(f"dupes     exact {m['duplicates']['exact']}, near {m['duplicates']['near']}")
    output.text(
        f"too long  {len(m['too_long']['dropped'])} dropped (> {m['too_long']['max_seq_len']})"
    )
    probes = m["counts"]["heldout"].get("injection", 0)
    own = ", ".join(m["heldout_ids"]) or "none of your corrections yet"
    output.text(
        f"held out  {own}" + (f" (and {probes} of ga's injection probes)" if probes else "")
    )
    for r in m["longest"]:
        output.text(f"longest   {r['tokens']:>5} tokens  {r['source']:<10} {r['id']}")


dataset_app.command("stats")(dataset_show)


def interview(
    max_questions: int = typer.Option(5, "--max", min=1, max=30, help="Questions this session."),
    follow_ups: bool = typer.Option(
        False,
        "--follow-ups",
        help="Let the configured model propose a follow-up after each answer.",
    ),
    pairs: bool = typer.Option(
        False,
        "--pairs",
        help="Instead of questions: two of the model's own answers to a prompt where it is "
        "least sure (your past questions nearest your corrections); you pick, edit or write "
        "the better one. Each choice is one correction (one commit).",
    ),
    prompt: Optional[list[str]] = typer.Option(
        None, "--prompt", help="With --pairs: ask about this prompt (repeatable)."
    ),
    model: Optional[str] = modelopts.MODEL,
    api_base: Optional[str] = modelopts.API_BASE,
) -> None:
    """Answer a few questions about yourself; ga asks where it knows least. Empty answer skips.

    The whole session is one commit under interviews/. With --pairs, choose between two of the
    model's answers instead: ga interview --pairs --max 3"""
    from ga_cli.chat import interview as I

    if pairs:
        from ga_cli.cli import pairs_cmd

        pairs_cmd.run(max_questions, prompt, model, api_base)
        return
    if prompt:
        from ga_cli.errors import GaError

        raise GaError("--prompt goes with --pairs", 'ga interview --pairs --prompt "..."')
    ledger = modelopts.open_ledger()
    backend = None
    if follow_ups:
        backend = modelopts.load(
            modelopts.target(ledger, model, api_base is not None), None, api_base
        )
    answers: list[dict[str, str]] = []
    questions = I.plan(ledger, max_questions)
    if not questions:
        output.info("You have answered every question in the bank. Add your own to it!")
        return
    output.info("Press Enter to skip a question, Ctrl-D to stop (answers so far are kept).")
    try:
        for category, question in questions:
            answer = typer.prompt(
                f"[{category}] {question}", default="", show_default=False, prompt_suffix=" "
            )
            if not answer.strip():
                continue
            answers.append({"category": category, "question": question, "answer": answer.strip()})
            if backend is not None:
                extra = I.follow_up(backend, question, answer)
                if extra:
                    more = typer.prompt(
                        f"[{category}] {extra}", default="", show_default=False, prompt_suffix=" "
                    )
                    if more.strip():
                        answers.append(
                            {
                                "category": category,
                                "question": extra,
                                "answer": more.strip(),
                                "asked_by": "model",
                            }
                        )
    except (EOFError, typer.Abort):
        output.raw("\n")
    if not answers:
        output.info("No answers; nothing was written.")
        return
    entry = I.save(ledger, answers)
    output.info(f"Saved {len(answers)} answer(s) as {entry.id} ({entry.path}).")


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.add_typer(dataset_app, name="dataset")
    app.command("interview")(interview)
