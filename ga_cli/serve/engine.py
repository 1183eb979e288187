"""One generation worker: requests queue behind it; the model is swapped between requests.

On a model that decodes several answers at once (`Concurrent`: llama.cpp), requests that
arrive together are decoded together: the worker opens a sequence for each (as long as the
context has a free sequence and cells for it) and steps them all in one batch, each with its
own sampling, stop strings and cancel. Whole-model work (embeddings, a backend that cannot
batch, swapping in a newly promoted model) waits until no sequence is running; the queue is
served in order.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from ga_cli.models.base import Cancel, Concurrent, GenerationParams, Usage


class QueueFull(Exception):
    pass


class Closed(Exception):
    """The server is shutting down: no new work is taken."""


@dataclass
class Loaded:
    backend: Any
    names: list[str]  # the ids it answers to: ga-personal, the run id, the base name
    run_id: str | None


@dataclass(eq=False)
class Job:
    """Queued work: `work(loaded)` on the whole model, or an answer streamed to `emit`."""

    future: Future
    work: Callable[[Loaded], Any] | None = None
    messages: list[dict[str, str]] | None = None
    params: GenerationParams | None = None
    cancel: Cancel | None = None
    emit: Callable[[str | None, Any], None] | None = None
    ids: list[int] | None = None  # the prompt's tokens, once counted


@dataclass
class Engine:
    load_current: Callable[[], Loaded]  # what `current` points at now
    current_key: Callable[[], str]  # cheap: changes when `current` changes
    max_queue: int = 16
    loaded: Loaded | None = None
    key: str | None = None
    pending: int = 0  # queued or being answered
    served: int = 0
    generated_tokens: int = 0  # completion tokens of every finished or cancelled request
    closed: bool = False
    active: set[Cancel] = field(default_factory=set)
    lock: threading.Condition = field(default_factory=threading.Condition)
    jobs: deque[Job] = field(default_factory=deque)
    slots: Any = None  # the loaded model's running answers (llamacpp_slots.Slots), if it batches
    running: dict[Any, Job] = field(default_factory=dict)  # sequence -> its job
    most_together: int = 0  # the most answers decoded in one batch so far

    def start(self) -> None:
        self.key = self.current_key()
        self._use(self.load_current())
        threading.Thread(target=self._serve, name="ga-engine", daemon=True).start()

    def _use(self, loaded: Loaded) -> None:
        if self.slots is not None:
            self.slots.close()
        self.loaded = loaded
        backend = loaded.backend
        self.slots = backend.sequences() if isinstance(backend, Concurrent) else None

    def _maybe_swap(self) -> None:
        """Runs in the worker thread, between requests: no generation is in flight."""
        key = self.current_key()
        if key != self.key:
            self._use(self.load_current())
            self.key = key

    def names(self) -> list[str]:
        return list(self.loaded.names) if self.loaded else []

    def submit(self, work: Callable[[Any], Any]) -> Future:
        """Run `work(loaded)` in the worker, with the whole model to itself."""
        return self._queue(Job(Future(), work=work))

    def stream(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        cancel: Cancel,
        emit: Callable[[str | None, Any], None],
    ) -> Future:
        """Generate in the worker; `emit(piece, loaded)` per piece, then `emit(None, loaded)`.
        The future's result is the answer's Usage."""
        with self.lock:
            self.active.add(cancel)
        try:
            return self._queue(Job(Future(), None, messages, params, cancel, emit))
        except (QueueFull, Closed):
            with self.lock:
                self.active.discard(cancel)
            raise

    def _queue(self, job: Job) -> Future:
        with self.lock:
            if self.closed:
                raise Closed()
            if self.pending >= self.max_queue:
                raise QueueFull()
            self.pending += 1
            self.jobs.append(job)
            self.lock.notify()
        return job.future

    def close(self) -> None:
        """Take no new work and stop every generation in flight or queued (at its next token)."""
        with self.lock:
            self.closed = True
            for cancel in self.active:
                cancel.set()
            self.lock.notify()

    # -- the worker ------------------------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            with self.lock:
                while not self.jobs and not self.running:
                    if self.closed:
                        return
                    self.lock.wait()
                job = self.jobs.popleft() if self.jobs and self._can_start(self.jobs[0]) else None
            if job is not None and not self._start(job):
                with self.lock:
                    self.jobs.appendleft(job)  # no room yet: it goes first once a sequence ends
            if self.running:
                self._step()

    def _can_start(self, job: Job) -> bool:
        """Whole-model work waits for the running answers to end; an answer joins them."""
        return not self.running or (job.work is None and self.slots is not None)

    def _start(self, job: Job) -> bool:
        """Run or open `job`; False when the running answers leave no room for it yet."""
        if not self.running:
            try:
                self._maybe_swap()
            except Exception as exc:  # the new model would not load: this request says why
                self._finish(job, exc)
                return True
        assert self.loaded is not None
        if job.work is not None:
            self._finish(job, lambda: job.work(self.loaded))
        elif job.cancel is not None and job.cancel.is_set():  # cancelled while it waited
            self._finish(job, Usage(finish_reason="stop"))
        elif self.slots is None:
            self._finish(job, lambda: self._whole_answer(job))
        else:
            return self._open(job)
        return True

    def _whole_answer(self, job: Job) -> Usage:
        """An answer on a backend that cannot batch: streamed by the backend itself."""
        assert self.loaded is not None and job.messages is not None and job.params is not None
        backend, loaded = self.loaded.backend, self.loaded
        for piece in backend.stream(job.messages, job.params, job.cancel):
            job.emit(piece, loaded)  # type: ignore[misc]
        return backend.usage

    def _open(self, job: Job) -> bool:
        assert self.loaded is not None and job.messages is not None and job.params is not None
        loaded, emit = self.loaded, job.emit
        assert emit is not None and job.cancel is not None
        try:
            if job.ids is None:
                job.ids = self.loaded.backend.prompt_ids(job.messages)
            sequence = self.slots.open(job.ids, job.params, job.cancel, lambda p: emit(p, loaded))
        except Exception as exc:  # a prompt past the window, a grammar llama.cpp refuses
            self._finish(job, exc)
            return True
        if sequence is None:
            return False
        self.running[sequence] = job
        return True

    def _step(self) -> None:
        self.most_together = max(self.most_together, len(self.running))
        try:
            finished = self.slots.step()
        except Exception as exc:  # llama_decode failed: every running answer says so
            for job in self.running.values():
                self._finish(job, exc)
            self.running.clear()
            return
        for sequence in finished:
            self._finish(self.running.pop(sequence), sequence.usage)

    def _finish(self, job: Job, outcome: Any) -> None:
        """Settle `job` with a result, an exception, or what a callable returns or raises;
        an answer's stream always ends with `emit(None, loaded)`."""
        if callable(outcome):
            try:
                outcome = outcome()
            except Exception as exc:
                outcome = exc
        with self.lock:
            self.pending -= 1
            self.served += 1
            if job.cancel is not None:
                self.active.discard(job.cancel)
            if isinstance(outcome, Usage):
                self.generated_tokens += outcome.completion_tokens
        if job.emit is not None:
            job.emit(None, self.loaded)
        if isinstance(outcome, BaseException):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)
