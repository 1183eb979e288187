"""Several answers decoded together in the loaded model's own llama.cpp context: what lets
`ga serve` answer concurrent requests, and the `n` choices of one, in one batch.

`LlamaCppBackend` makes its context with `N_SEQ` sequences over one unified KV cache (the
same cells one long conversation would have). Each open `Sequence` owns a sequence id,
reserves the cells its prompt and its answer limit need, and samples from its own chain (the
chain `LlamaCppBackend.stream` uses, with the request's grammar and seed). `Slots.step()`
decodes one token of every running answer together with a chunk of any prompt still being
read, hands each answer's text to its `emit` (stop strings and UTF-8 handled as `stream`
does), and returns the sequences that finished. A lone request is decoded exactly as
`stream` decodes it: the prompt in chunks of `BATCH` tokens, then one token per step.
"""

from __future__ import annotations

import codecs
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from ga_cli.errors import GaError
from ga_cli.models.base import Cancel, GenerationParams, StopScanner, Usage

N_SEQ = 8  # answers decoded together; more wait for a free sequence
BATCH = 512  # tokens per llama_decode call (llama-cpp-python's n_batch)
PENALTY_LAST_N = 64  # what llama-cpp-python's own sampler looks back over


def sampler(llm: Any, params: GenerationParams, seed: int | None) -> Any:
    """The sampler chain llama-cpp-python's `generate` builds for these parameters: repetition
    penalty, the grammar, then greedy or top-p, temperature and a seeded draw."""
    import llama_cpp as L

    chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
    if params.repetition_penalty != 1.0:
        L.llama_sampler_chain_add(
            chain,
            L.llama_sampler_init_penalties(
                llm.n_vocab(), PENALTY_LAST_N, params.repetition_penalty, 0.0, 0.0
            ),
        )
    if params.grammar:
        grammar = L.llama_sampler_init_grammar(
            llm._model.vocab, params.grammar.encode("utf-8"), b"root"
        )
        if not grammar:
            L.llama_sampler_free(chain)
            raise GaError("llama.cpp cannot parse the grammar for `response_format`")
        L.llama_sampler_chain_add(chain, grammar)
    if params.temperature and params.temperature > 0:
        draw = seed if seed is not None else secrets.randbits(31)
        L.llama_sampler_chain_add(chain, L.llama_sampler_init_top_p(params.top_p, 1))
        L.llama_sampler_chain_add(chain, L.llama_sampler_init_temp(params.temperature))
        L.llama_sampler_chain_add(chain, L.llama_sampler_init_dist(draw))
    else:
        L.llama_sampler_chain_add(chain, L.llama_sampler_init_greedy())
    return chain


def add_token(batch: Any, token: int, pos: int, seq: int, logits: bool) -> int:
    """Append one token of sequence `seq` to a llama_batch; its index in the batch."""
    i = batch.n_tokens
    batch.token[i] = token
    batch.pos[i] = pos
    batch.n_seq_id[i] = 1
    batch.seq_id[i][0] = seq
    batch.logits[i] = logits
    batch.n_tokens = i + 1
    return int(i)


@dataclass(eq=False)
class Sequence:
    """One answer being decoded: its prompt, what it has generated, and where it goes."""

    seq: int  # the KV sequence id
    ids: list[int]  # the prompt
    limit: int  # most tokens it may generate
    chain: Any  # its sampler
    cancel: Cancel
    emit: Callable[[str], None]
    read: int = 0  # prompt tokens in the cache so far
    tokens: list[int] = field(default_factory=list)
    finish: str | None = None
    scanner: StopScanner = field(default_factory=lambda: StopScanner(None))
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))

    @property
    def reserved(self) -> int:
        return len(self.ids) + self.limit

    @property
    def usage(self) -> Usage:
        return Usage(len(self.ids), len(self.tokens), self.finish or "stop")


class Slots:
    """The running sequences of one loaded llama.cpp model."""

    def __init__(self, backend: Any):
        import llama_cpp as L

        self.backend = backend
        self.llm = backend.llm
        self.ctx = backend.llm._ctx.ctx
        self.capacity = int(L.llama_n_ctx(self.ctx))
        self.n_seq = min(N_SEQ, int(L.llama_n_seq_max(self.ctx)))
        self.batch = L.llama_batch_init(BATCH, 0, 1)
        self.llm._stack.callback(L.llama_batch_free, self.batch)  # freed with the model
        self.running: list[Sequence] = []

    def open(
        self, ids: list[int], params: GenerationParams, cancel: Cancel, emit: Callable[[str], None]
    ) -> Sequence | None:
        """Start decoding an answer to `ids`; None while there is no free sequence or not
        enough free cells for its prompt and answer limit (try again after a step)."""
        import llama_cpp as L

        window = self.backend.context_window
        if len(ids) >= window:
            raise GaError(
                f"the prompt is {len(ids)} tokens; the model's context window is {window}",
                "shorten the input",
            )
        limit = min(params.max_tokens, window - len(ids))
        used = {s.seq for s in self.running}
        if len(used) >= self.n_seq or sum(s.reserved for s in self.running) + len(ids) + limit > (
            self.capacity
        ):
            return None
        if not self.running:  # whatever `stream` or scoring left in the cache goes
            L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
            self.llm.reset()
        seq = min(set(range(self.n_seq)) - used)
        chain = sampler(self.llm, params, params.seed)
        opened = Sequence(seq, ids, limit, chain, cancel, emit, scanner=StopScanner(params.stop))
        self.running.append(opened)
        return opened

    def step(self) -> list[Sequence]:
        """Decode one token of every running answer (and a chunk of prompts still being read);
        the sequences that finished, their memory freed."""
        import llama_cpp as L

        done = [s for s in self.running if s.cancel.is_set()]
        for s in done:
            s.finish = "stop"
        live = [s for s in self.running if s not in done]
        sampled = self._fill(live)
        if self.batch.n_tokens:
            with self.backend.lock:
                status = L.llama_decode(self.ctx, self.batch)
            if status != 0:
                self._close(self.running)
                raise GaError(f"llama.cpp could not decode a batch (status {status})")
        for s, index in sampled:
            self._take(s, int(L.llama_sampler_sample(s.chain, self.ctx, index)))
            if s.finish is not None:
                done.append(s)
        self._close(done)
        return done

    def close(self) -> None:
        """Free every sequence (the model is being replaced or the server stops)."""
        self._close(list(self.running))

    def _fill(self, live: list[Sequence]) -> list[tuple[Sequence, int]]:
        """The batch: the last token of each answer, then prompt tokens while room is left;
        (sequence, batch index) for each whose next token is drawn after this decode."""
        self.batch.n_tokens = 0
        sampled = []
        for s in live:
            if s.read == len(s.ids) and s.tokens:
                sampled.append((s, self._add(s.tokens[-1], s.read + len(s.tokens) - 1, s, True)))
        for s in live:
            while s.read < len(s.ids) and self.batch.n_tokens < BATCH:
                last = s.read == len(s.ids) - 1
                index = self._add(s.ids[s.read], s.read, s, last)
                s.read += 1
                if last:
                    sampled.append((s, index))
        return sampled

    def _add(self, token: int, pos: int, s: Sequence, logits: bool) -> int:
        return add_token(self.batch, token, pos, s.seq, logits)

    def _take(self, s: Sequence, token: int) -> None:
        """One sampled token: the end of the answer, or text for its client."""
        import llama_cpp as L

        if L.llama_vocab_is_eog(self.llm._model.vocab, token):
            s.finish = "stop"
        else:
            s.tokens.append(token)
            text = s.decoder.decode(bytes(self.llm.detokenize([token])))
            out = s.scanner.feed(text) if text else ""
            if out:
                s.emit(out)
            if s.scanner.stopped:
                s.finish = "stop"
            elif len(s.tokens) >= s.limit:
                s.finish = "length"
        if s.finish is not None and not s.scanner.stopped:
            tail = s.scanner.feed(s.decoder.decode(b"", final=True)) + s.scanner.flush()
            if tail:
                s.emit(tail)

    def _close(self, finished: list[Sequence]) -> None:
        import llama_cpp as L

        memory = L.llama_get_memory(self.ctx)
        for s in finished:
            if s in self.running:
                self.running.remove(s)
                L.llama_memory_seq_rm(memory, s.seq, -1, -1)
                L.llama_sampler_free(s.chain)
