"""`ga chat`: a terminal conversation that streams, remembers, and takes corrections in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import typer

from ga_cli.cli import modelopts, output

if TYPE_CHECKING:
    from ga_cli.ledger.store import Ledger

HELP = """Commands:
  /correct [CHOSEN]  correct the last answer (opens $EDITOR unless the answer you want is given)
  /good              keep the last answer as an example of what you want
  /retry             answer the last question again
  /values            show your active values
  /model [SPEC]      show or switch the model
  /help              this list
  /quit              leave (Ctrl-D works too; Ctrl-C stops an answer)
Alt-Enter (or a line ending in \\) adds a line; a pasted block is one message; Tab completes
/commands; Up and Down walk your earlier messages."""


@dataclass(frozen=True)
class Last:
    """The last exchange: what /correct, /good and /retry act on."""

    prompt: str
    answer: str
    turn: int


class Chat:
    def __init__(
        self,
        ledger: Ledger | None,
        backend: Any,
        session: Any,
        params: Any,
        adapter: Optional[str],
        api_base: Optional[str],
        system: Optional[str] = None,
        plain: bool = False,
        memory: str = "merge",
    ):
        self.ledger, self.backend, self.session, self.params = ledger, backend, session, params
        self.adapter, self.api_base, self.system, self.plain = adapter, api_base, system, plain
        self.memory = memory
        self.history: list[dict[str, str]] = []
        self.last: Optional[Last] = None

    def answer(self, question: str) -> None:
        from ga_cli.chat.exchange import Exchange
        from ga_cli.prompt import conversation

        context = conversation.ledger_context(self.ledger) if self.ledger is not None else None
        turn = Exchange(
            self.backend,
            question,
            self.params,
            context,
            self.history,
            system=self.system,
            memory=self.memory,
        )
        for w in turn.warnings:
            output.warn(w)
        with output.AnswerView(self.plain) as view:
            done = turn.run(self.session, view.write)
            if done.interrupted:
                view.note("[stopped]")
            elif done.cut_off:
                view.note(modelopts.cut_off_note(self.params.max_tokens))
        self.history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": view.text},
        ]
        self.last = Last(question, view.text, done.turn)

    def resume(self) -> None:
        """Carry on the session: its messages, and its last answer for /correct and /good."""
        self.history = self.session.messages()
        turns = self.session.turns()
        if turns:
            t = turns[-1]
            self.last = Last(t["prompt"], t["answer"], t["turn"])
        n = len(turns)
        output.info(f"Resumed session {self.session.id} ({n} turn{'' if n == 1 else 's'}).")

    def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        from ga_cli.errors import GaError

        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        if name in ("quit", "exit", "q"):
            return False
        if name == "help":
            output.info(HELP)
        elif name == "retry":
            if not self.last:
                raise GaError("nothing to retry yet")
            self.history = self.history[:-2]
            self.answer(self.last.prompt)
        elif name == "correct":
            self._correct(arg)
        elif name == "good":
            self._good()
        elif name == "values":
            values = [
                v
                for v in (self.ledger.scan()[0] if self.ledger else [])
                if v.kind.name == "value" and v.trusted
            ]
            output.info("\n".join(f"{v.id}  {v.summary()}" for v in values) or "No values yet.")
        elif name == "model":
            if arg:
                self.backend = modelopts.load(
                    modelopts.target(self.ledger, arg), self.adapter, self.api_base
                )
                self.history = []
            output.info(f"model: {self.backend.name}")
        else:
            raise GaError(f"unknown command /{name}", "type /help for the list")
        return True

    def _need_last(self) -> tuple[Ledger, Last]:
        """The ledger and the last exchange, for /correct and /good."""
        from ga_cli.errors import GaError

        if self.ledger is None:
            raise GaError("no ledger", "create one with `ga init`")
        if not self.last:
            raise GaError("nothing to act on yet", "ask something first")
        return self.ledger, self.last

    def _correct(self, better: str) -> None:
        from ga_cli.cli import correcting

        ledger, last = self._need_last()
        recorded = correcting.correct_exchange(
            ledger,
            last.prompt,
            last.answer,
            better=better or None,
            why=None,
            session=self.session.id,
            turn=last.turn,
            model=self.backend.name,
        )
        output.info(f"Recorded correction {recorded.correction.id}.")

    def _good(self) -> None:
        from ga_cli.ledger import ops

        ledger, last = self._need_last()
        entry = ops.add_example(ledger, last.prompt, last.answer, tags=["from-chat"])
        output.info(f"Kept the answer as example {entry.id}.")


def chat(
    model: Optional[str] = modelopts.MODEL,
    api_base: Optional[str] = modelopts.API_BASE,
    adapter: Optional[str] = modelopts.ADAPTER,
    no_server: bool = modelopts.NO_SERVER,
    resume: bool = typer.Option(False, "--continue", "-c", help="Resume the last ga chat."),
    plain: bool = typer.Option(
        False, "--plain", help="Print answers as raw text, not rendered markdown."
    ),
    system: Optional[str] = modelopts.SYSTEM,
    memory: str = modelopts.MEMORY,
    template: Optional[str] = modelopts.TEMPLATE,
    temperature: Optional[float] = modelopts.TEMPERATURE,
    max_tokens: Optional[int] = modelopts.MAX_TOKENS,
    repetition_penalty: Optional[float] = modelopts.REPETITION_PENALTY,
    threads: Optional[int] = modelopts.THREADS,
    engine: Optional[str] = modelopts.ENGINE,
) -> None:
    """Talk with ga in the terminal. /help lists the slash commands."""
    from ga_cli.chat import templates
    from ga_cli.chat.sessions import Session

    memory = modelopts.memory_mode(memory)
    saved = templates.load(template) if template else None
    model = model or (saved.model if saved else None)
    system = system if system is not None else (saved.system if saved else None)
    ledger = modelopts.open_ledger_or_none()
    if ledger is None:
        output.warn("no ledger yet: answers are not personal. Create one with `ga init`.")
    backend = modelopts.choose(ledger, model, adapter, api_base, no_server).open()
    session = Session.latest("chat") if resume else Session.create("chat", backend.name)
    repl = Chat(
        ledger,
        backend,
        session,
        modelopts.params(temperature, max_tokens, repetition_penalty, saved),
        adapter,
        api_base,
        system,
        plain,
        memory,
    )
    if resume:
        repl.resume()
    from ga_cli.cli import chat_input

    read = chat_input.reader()
    output.info(f"ga chat with {backend.name}. /help for commands, Ctrl-D to leave.")
    from ga_cli.training import auto

    finished = auto.unseen()  # a background run ended since the last session
    if finished is not None:
        line = auto.summary(finished)
        output.info(line[0].upper() + line[1:] + ".")
    converse(repl, read)
    output.info(f"Session {session.id} saved. `ga history show {session.id}` replays it.")


def converse(repl: Chat, read: Any) -> None:
    """Read lines until Ctrl-D or /quit: slash commands, else questions. A mistake is reported
    and the conversation goes on."""
    from ga_cli.errors import GaError

    while True:
        try:
            line = read()
        except EOFError:
            output.raw("\n")
            break
        except KeyboardInterrupt:
            output.raw("\n")
            output.info("(Ctrl-D or /quit to leave)")
            continue
        if not line:
            continue
        try:
            if line.startswith("/"):
                if not repl.command(line):
                    break
            else:
                repl.answer(line)
        except GaError as exc:  # a bad command must not end the conversation
            output.error(exc.message, exc.hint)


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)
