"""One interface for every model ga talks to: stream an answer, score an answer, count tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, runtime_checkable

Message = dict[str, str]

# What `ga ask`, `ga chat` and `ga serve` use unless told otherwise: an answer sized for a
# terminal, and a repetition penalty that keeps small models out of loops. Chosen by
# bench/sampling.py (degenerate outputs on the health probes; figures in docs/benchmarks.md).
ANSWER_MAX_TOKENS = 256
ANSWER_REPETITION_PENALTY = 1.1


@dataclass
class GenerationParams:
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 512
    stop: list[str] | None = None
    seed: int | None = None
    repetition_penalty: float = 1.0  # > 1 discourages repeating tokens already in the answer
    grammar: str | None = None  # GBNF the answer must match (JSON mode); llama.cpp only


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"


@dataclass(eq=False)  # compared and hashed by identity: the server keeps a set of them
class Cancel:
    """Set it from another thread (Ctrl-C, a disconnected HTTP client) to stop a generation."""

    event: threading.Event = field(default_factory=threading.Event)

    def set(self) -> None:
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()


class Backend(Protocol):
    """What every model does. What only some do is declared below (LocalModel, Embedder) and
    asked with isinstance, never probed with hasattr."""

    name: str
    context_window: int
    usage: Usage  # filled in by the last stream()

    @property
    def engine(self) -> str:
        """llama.cpp, transformers, litellm, or ga-serve."""
        ...

    @property
    def remote(self) -> bool:
        """A provider's model: ga never trained it (prompting.corrections_mode)."""
        ...

    @property
    def model_path(self) -> str | None:
        """The weights on this machine; None for a provider or a server."""
        ...

    def stream(
        self, messages: list[Message], params: GenerationParams, cancel: Cancel | None = None
    ) -> Iterator[str]:
        """Yield pieces of the answer as they are generated."""
        ...

    def answer_logprobs(self, messages: list[Message], answer: str) -> list[float]:
        """Per-token log-probabilities of `answer` as the assistant's reply to `messages`."""
        ...

    def count_tokens(self, text: str) -> int: ...


@runtime_checkable
class LocalModel(Backend, Protocol):
    """A model whose weights are here (llama.cpp, transformers): the exact prompt tokens,
    several answers scored and several conversations answered together."""

    def prompt_ids(self, messages: list[Message]) -> list[int]: ...

    def answers_logprobs(self, messages: list[Message], answers: list[str]) -> list[list[float]]:
        """`answer_logprobs` for several answers to one prompt, computed together."""
        ...

    def generate_batch(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[tuple[str, str, int]]:
        """(text, finish, tokens) for each conversation."""
        ...


@runtime_checkable
class Embedder(Backend, Protocol):
    """A model that embeds text (llama.cpp): vectors and the tokens they took."""

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]: ...


@runtime_checkable
class Concurrent(Backend, Protocol):
    """A model that decodes several answers at once in one context (llama.cpp): `ga serve`
    batches concurrent requests through it."""

    def sequences(self) -> Any:
        """The running answers' manager (a `llamacpp_slots.Slots`)."""
        ...


class StopScanner:
    """Cut a stream at the first stop string, holding back text that could start one."""

    def __init__(self, stops: list[str] | None):
        self.stops = [s for s in (stops or []) if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if not self.stops:
            return piece
        self.buffer += piece
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.buffer, self.stopped = self.buffer[:cut], "", True
            return out
        if len(self.buffer) <= self.hold:
            return ""
        out, self.buffer = (
            self.buffer[: len(self.buffer) - self.hold],
            self.buffer[-self.hold :] if self.hold else "",
        )
        return out

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out
