"""A GGUF model run in this process by llama.cpp (llama-cpp-python): the fast CPU engine for
`ga chat`, `ga ask` and `ga serve`.

Prompts are tokenized the way `LocalBackend` does it (`chat_tokens.encode_chat`): the GGUF's
chat template is rendered around placeholders and only the template's own text may contain
control tokens, so `<|im_start|>` inside piped data stays plain text. Log-probs (evaluation)
are computed by transformers: `answer_logprobs` asks the `scorer` it was given.
"""

from __future__ import annotations

import codecs
import secrets
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from ga_cli.errors import GaError
from ga_cli.models.base import Backend, Cancel, GenerationParams, Message, StopScanner, Usage
from ga_cli.models.chat_tokens import encode_chat

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


def _piece(llm: Any, token: int) -> str:
    if token < 0:
        return ""
    return bytes(llm.detokenize([token], special=True)).decode("utf-8", "replace")


class LlamaCppBackend:
    engine = "llama.cpp"

    def __init__(
        self,
        gguf: str | Path,
        name: str | None = None,
        scorer: Callable[[], Backend] | None = None,
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
            with suppress_stdout_stderr(disable=False):
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
        # prompts are budgeted to what the model was trained on, however large the cache
        self.context_window = min(self.llm.n_ctx(), self.llm._model.n_ctx_train() or MAX_CONTEXT)
        self.usage = Usage()
        self.lock = threading.Lock()  # one generation at a time per loaded model
        self._scorer_factory = scorer
        self._scorer: Backend | None = None

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
        if self._scorer is None:
            if self._scorer_factory is None:
                raise GaError("this llama.cpp model has no transformers twin to score answers")
            self._scorer = self._scorer_factory()
        return self._scorer.answer_logprobs(messages, answer)
