"""Several conversations answered at once on llama.cpp (its `batched` example, from Python).

One context holds a KV sequence per conversation; each step decodes one token of every
unfinished conversation in a single call, and each conversation samples from its own sampler
chain (the chain `LlamaCppBackend.stream` uses: repetition penalty, then greedy or
top-p/temperature/seeded draw). Measured on a 2-core CPU (docs/benchmarks.md): on f16 weights
16 conversations together decode about 2.7x the tokens/s of one at a time (165 against 61), on
the Q4_1 file only 1.4x, so evaluation runs this on f16; 19 together 1.2x the tokens/s of 16
and 3 after them (138 against 113), 38 together 148.
"""

from __future__ import annotations

from typing import Any

from ga_cli.errors import GaError
from ga_cli.models.base import GenerationParams
from ga_cli.models.llamacpp_slots import BATCH, add_token, sampler

PER_CONTEXT = 32  # at most this many conversations decoded together


def generate(
    backend: Any, prompts: list[list[int]], params: GenerationParams, lora_on: bool
) -> list[tuple[str, str, int]]:
    """(text, finish, tokens) for each prompt (token ids), in order."""
    out: list[tuple[str, str, int]] = []
    for group in groups(len(prompts)):
        out += _together(backend, prompts[group.start : group.stop], params, group.start, lora_on)
    return out


def groups(count: int, most: int = PER_CONTEXT) -> list[range]:
    """`count` conversations in groups of at most `most`, of even size: 19 decode as one
    group, not 16 and a slow tail of 3."""
    if count <= 0:
        return []
    size = -(-count // -(-count // most))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _together(
    backend: Any, prompts: list[list[int]], params: GenerationParams, first: int, lora_on: bool
) -> list[tuple[str, str, int]]:
    import llama_cpp as L

    from ga_cli.models import threads

    llm, n = backend.llm, len(prompts)
    limits = [min(params.max_tokens, backend.context_window - len(p)) for p in prompts]
    if min(limits) < 1:
        raise GaError("a prompt fills the model's context window", "shorten the input")
    cp = L.llama_context_default_params()
    cp.n_ctx = sum(len(p) + k for p, k in zip(prompts, limits)) + 64
    cp.n_batch = cp.n_ubatch = BATCH
    cp.n_seq_max = n
    cp.kv_unified = True  # one pool of cells for all sequences, sized above
    cp.n_threads = cp.n_threads_batch = threads.count()
    from llama_cpp._utils import suppress_stdout_stderr

    # the unified cache of n sequences exceeds one sequence's trained context, which llama.cpp
    # reports on stderr ("n_ctx_seq > n_ctx_train") though each sequence stays inside it
    with suppress_stdout_stderr(disable=False):
        ctx = L.llama_init_from_model(llm._model.model, cp)
    if not ctx:
        raise GaError("llama.cpp could not make a context for batched generation")
    batch = L.llama_batch_init(cp.n_batch, 0, 1)
    seeds = [None if params.seed is None else params.seed + first + i for i in range(n)]
    samplers = [sampler(llm, params, seed) for seed in seeds]
    try:
        if lora_on and backend._lora is not None:
            backend._apply_lora(ctx)
        return _run(L, ctx, batch, samplers, llm, prompts, limits, params)
    finally:
        for s in samplers:
            L.llama_sampler_free(s)
        L.llama_batch_free(batch)
        L.llama_free(ctx)


def _run(
    L: Any,
    ctx: Any,
    batch: Any,
    samplers: list[Any],
    llm: Any,
    prompts: list[list[int]],
    limits: list[int],
    params: GenerationParams,
) -> list[tuple[str, str, int]]:
    n, vocab = len(prompts), llm._model.vocab
    tokens: list[list[int]] = [[] for _ in range(n)]
    finish = ["length"] * n
    active: set[int] = set()

    def take(seq: int, index: int) -> None:
        token = L.llama_sampler_sample(samplers[seq], ctx, index)
        if L.llama_vocab_is_eog(vocab, token):
            finish[seq] = "stop"
            active.discard(seq)
            return
        tokens[seq].append(token)
        if len(tokens[seq]) >= limits[seq]:
            active.discard(seq)
        else:
            active.add(seq)

    def decode(last_of: dict[int, int]) -> None:
        if L.llama_decode(ctx, batch) != 0:
            raise GaError("llama.cpp could not decode a batch (out of context cells)")
        for seq, index in last_of.items():
            take(seq, index)
        batch.n_tokens = 0

    # the prompts, packed into as few decodes as fit; a prompt's first answer token is drawn
    # right after the decode that holds its last prompt token
    batch.n_tokens = 0
    last_of: dict[int, int] = {}
    for seq, ids in enumerate(prompts):
        for pos, token in enumerate(ids):
            if batch.n_tokens == BATCH:
                decode(last_of)
                last_of = {}
            if pos == len(ids) - 1:
                last_of[seq] = batch.n_tokens
            add_token(batch, token, pos, seq, pos == len(ids) - 1)
    decode(last_of)
    # then one token of every unfinished answer per decode
    while active:
        order = sorted(active)
        for seq in order:
            add_token(batch, tokens[seq][-1], len(prompts[seq]) + len(tokens[seq]) - 1, seq, True)
        decode({seq: i for i, seq in enumerate(order)})
    out = []
    for seq in range(n):
        text = bytes(llm.detokenize(tokens[seq])).decode("utf-8", "replace")
        cut = min((text.find(s) for s in params.stop or [] if s and s in text), default=-1)
        if cut >= 0:
            text, finish[seq] = text[:cut], "stop"
        out.append((text, finish[seq], len(tokens[seq])))
    return out
