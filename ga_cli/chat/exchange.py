"""One chat turn, the same for `ga ask` and `ga chat`: the prompt built from the ledger, the
answer streamed (Ctrl-C stops it and keeps what came), and the turn logged in history."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from ga_cli.models.base import Backend, Cancel, GenerationParams, Message, Usage
from ga_cli.prompt import conversation

if TYPE_CHECKING:
    from ga_cli.chat.sessions import Session
    from ga_cli.prompt.conversation import LedgerContext


@dataclass(frozen=True)
class Answered:
    question: str
    answer: str
    model: str
    usage: Usage
    interrupted: bool
    session: Session
    turn: int

    @property
    def cut_off(self) -> bool:
        """Stopped by the token limit (not by the principal)."""
        return self.usage.finish_reason == "length" and not self.interrupted


class Exchange:
    """`prepare` builds the messages (warnings to show before answering); `run` streams the
    answer into `on_piece` and logs the turn in `session`."""

    def __init__(
        self,
        backend: Backend,
        question: str,
        params: GenerationParams,
        context: LedgerContext | None,
        history: list[Message] | None = None,
        data: str | None = None,
        system: str | None = None,
        memory: str = "merge",
    ):
        self.backend, self.question, self.params = backend, question, params
        self.prepared = conversation.prepare(
            backend,
            question,
            context=context,
            history=history,
            data=data,
            system_override=system,
            memory=memory,
            max_tokens=params.max_tokens,
        )

    @property
    def warnings(self) -> list[str]:
        return self.prepared.warnings

    def run(self, session: Session, on_piece: Callable[[str], None]) -> Answered:
        cancel, pieces, interrupted = Cancel(), [], False
        try:
            for piece in self.backend.stream(self.prepared.messages, self.params, cancel):
                pieces.append(piece)
                on_piece(piece)
        except KeyboardInterrupt:
            cancel.set()
            interrupted = True
        answer, usage = "".join(pieces), replace(self.backend.usage)  # the next stream reuses it
        turn = session.log_turn(
            self.question,
            answer,
            self.backend.name,
            usage,
            data=self.prepared.data,
            system=self.prepared.messages[0]["content"],
            interrupted=interrupted,
        )
        return Answered(self.question, answer, self.backend.name, usage, interrupted, session, turn)
