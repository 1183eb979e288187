"""One generation worker: requests queue behind it; the model is swapped between requests."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from ga_cli.models.base import Cancel, GenerationParams


class QueueFull(Exception):
    pass


@dataclass
class Loaded:
    backend: Any
    names: list[str]  # the ids it answers to: ga-personal, the run id, the base name
    run_id: str | None


@dataclass
class Engine:
    load_current: Callable[[], Loaded]   # what `current` points at now
    current_key: Callable[[], str]       # cheap: changes when `current` changes
    max_queue: int = 16
    loaded: Loaded | None = None
    key: str | None = None
    pending: int = 0
    served: int = 0
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

    def stream(self, messages: list[dict[str, str]], params: GenerationParams, cancel: Cancel,
               emit: Callable[[str | None, Any], None]) -> Future:
        """Generate in the worker; `emit(piece, loaded)` per piece, then `emit(None, loaded)`."""

        def work(loaded: Loaded) -> Any:
            try:
                for piece in loaded.backend.stream(messages, params, cancel):
                    emit(piece, loaded)
            finally:
                emit(None, loaded)
            return loaded.backend.usage

        return self.submit(work)

