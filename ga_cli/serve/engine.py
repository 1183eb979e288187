"""One generation worker: requests queue behind it; the model is swapped between requests."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from ga_cli.models.base import Cancel, GenerationParams, Usage


class QueueFull(Exception):
    pass


class Closed(Exception):
    """The server is shutting down: no new work is taken."""


@dataclass
class Loaded:
    backend: Any
    names: list[str]  # the ids it answers to: ga-personal, the run id, the base name
    run_id: str | None


@dataclass
class Engine:
    load_current: Callable[[], Loaded]  # what `current` points at now
    current_key: Callable[[], str]  # cheap: changes when `current` changes
    max_queue: int = 16
    loaded: Loaded | None = None
    key: str | None = None
    pending: int = 0
    served: int = 0
    generated_tokens: int = 0  # completion tokens of every finished or cancelled request
    closed: bool = False
    active: set[Cancel] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))

    def start(self) -> None:
        self.key = self.current_key()
        self.loaded = self.load_current()

    def _maybe_swap(self) -> None:
        """Runs in the worker thread, between requests: no generation is in flight."""
        key = self.current_key()
        if key != self.key:
            self.loaded = self.load_current()
            self.key = key

    def names(self) -> list[str]:
        return list(self.loaded.names) if self.loaded else []

    def submit(self, work: Callable[[Any], Any]) -> Future:
        with self.lock:
            if self.closed:
                raise Closed()
            if self.pending >= self.max_queue:
                raise QueueFull()
            self.pending += 1

        def run() -> Any:
            try:
                self._maybe_swap()
                assert self.loaded is not None
                return work(self.loaded)
            finally:
                with self.lock:
                    self.pending -= 1
                    self.served += 1

        return self.pool.submit(run)

    def stream(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        cancel: Cancel,
        emit: Callable[[str | None, Any], None],
    ) -> Future:
        """Generate in the worker; `emit(piece, loaded)` per piece, then `emit(None, loaded)`."""

        def work(loaded: Loaded) -> Any:
            try:
                if cancel.is_set():  # cancelled while it waited in the queue
                    return Usage(finish_reason="stop")
                for piece in loaded.backend.stream(messages, params, cancel):
                    emit(piece, loaded)
                with self.lock:
                    self.generated_tokens += loaded.backend.usage.completion_tokens
                return loaded.backend.usage
            finally:
                with self.lock:
                    self.active.discard(cancel)
                emit(None, loaded)

        with self.lock:
            self.active.add(cancel)
        try:
            return self.submit(work)
        except (QueueFull, Closed):
            with self.lock:
                self.active.discard(cancel)
            raise

    def close(self) -> None:
        """Take no new work and stop every generation in flight or queued (at its next token)."""
        with self.lock:
            self.closed = True
            for cancel in self.active:
                cancel.set()
        self.pool.shutdown(wait=False)  # queued work sees its cancel and returns at once
