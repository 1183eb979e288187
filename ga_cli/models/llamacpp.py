"""A GGUF model run in this process by llama.cpp (llama-cpp-python): the fast CPU engine for
`ga chat`, `ga ask` and `ga serve`.

Prompts are tokenized the way `LocalBackend` does it (`chat_tokens.encode_chat`): the GGUF's
chat template is rendered around placeholders and only the template's own text may contain
control tokens, so `<|im_start|>` inside piped data stays plain text.

A personal model is the base GGUF with its LoRA adapter as a GGUF adapter (`gguf.lora`) applied
at run time; `base_only()` switches it off for a while. Log-probs for evaluation are computed by
transformers when a `scorer` is given (the same numbers training saw); without one, llama.cpp
computes them itself.
"""

from __future__ import annotations

import codecs
import secrets
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from ga_cli.errors import GaError
from ga_cli.models.base import Backend, Cancel, GenerationParams, Message, StopScanner, Usage
from ga_cli.models.chat_tokens import encode_chat
from ga_cli.models.llamacpp_params import parallel_context, plain_buffers

MAX_CONTEXT = 8192  # the KV cache is allocated up front: what long-context models get
INSTALL = "run `make install` (it builds llama-cpp-python), or use --engine transformers"


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


class GgufTokenizer:
    """The two calls `encode_chat` makes, answered from the GGUF's tokenizer and template."""

    def __init__(self, llm: Any, template: str):
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise GaError(f"the model's chat template refused the conversation: {message}")

        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
        )
        env.globals["raise_exception"] = raise_exception
        self.template = env.from_string(template)
        self.llm = llm
        vocab = llm._model
        self.specials = {
            "bos_token": _piece(llm, vocab.token_bos()),
            "eos_token": _piece(llm, vocab.token_eos()),
        }

    def apply_chat_template(
        self, messages: list[Message], tokenize: bool = False, add_generation_prompt: bool = True
    ) -> str:
        assert not tokenize
        return str(
            self.template.render(
                messages=messages, add_generation_prompt=add_generation_prompt, **self.specials
            )
        )

    def __call__(
        self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = True
    ) -> dict[str, list[int]]:
        ids = self.llm.tokenize(
            text.encode("utf-8"), add_bos=add_special_tokens, special=not split_special_tokens
        )
        return {"input_ids": list(ids)}


def json_grammar(schema: Any = None) -> str:
    """GBNF for JSON mode: any JSON object, or one matching a JSON schema (llama.cpp's own
    converter); GaError naming what it cannot convert."""
    import json

    from llama_cpp import llama_grammar

    if schema is None:
        return llama_grammar.JSON_GBNF
    try:
        return llama_grammar.json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # the converter raises bare Exceptions and ValueErrors
        raise GaError(f"the JSON schema cannot be turned into a grammar: {exc}") from exc


def _grammar(gbnf: str | None) -> Any:
    if gbnf is None:
        return None
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)


def _piece(llm: Any, token: int) -> str:
    if token < 0:
        return ""
    return bytes(llm.detokenize([token], special=True)).decode("utf-8", "replace")


class LlamaCppBackend:
    engine = "llama.cpp"
    remote = False

    def __init__(
        self,
        gguf: str | Path,
        name: str | None = None,
        scorer: Callable[[], Backend] | None = None,
        lora: str | Path | None = None,
    ):
        from ga_cli.models import threads

        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GaError(f"llama.cpp is not installed ({exc})", INSTALL) from exc
        n = threads.count()
        try:
            from llama_cpp._utils import suppress_stdout_stderr

            # llama.cpp's C code logs to stderr even with verbose=False (e.g. that a model was
            # trained on a shorter context than MAX_CONTEXT); failures still raise
            with suppress_stdout_stderr(disable=False), plain_buffers(), parallel_context():
                self.llm = Llama(
                    model_path=str(gguf),
                    n_ctx=MAX_CONTEXT,
                    n_threads=n,
                    n_threads_batch=n,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as exc:
            raise GaError(f"llama.cpp cannot load {gguf}: {exc}") from exc
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise GaError(f"{gguf} has no chat template (tokenizer.chat_template)")
        self.tokenizer = GgufTokenizer(self.llm, template)
        self.name = name or Path(gguf).stem
        self.model_path = str(gguf)
        self.adapter: str | None = None
        self._lora: Any = None
        self._lora_on = False
        if lora is not None:
            self._load_lora(Path(lora))
        # prompts are budgeted to what the model was trained on, however large the cache
        self.context_window = min(self.llm.n_ctx(), self.llm._model.n_ctx_train() or MAX_CONTEXT)
        self.usage = Usage()
        self.lock = threading.Lock()  # one generation at a time per loaded model
        self._scorer_factory = scorer
        self._scorer: Backend | None = None
        self._embedder: Any = None
        self._embed_lock = threading.Lock()

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Mean-pooled, L2-normalised embeddings of `texts` and the tokens read: a second
        llama.cpp context over the same (mmapped) weights, with this model's adapter."""
        import llama_cpp

        from ga_cli.models import threads

        with self._embed_lock:
            if self._embedder is None:
                from llama_cpp._utils import suppress_stdout_stderr

                with suppress_stdout_stderr(disable=False), plain_buffers():
                    self._embedder = llama_cpp.Llama(
                        model_path=self.model_path,
                        embedding=True,
                        n_ctx=self.context_window,
                        n_batch=self.context_window,
                        n_ubatch=self.context_window,
                        n_threads=threads.count(),
                        n_threads_batch=threads.count(),
                        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                        lora_path=self.adapter,
                        verbose=False,
                    )
            vectors, tokens = self._embedder.embed(texts, normalize=True, return_count=True)
        return [list(map(float, v)) for v in vectors], int(tokens)

    def sequences(self) -> Any:
        """Answers decoded together in this model's own context (a `llamacpp_slots.Slots`)."""
        from ga_cli.models.llamacpp_slots import Slots

        return Slots(self)

    def prompt_ids(self, messages: list[Message]) -> list[int]:
        return encode_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text)["input_ids"])

    def stream(
        self, messages: list[Message], params: GenerationParams, cancel: Cancel | None = None
    ) -> Iterator[str]:
        import llama_cpp

        cancel = cancel or Cancel()
        ids = self.prompt_ids(messages)
        if len(ids) >= self.context_window:
            raise GaError(
                f"the prompt is {len(ids)} tokens; the model's context window is "
                f"{self.context_window}",
                "shorten the input",
            )
        limit = min(params.max_tokens, self.context_window - len(ids))
        scanner = StopScanner(params.stop)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.usage = Usage(prompt_tokens=len(ids))
        generated, finish = 0, "length"
        with self.lock:
            self.llm.set_seed(params.seed if params.seed is not None else secrets.randbits(31))
            # evaluate the whole prompt every time: reusing a cached prefix evaluates its last
            # token alone, in other kernels, and the same request could answer differently
            self.llm.reset()
            tokens = self.llm.generate(
                ids,
                temp=params.temperature or 0.0,
                top_p=params.top_p,
                top_k=0,  # OpenAI semantics: temperature and top_p only
                min_p=0.0,
                repeat_penalty=params.repetition_penalty,
                grammar=_grammar(params.grammar),
            )
            try:
                for token in tokens:
                    if cancel.is_set():
                        finish = "stop"
                        break
                    if llama_cpp.llama_vocab_is_eog(self.llm._model.vocab, token):
                        finish = "stop"
                        break
                    generated += 1
                    text = decoder.decode(bytes(self.llm.detokenize([token])))
                    out = scanner.feed(text) if text else ""
                    if out:
                        yield out
                    if scanner.stopped:
                        finish = "stop"
                        break
                    if generated >= limit:
                        break
                if not scanner.stopped:
                    tail = scanner.feed(decoder.decode(b"", final=True)) + scanner.flush()
                    if tail:
                        yield tail
            finally:
                tokens.close()
        self.usage.completion_tokens = generated
        self.usage.finish_reason = finish

    def answer_logprobs(self, messages: list[Message], answer: str) -> list[float]:
        if self._scorer_factory is None:
            return self.native_logprobs(messages, answer)
        return self._scoring().answer_logprobs(messages, answer)

    def answers_logprobs(self, messages: list[Message], answers: list[str]) -> list[list[float]]:
        if self._scorer_factory is None:
            return [self.native_logprobs(messages, a) for a in answers]
        return self._scoring().answers_logprobs(messages, answers)  # type: ignore[attr-defined]

    def _scoring(self) -> Backend:
        """The transformers twin that scores answers (loaded on first use)."""
        assert self._scorer_factory is not None
        if self._scorer is None:
            self._scorer = self._scorer_factory()
        return self._scorer

    # -- the adapter -----------------------------------------------------------------------------
    def _load_lora(self, path: Path) -> None:
        import llama_cpp

        adapter = llama_cpp.llama_adapter_lora_init(self.llm._model.model, str(path).encode())
        if not adapter:
            raise GaError(f"llama.cpp cannot load the LoRA adapter {path}")
        # freed with the model (the function is bound now: module globals are gone at exit)
        self.llm._stack.callback(llama_cpp.llama_adapter_lora_free, adapter)
        self._lora = adapter
        self.adapter = str(path)
        self._use_lora(True)

    def _use_lora(self, on: bool) -> None:
        import llama_cpp

        if on:
            self._apply_lora(self.llm._ctx.ctx)
        elif llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, None, 0, None):
            raise GaError(f"llama.cpp could not remove {self.adapter}")
        self._lora_on = on

    def _apply_lora(self, ctx: Any) -> None:
        import ctypes

        import llama_cpp

        adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._lora)
        scales = (ctypes.c_float * 1)(1.0)
        if llama_cpp.llama_set_adapters_lora(ctx, adapters, 1, scales):
            raise GaError(f"llama.cpp could not apply {self.adapter}")

    @contextmanager
    def base_only(self) -> Iterator[None]:
        """Behave as the base model: the LoRA adapter switched off, here and in the scorer."""
        with ExitStack() as stack:
            if self._scorer_factory is not None:
                stack.enter_context(self._scoring().base_only())  # type: ignore[attr-defined]
            if self._lora is not None:
                with self.lock:
                    self._use_lora(False)
                stack.callback(self._restore_lora)
            yield

    def _restore_lora(self) -> None:
        with self.lock:
            self._use_lora(True)

    def generate_batch(
        self, conversations: list[list[Message]], params: GenerationParams
    ) -> list[tuple[str, str, int]]:
        """(text, finish, tokens) for each conversation, decoded together (llamacpp_batch);
        seeded per conversation when params.seed is set, so a run repeats."""
        from ga_cli.models import llamacpp_batch

        prompts = [self.prompt_ids(c) for c in conversations]
        with self.lock:
            return llamacpp_batch.generate(self, prompts, params, self._lora_on)

    # -- log-probs -------------------------------------------------------------------------------
    def native_logprobs(self, messages: list[Message], answer: str) -> list[float]:
        """Per-token log-probs of `answer` after `messages`, computed by llama.cpp (the tokens
        `LocalBackend.answer_logprobs` scores: the answer and its end-of-turn marker)."""
        import numpy as np

        prompt = self.prompt_ids(messages)
        full = encode_chat(
            self.tokenizer,
            messages + [{"role": "assistant", "content": answer}],
            add_generation_prompt=False,
        )
        if full[: len(prompt)] != prompt:
            full = prompt + self.tokenizer(answer)["input_ids"]
        if len(full) > self.context_window:
            raise GaError(f"the conversation is {len(full)} tokens; the context window is smaller")
        wanted = range(len(prompt) - 1, len(full) - 1)  # positions whose next token is scored
        llm, step, rows = self.llm, self.llm.n_batch, []
        with self.lock:
            llm.reset()
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            for start in range(0, len(full), step):
                chunk = full[start : start + step]
                llm._batch.set_batch(batch=chunk, n_past=start, logits_all=False)
                flags = [start + k in wanted for k in range(len(chunk))]
                for k, flag in enumerate(flags):
                    llm._batch.batch.logits[k] = flag
                llm._ctx.decode(llm._batch)
                n = sum(flags)
                if n:
                    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n, llm.n_vocab()))
                    rows.append(np.array(logits, dtype=np.float64))
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        logits = np.concatenate(rows)
        peak = logits.max(axis=1, keepdims=True)
        logp = logits - peak - np.log(np.exp(logits - peak).sum(axis=1, keepdims=True))
        targets = full[len(prompt) :]
        return [float(logp[i, t]) for i, t in enumerate(targets)]
