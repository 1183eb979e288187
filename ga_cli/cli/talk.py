"""`ga ask` (one-shot, for pipelines), `ga prompt show` and `ga history`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from ga_cli.cli import constrain, modelopts, output
from ga_cli.cli.group import new_app
from ga_cli.cli.options import JSON

if TYPE_CHECKING:
    from ga_cli.chat.exchange import Answered

prompt_app = new_app(help="See exactly what the model is shown.")
templates_app = new_app(
    help="Saved system prompts, models and options: `ga ask --save NAME`, then `ga ask -t NAME`."
)
history_app = new_app(
    help="Past conversations (logged outside the ledger).",
    invoke_without_command=True,
    no_args_is_help=False,
)


STDIN_FLAG = "--stdin-is-question"


def _question_and_data(
    question: Optional[str], stdin_is_question: bool = False, files: Optional[list[Path]] = None
) -> tuple[str, Optional[str]]:
    """The principal's question, and the data to work on: piped stdin and `-f` files, framed
    as untrusted. Stdin is the question only when STDIN_FLAG says so."""
    from ga_cli.cli import stdin
    from ga_cli.errors import GaError

    piped = stdin.read_text("piped input") if stdin.piped() else None
    if stdin_is_question:
        if question:
            raise GaError(
                f"{STDIN_FLAG} reads the question from stdin, and a question was given too",
                "give one of them",
            )
        if not piped or not piped.strip():
            raise GaError(
                f"{STDIN_FLAG}: nothing was piped in", 'echo "QUESTION" | ga ask ' + STDIN_FLAG
            )
        question, piped = piped, None
    parts = [piped] if piped and piped.strip() else []
    for f in files or []:
        parts.append(f"--- file: {f.name} ---\n{stdin.read_file(f)}")
    data = "\n\n".join(parts) if parts else None
    if question is None or not question.strip():
        if data is not None:
            raise GaError(
                "piped text is data, not a question",
                f'say what to do with it: git diff | ga ask "write a commit message"; '
                f"to ask what was piped, add {STDIN_FLAG}",
            )
        raise GaError("nothing to ask", 'ga ask "QUESTION", or pipe data with a question')
    return question.strip(), data


SAVE = typer.Option(
    None,
    "--save",
    metavar="NAME",
    help="Save --system, --model and the options given as template NAME (nothing is asked); "
    "use it with -t NAME.",
)
FILES = typer.Option(
    None,
    "--file",
    "-f",
    help="Attach a file as data to work on (repeatable); framed like piped input, never "
    "as instructions.",
)
CONTINUE = typer.Option(
    False, "--continue", "-c", help="Continue the last conversation (ga ask or ga chat)."
)
CID = typer.Option(
    None, "--cid", metavar="ID", help="Continue this conversation (see `ga history`)."
)
STDIN_IS_QUESTION = typer.Option(
    False,
    STDIN_FLAG,
    help="Read the question itself from stdin. Without it, piped text is only ever data.",
)
NO_STREAM = typer.Option(False, "--no-stream", help="Print the answer when complete.")
SCHEMA = typer.Option(
    None,
    "--schema",
    metavar="JSON|FILE",
    help="Answer with JSON matching this JSON schema (inline, or a file); llama.cpp only.",
)
JSON_MODE = typer.Option(False, "--json-mode", help="Answer with one JSON object; llama.cpp only.")
ASK_JSON = typer.Option(
    False, "--json", help="Print answer, model, session id and token counts as JSON."
)


def ask(
    question: Optional[str] = typer.Argument(
        None, help="Your question or instruction. Piped stdin is attached as untrusted data."
    ),
    model: Optional[str] = modelopts.MODEL,
    api_base: Optional[str] = modelopts.API_BASE,
    adapter: Optional[str] = modelopts.ADAPTER,
    no_server: bool = modelopts.NO_SERVER,
    system: Optional[str] = modelopts.SYSTEM,
    memory: str = modelopts.MEMORY,
    template: Optional[str] = modelopts.TEMPLATE,
    save: Optional[str] = SAVE,
    files: Optional[list[Path]] = FILES,
    cont: bool = CONTINUE,
    cid: Optional[str] = CID,
    stdin_is_question: bool = STDIN_IS_QUESTION,
    temperature: Optional[float] = modelopts.TEMPERATURE,
    max_tokens: Optional[int] = modelopts.MAX_TOKENS,
    repetition_penalty: Optional[float] = modelopts.REPETITION_PENALTY,
    threads: Optional[int] = modelopts.THREADS,
    engine: Optional[str] = modelopts.ENGINE,
    no_stream: bool = NO_STREAM,
    schema: Optional[str] = SCHEMA,
    json_mode: bool = JSON_MODE,
    json_out: bool = ASK_JSON,
) -> None:
    """Ask once and print the answer; made for shell pipelines.

    git diff | ga ask "write a commit message"

    ga ask -c "and in French?"   continues the last conversation; -f FILE attaches files."""
    from ga_cli.chat import templates
    from ga_cli.chat.exchange import Exchange
    from ga_cli.chat.sessions import Session
    from ga_cli.errors import GaError
    from ga_cli.prompt import conversation

    if save is not None:
        _save(save, templates.Template(system, model, temperature, max_tokens, repetition_penalty))
        return
    if cont and cid:
        raise GaError("--continue and --cid both pick a conversation", "give one of them")
    saved = templates.load(template) if template else None
    model = model or (saved.model if saved else None)
    system = system if system is not None else (saved.system if saved else None)
    params = modelopts.params(temperature, max_tokens, repetition_penalty, saved)
    memory = modelopts.memory_mode(memory)
    # a bad schema is refused before anything loads
    grammar = constrain.answer_format(schema, json_mode)
    question, data = _question_and_data(question, stdin_is_question, files)
    ledger = modelopts.open_ledger_or_none()
    if ledger is None:
        output.warn("no ledger yet: this answer is not personal. Create one with `ga init`.")
    earlier = Session.open(cid) if cid else Session.latest() if cont else None
    backend = modelopts.choose(ledger, model, adapter, api_base, no_server).open()
    params = constrain.constrained(backend, params, grammar) if grammar else params
    context = conversation.ledger_context(ledger) if ledger is not None else None
    history = earlier.messages() if earlier else None
    turn = Exchange(backend, question, params, context, history, data, system, memory)
    for w in turn.warnings:
        output.warn(w)
    stream_out = not (no_stream or json_out)
    done = turn.run(
        earlier or Session.create("ask", backend.name), output.raw if stream_out else _quiet
    )
    if json_out:
        _emit_json(done)
    else:
        output.raw("\n" if stream_out else done.answer + "\n")
        if done.cut_off:
            output.warn(modelopts.cut_off_note(params.max_tokens))
    if done.interrupted:
        raise typer.Exit(130)


def _save(name: str, template: Any) -> None:
    from ga_cli.chat import templates

    path = templates.save(name, template)
    output.info(f'Saved template {name} ({path}). Use it: ga ask -t {name} "..."')


def _emit_json(done: Answered) -> None:
    from dataclasses import asdict

    output.emit_json(
        {
            "answer": done.answer,
            "model": done.model,
            "session": done.session.id,
            "usage": asdict(done.usage),
            "cut_off": done.cut_off,
        }
    )


def _quiet(piece: str) -> None:
    """Where the answer is printed whole at the end (--no-stream, --json)."""


@prompt_app.command("show")
def prompt_show(
    question: Optional[str] = typer.Argument(None, help="The question to build the prompt for."),
    model: Optional[str] = modelopts.MODEL,
    api_base: Optional[str] = modelopts.API_BASE,
    system: Optional[str] = modelopts.SYSTEM,
    memory: str = modelopts.MEMORY,
    json_out: bool = JSON,
) -> None:
    """Print exactly the messages the model would see for QUESTION.

    ga prompt show -s "You are a coding assistant." "rename this function"   shows what a
    client's request with that system prompt gets through `ga serve` (--memory as there)."""
    from ga_cli.prompt import conversation

    question, data = _question_and_data(question or "(your question)")
    ledger = modelopts.open_ledger()
    backend = modelopts.load(modelopts.target(ledger, model, api_base is not None), None, api_base)
    prepared = conversation.prepare(
        backend,
        question,
        context=conversation.ledger_context(ledger),
        data=data,
        system_override=system,
        memory=modelopts.memory_mode(memory),
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
    ctx: typer.Context,
    query: Optional[str] = typer.Option(
        None,
        "--query",
        "-q",
        help='Only conversations whose prompts or answers have these words (or a "phrase").',
    ),
    n: int = typer.Option(20, "-n", min=1, help="How many conversations, the newest."),
    json_out: bool = JSON,
) -> None:
    """List past conversations, newest last. `ga history show ID` shows one.

    ga history -q "docker compose" -n 5"""
    if ctx.invoked_subcommand:
        return
    from ga_cli.chat.sessions import summaries

    rows = summaries(limit=n, query=query)
    if json_out:
        output.emit_json(rows)
        return
    if not rows:
        output.info("No conversations match." if query else "No conversations yet.")
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
    json_out: bool = JSON,
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
        if t["data"]:
            output.raw(f"[piped data: {len(t['data'])} characters]\n")
        output.raw(f"{t['answer']}\n")


@history_app.command("export")
def history_export() -> None:
    """Every conversation as JSONL on stdout (a `session` record, then its turns)."""
    from ga_cli.chat.sessions import export_jsonl

    for line in export_jsonl():
        output.raw(line + "\n")


@templates_app.command("list")
def templates_list(json_out: bool = JSON) -> None:
    """Every saved template and what it sets."""
    from ga_cli.chat import templates
    from ga_cli.errors import GaError

    rows = []
    for n in templates.names():  # one broken template is named, the others still listed
        try:
            rows.append({"name": n, **templates.load(n).to_yaml()})
        except GaError as exc:
            output.warn(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
    if json_out:
        output.emit_json(rows)
        return
    if not rows:
        output.info('No templates yet. Save one: ga ask --save NAME --system "..."')
        return
    output.table(
        ["name", "model", "system", "options"],
        (
            [
                r["name"],
                r.get("model", ""),
                (r.get("system") or "")[:50],
                ", ".join(
                    f"{k}={r[k]}"
                    for k in ("temperature", "max_tokens", "repetition_penalty")
                    if k in r
                ),
            ]
            for r in rows
        ),
        whole=("name",),
    )


@templates_app.command("show")
def templates_show(name: str = typer.Argument(..., help="The template.")) -> None:
    """Print one template's YAML."""
    from ga_cli.chat import templates
    from ga_cli.fileio import yamlio

    output.raw(yamlio.dump(templates.load(name).to_yaml()))


@templates_app.command("rm")
def templates_rm(name: str = typer.Argument(..., help="The template.")) -> None:
    """Delete a template."""
    from ga_cli.chat import templates

    templates.remove(name)
    output.info(f"Removed template {name}.")


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.add_typer(templates_app, name="templates")
    app.add_typer(prompt_app, name="prompt")
    app.add_typer(history_app, name="history")
