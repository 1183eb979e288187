"""Try a GBNF grammar in a child process before a server generates with it.

libllama trusts its grammars: one it cannot parse, or one whose stack runs empty while tokens
are accepted, ends the process (a segfault, or GGML_ABORT "Unexpected empty grammar stack"),
and with it a server every client shares. Here a child process loads the model's vocabulary
alone (no weights), builds llama.cpp's grammar sampler from the text, and walks it for a few
dozen tokens with seeded random logits, as generation would. The parent reads the child's
exit: a grammar that crashed it is refused, and the server never sees it.

Run as `python -m ga_cli.models.grammar_probe MODEL.gguf < grammar.gbnf`.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading

from ga_cli.errors import GaError

STEPS = 48  # tokens walked through the grammar
TIMEOUT_S = 30
_seen: dict[str, str | None] = {}  # sha256 of model + grammar -> None (fine) or the problem
_lock = threading.Lock()


def check(model_path: str, grammar: str) -> None:
    """GaError when `grammar` crashes or fails in llama.cpp's own sampler; cached per text."""
    key = hashlib.sha256(f"{model_path}\0{grammar}".encode()).hexdigest()
    with _lock:
        if key in _seen:
            problem = _seen[key]
            if problem:
                raise GaError(problem)
            return
    problem = _probe(model_path, grammar)
    with _lock:
        if len(_seen) > 256:
            _seen.clear()
        _seen[key] = problem
    if problem:
        raise GaError(problem)


def _probe(model_path: str, grammar: str) -> str | None:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ga_cli.models.grammar_probe", model_path],
            input=grammar.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return f"llama.cpp took over {TIMEOUT_S} s to walk the grammar; simplify the schema"
    if done.returncode == 0:
        return None
    said = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode < 0 or not said:
        return "llama.cpp's grammar engine crashed on it; simplify the schema"
    return said[-1]


def _walk(model_path: str, grammar: str) -> str | None:
    """In the child: build the sampler and accept STEPS tokens; a message when it fails."""
    import ctypes

    import llama_cpp
    import numpy as np
    from llama_cpp._internals import LlamaTokenDataArray

    llm = llama_cpp.Llama(model_path=model_path, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        return "llama.cpp cannot parse the grammar the schema becomes; simplify the schema"
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    data = LlamaTokenDataArray(n_vocab=n_vocab)
    rng = np.random.default_rng(0)
    end = {llama_cpp.llama_vocab_eos(vocab), llama_cpp.llama_vocab_eot(vocab)}
    for _ in range(STEPS):
        data.copy_logits(rng.standard_normal(n_vocab).astype(np.single))
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(data.candidates))
        logits = data.candidates_data.logit[: data.candidates.size]
        allowed = np.flatnonzero(np.isfinite(logits))
        if allowed.size == 0:
            return "no answer can match the schema"
        token = int(data.candidates_data.id[allowed[np.argmax(logits[allowed])]])
        if token in end:
            break
        llama_cpp.llama_sampler_accept(sampler, token)
    llama_cpp.llama_sampler_free(sampler)
    return None


if __name__ == "__main__":
    problem = _walk(sys.argv[1], sys.stdin.buffer.read().decode("utf-8"))
    if problem:
        print(problem)
        sys.exit(3)
