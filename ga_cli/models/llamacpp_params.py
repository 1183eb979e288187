"""How llama.cpp contexts and models are made where `Llama()` has no option for it: its
default parameters are adjusted while it loads, one load at a time."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

_LOADING = threading.RLock()


@contextmanager
def plain_buffers() -> Iterator[None]:
    """Load weights into plain CPU buffers, without llama.cpp's extra (repacked) buffer types.
    On a CPU with AMX, Q4 weights repacked for AMX crash batched decoding: `llama_decode` in a
    second context segfaults (llama-cpp-python 0.3.36, a Sapphire Rapids CPU; the f16 model and
    plain buffers decode the same batches correctly). Llama() takes no such option, so its
    default model parameters are adjusted while it loads."""
    import llama_cpp.llama_cpp as C

    with _LOADING:
        default = C.llama_model_default_params

        def params() -> Any:
            p = default()
            p.use_extra_bufts = False
            return p

        C.llama_model_default_params = params
        try:
            yield
        finally:
            C.llama_model_default_params = default


@contextmanager
def parallel_context() -> Iterator[None]:
    """Make the next context with room for `llamacpp_slots.N_SEQ` sequences in one unified
    KV cache (the same cells, shared), which `Llama()` has no option for."""
    import llama_cpp.llama_cpp as C

    from ga_cli.models.llamacpp_slots import N_SEQ

    with _LOADING:
        default = C.llama_context_default_params

        def params() -> Any:
            p = default()
            p.n_seq_max = N_SEQ
            p.kv_unified = True
            return p

        C.llama_context_default_params = params
        try:
            yield
        finally:
            C.llama_context_default_params = default
