"""`ga ask` (one-shot, for pipelines), `ga prompt show` and `ga history`."""

from __future__ import annotations

from typing import Optional

import typer

from ga_cli.cli import modelopts, output
from ga_cli.cli.app import new_app

prompt_app = new_app(help="See exactly what the model is shown.")
history_app = new_app(
    help="Past conversations (logged outside the ledger).",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _question_and_data(question: Optional[str]) -> tuple[str, Optional[str]]:
    from ga_cli.cli import stdin
    from ga_cli.errors import GaError

    data = None
    if stdin.piped():
        data = stdin.read_text("piped input")
        if not data.strip():
            data = None
    if question is None or not question.strip():
        if data is not None:
            raise GaError(
                "piped text is data, not a question",
                'say what to do with it: git diff | ga ask "write a commit message"',
            )
        raise GaError("nothing to ask", 'ga ask "QUESTION", or pipe data with a question')
    return question.strip(), data


def ask(
    question: Optional[str] = typer.Argument(
        None, help="Your question or instruction. Piped stdin is attached as untrusted data."
    ),
    model: Optional[str] = modelopts.MODEL,
    api_base: Optional[str] = modelopts.API_BASE,
    adapter: Optional[str] = modelopts.ADAPTER,
    no_server: bool = modelopts.NO_SERVER,
    system: Optional[str] = typer.Option(
        None, "--system", help="Use this system prompt instead of the one built from your ledger."
    ),
    temperature: float = modelopts.TEMPERATURE,
    max_tokens: int = modelopts.MAX_TOKENS,
    repetition_penalty: float = modelopts.REPETITION_PENALTY,
    threads: Optional[int] = modelopts.THREADS,
    engine: Optional[str] = modelopts.ENGINE,
    no_stream: bool = typer.Option(False, "--no-stream", help="Print the answer when complete."),
    json_out: bool = typer.Option(
        False, "--json", help="Print answer, model, session id and token counts as JSON."
    ),
) -> None:
    """Ask once and print the answer; made for shell pipelines.

    git diff | ga ask "write a commit message"
    """
    from ga_cli.chat.sessions import Session
    from ga_cli.models.base import Cancel, GenerationParams
    from ga_cli.prompt import conversation

    question, data = _question_and_data(question)
    ledger = modelopts.open_ledger_or_none()
    if ledger is None:
        output.warn("no ledger yet: this answer is not personal. Create one with `ga init`.")
    backend = modelopts.choose(ledger, model, adapter, api_base, no_server).open()
    context = conversation.ledger_context(ledger) if ledger is not None else None
    prepared = conversation.prepare(
        backend, question, context=context, data=data, system_override=system, max_tokens=max_tokens
    )
    for w in prepared.warnings:
        output.warn(w)
    params = GenerationParams(
        temperature=temperature, max_tokens=max_tokens, repetition_penalty=repetition_penalty
    )
    cancel, pieces, interrupted = Cancel(), [], False
    stream_out = not (no_stream or json_out)
    try:
        for piece in backend.stream(prepared.messages, params, cancel):
            pieces.append(piece)
            if stream_out:
                output.raw(piece)
    except KeyboardInterrupt:
        cancel.set()
        interrupted = True
    answer = "".join(pieces)
    session = Session.create("ask", backend.name)
    usage = {
        "prompt_tokens": backend.usage.prompt_tokens,
        "completion_tokens": backend.usage.completion_tokens,
        "finish_reason": backend.usage.finish_reason,
    }
    session.log_turn(
        question,
        answer,
        backend.name,
        usage,
        data=data,
        system=prepared.messages[0]["content"],
        interrupted=interrupted,
    )
    cut_off = usage["finish_reason"] == "length" and not interrupted
    if json_out:
        output.emit_json(
            {
                "answer": answer,
                "model": backend.name,
                "session": session.id,
                "usage": usage,
                "cut_off": cut_off,
            }
        )
    elif stream_out:
        output.raw("\n")
    else:
        output.raw(answer + "\n")
    if cut_off and not json_out:
        output.warn(modelopts.cut_off_note(max_tokens))
    if interrupted:
        raise typer.Exit(130)


@prompt_app.command("show")
def prompt_show(
    question: Optional[str] = typer.Argument(None, help="The question to build the prompt for."),
    model: Optional[str] = modelopts.MODEL,
    api_base: Optional[str] = modelopts.API_BASE,
    json_out: bool = typer.Option(False, "--json", help="Print the messages as JSON."),
) -> None:
    """Print exactly the messages the model would see for QUESTION."""
    from ga_cli.prompt import conversation

    question, data = _question_and_data(question or "(your question)")
    ledger = modelopts.open_ledger_or_none(required=True)
    backend = modelopts.load_backend(modelopts.model_spec(ledger, model), None, api_base)
    prepared = conversation.prepare(
        backend, question, context=conversation.ledger_context(ledger), data=data
    )
    for w in prepared.warnings:
        output.warn(w)
    if json_out:
        output.emit_json(
            {
                "model": backend.name,
                "messages": prepared.messages,
                "system_tokens": prepared.system.tokens if prepared.system else None,
            }
        )
        return
    for m in prepared.messages:
        output.raw(f"=== {m['role']} ===\n{m['content']}\n")


@history_app.callback()
def history(
    ctx: typer.Context, json_out: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List past conversations, newest last. `ga history show ID` shows one."""
    if ctx.invoked_subcommand:
        return
    from ga_cli.chat.sessions import all_sessions

    rows = [s.summary() for s in all_sessions()]
    if json_out:
        output.emit_json(rows)
        return
    if not rows:
        output.info("No conversations yet.")
        return
    output.table(
        ["id", "kind", "model", "turns", "first prompt"],
        (
            [r["id"], r["kind"], r["model"], r["turns"], (r["first_prompt"] or "")[:60]]
            for r in rows
        ),
    )


@history_app.command("show")
def history_show(
    sid: str = typer.Argument(..., metavar="ID", help="Session id (a prefix works)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show every turn of one conversation."""
    from ga_cli.chat.sessions import Session

    session = Session.open(sid)
    turns = session.turns()
    if json_out:
        output.emit_json({"id": session.id, "turns": turns})
        return
    for t in turns:
        output.raw(f"--- turn {t['turn']} ({t['model']}, {t['time']})\n> {t['prompt']}\n")
        if t.get("data"):
            output.raw(f"[piped data: {len(t['data'])} characters]\n")
        output.raw(f"{t['answer']}\n")


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.add_typer(prompt_app, name="prompt")
    app.add_typer(history_app, name="history")
