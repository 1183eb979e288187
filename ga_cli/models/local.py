"""A model run in this process with transformers, optionally with a PEFT LoRA adapter on top."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ga_cli.errors import GaError
from ga_cli.models import gguf_vocab
from ga_cli.models.base import Cancel, GenerationParams, Message, StopScanner, Usage
from ga_cli.models.chat_tokens import encode_chat
from ga_cli.models.prompt_cache import PromptCache


def quiet_transformers() -> None:
    """transformers imports torchao (installed for Unsloth), which logs warnings about CUDA
    kernels a CPU machine cannot load, peft imports bitsandbytes, which warns that an optional
    CPU kernel package is missing, and transformers draws progress bars for loading and saving
    weights: they say nothing to the principal (GA_DEBUG=1 keeps the warnings). Call it before
    importing transformers (or Unsloth): it imports neither."""
    import logging
    import os
    import sys

    if not os.environ.get("GA_DEBUG"):
        for name in ("torchao", "torch.utils._pytree", "bitsandbytes"):
            logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' bars follow it
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if "transformers" in sys.modules:  # imported already: the variable was read too early
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


class LocalBackend:
    engine = "transformers"
    remote = False

    def __init__(
        self, model_path: str | Path, adapter: str | Path | None = None, name: str | None = None
    ):
        quiet_transformers()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        if self.device == "cpu":
            from ga_cli.models import threads

            torch.set_num_threads(threads.count())
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_path))
            model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype)
        except OSError as exc:
            raise GaError(
                f"cannot load model `{model_path}`: {str(exc).splitlines()[0]}",
                "give a local model folder, a cached Hugging Face id, `embedded`, or a "
                "litellm provider string such as openai/gpt-4o-mini",
            ) from exc
        if adapter:
            from peft import PeftModel

            if not (Path(adapter) / "adapter_config.json").is_file():
                raise GaError(f"{adapter} is not a LoRA adapter folder (no adapter_config.json)")
            model = PeftModel.from_pretrained(model, str(adapter))
        self.model = model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        gguf_vocab.attach(self.tokenizer, model_path)  # a GGUF base: the file's own ids
        self.name = name or Path(str(model_path)).name
        if adapter:  # a registry run's adapter lives in models/<run-id>/adapter
            self.name += f"+{Path(adapter).parent.name}"
        self.adapter = str(adapter) if adapter else None
        self.model_path = str(model_path)
        self.context_window = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        self.usage = Usage()
        self.lock = threading.Lock()  # one generation at a time per loaded model
        self._prompts = PromptCache()  # the last scored prompt's keys and values

    # -- helpers ------------------------------------------------------------------------------
    def prompt_ids(self, messages: list[Message]) -> list[int]:
        """Message contents are plain text: `<|im_start|>` inside one is not a turn marker."""
        return encode_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        pieces = gguf_vocab.segments(self.tokenizer)
        return len(pieces(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    def _gen_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if params.repetition_penalty != 1.0:
            kwargs["repetition_penalty"] = params.repetition_penalty
        if params.temperature and params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    # -- the interface ------------------------------------------------------------------------
    def stream(
        self, messages: list[Message], params: GenerationParams, cancel: Cancel | None = None
    ) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        torch = self.torch
        stop_flag = cancel = cancel or Cancel()
        ids = self.prompt_ids(messages)
        input_ids = torch.tensor([ids], device=self.device)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600
        )
        state: dict[str, Any] = {"generated": 0, "error": None}

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
                state["generated"] = input_ids.shape[1] - len(ids)
                return torch.full(
                    (input_ids.shape[0],),
                    stop_flag.is_set(),
                    dtype=torch.bool,
                    device=input_ids.device,
                )

        def run() -> None:
            try:
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                with torch.inference_mode():
                    self.model.generate(
                        input_ids=input_ids,
                        attention_mask=torch.ones_like(input_ids),
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Stop()]),
                        **self._gen_kwargs(params),
                    )
            except Exception as exc:  # surfaced in the consuming thread below
                state["error"] = exc
                streamer.end()

        scanner = StopScanner(params.stop)
        self.usage = Usage(prompt_tokens=len(ids))
        with self.lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    out = scanner.feed(piece)
                    if out:
                        yield out
                    if scanner.stopped:
                        break
                if not scanner.stopped:
                    tail = scanner.flush()
                    if tail:
                        yield tail
            finally:
                cancel.set()  # stops generate() at its next token if we left early
                worker.join()
        if state["error"] is not None:
            raise GaError(f"generation failed: {state['error']}")
        self.usage.completion_tokens = int(state["generated"])
        self.usage.finish_reason = (
            "stop" if scanner.stopped or state["generated"] < params.max_tokens else "length"
        )

    def answer_logprobs(self, messages: list[Message], answer: str) -> list[float]:
        return self.answers_logprobs(messages, [answer])[0]

    def answers_logprobs(self, messages: list[Message], answers: list[str]) -> list[list[float]]:
        """Per-token log-probs of each answer as the reply to `messages`: one forward pass
        for all of them, on top of what this prompt shares with the one scored before."""
        prompt = self.prompt_ids(messages)
        tails = [self._answer_ids(messages, prompt, a) for a in answers]
        with self.torch.inference_mode(), self.lock:
            return self._prompts.score(self.model, prompt, tails, self.tokenizer.pad_token_id)

    def _answer_ids(self, messages: list[Message], prompt: list[int], answer: str) -> list[int]:
        """The answer's tokens after `prompt`, end-of-turn marker included."""
        full = encode_chat(
            self.tokenizer,
            messages + [{"role": "assistant", "content": answer}],
            add_generation_prompt=False,
        )
        if full[: len(prompt)] == prompt:
            return full[len(prompt) :]
        # templates that rewrite earlier turns: the answer's own tokens
        pieces = gguf_vocab.segments(self.tokenizer)
        ids = pieces(answer, add_special_tokens=False, split_special_tokens=True)["input_ids"]
        return list(ids)

    @contextmanager
    def base_only(self) -> Iterator[None]:
        """Behave as the base model: the LoRA adapter switched off (nothing to do without one)."""
        if self.adapter is None:
            yield
            return
        with self.lock:
            self._prompts.clear()  # made under the adapter's weights
        try:
            with self.model.disable_adapter():
                yield
        finally:
            with self.lock:
                self._prompts.clear()

    def generate_batch(
        self, conversations: list[list[Message]], params: GenerationParams, batch_size: int = 32
    ) -> list[tuple[str, str, int]]:
        """Answer several conversations at once (left-padded batches): (text, finish, tokens)
        for each. Sampling is seeded once per batch when params.seed is set, so a run repeats."""
        torch, tok = self.torch, self.tokenizer
        out: list[tuple[str, str, int]] = []
        configured = self.model.generation_config.eos_token_id
        eos = {tok.eos_token_id, *(_as_list(configured) if configured is not None else [])}
        for start in range(0, len(conversations), batch_size):
            batch = tok.pad(
                {
                    "input_ids": [
                        self.prompt_ids(c) for c in conversations[start : start + batch_size]
                    ]
                },
                padding_side="left",
                return_tensors="pt",
            ).to(self.device)
            if params.seed is not None:
                torch.manual_seed(params.seed + start)
            with torch.inference_mode(), self.lock:
                seqs = self.model.generate(**batch, **self._gen_kwargs(params))
            for row in seqs[:, batch["input_ids"].shape[1] :].tolist():
                n = next((i for i, t in enumerate(row) if t in eos), None)
                kept = row if n is None else row[:n]
                finish = "length" if n is None and len(row) >= params.max_tokens else "stop"
                out.append((tok.decode(kept, skip_special_tokens=True), finish, len(kept)))
        return out


def _as_list(x: Any) -> list[int]:
    return list(x) if isinstance(x, (list, tuple)) else [x]
