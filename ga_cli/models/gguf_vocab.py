"""llama.cpp's own tokenizer for a GGUF file (the vocabulary only, no weights; milliseconds).

A base that came from a GGUF file is trained by transformers on a tokenizer that transformers
rebuilt from the file, and run by llama.cpp (or Ollama) on the file itself. The rebuilt tokenizer
is not always the same tokenizer: for SentencePiece files it can drop the control tokens
(`<start_of_turn>` becomes plain text), read a BPE vocabulary as Unigram, or put the space
prefix elsewhere after a turn marker. Training on ids the runtime never produces teaches the
adapter the wrong prompt. So for such a base every chat is tokenized here, by the engine that
will run it: `attach(tokenizer, folder)` makes `chat_tokens.encode_chat` use it, in training,
log-probs and transformers generation alike, and `end_ids` says which tokens end a turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ga_cli.errors import GaError

ATTRIBUTE = "_ga_vocab"  # where attach() puts the vocabulary on a transformers tokenizer


class GgufVocab:
    """The file's tokenizer, called the way `encode_chat` calls a transformers tokenizer."""

    def __init__(self, gguf: Path):
        try:
            import llama_cpp
            from llama_cpp._internals import LlamaModel
        except ImportError as exc:  # llama.cpp runs every GGUF base, so `make install` built it
            raise GaError(f"reading {gguf}'s tokenizer needs llama.cpp ({exc})") from exc
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        try:
            self.model = LlamaModel(path_model=str(gguf), params=params, verbose=False)
        except ValueError as exc:
            raise GaError(f"llama.cpp cannot read the tokenizer of {gguf}: {exc}") from exc
        self.path = Path(gguf)

    def __call__(
        self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = True
    ) -> dict[str, list[int]]:
        ids = self.model.tokenize(
            text.encode("utf-8"), add_special_tokens, not split_special_tokens
        )
        return {"input_ids": list(ids)}

    def end_ids(self) -> list[int]:
        """Every token llama.cpp stops a turn on (end of generation: eos, `<end_of_turn>`, ...)."""
        import llama_cpp

        vocab = self.model.vocab
        return [i for i in range(self.model.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, i)]

    def controls(self) -> dict[int, str]:
        """The control tokens (turn markers, bos/eos, ...) by id, with their text."""
        import llama_cpp

        found = {}
        for i in range(self.model.n_vocab()):
            if self.model.token_get_attr(i) & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL:
                found[i] = str(self.model.token_get_text(i))
        return found


def for_folder(folder: str | Path) -> GgufVocab | None:
    """The GGUF vocabulary of a folder converted from a GGUF file (None for any other folder)."""
    from ga_cli.models import gguf_base

    source = gguf_base.source_of(folder)
    return GgufVocab(source) if source is not None else None


def attach(tokenizer: Any, folder: str | Path) -> Any:
    """Tokenize `tokenizer`'s chats with the GGUF file `folder` came from, if it came from one;
    returns the same tokenizer."""
    vocab = for_folder(folder)
    if vocab is not None:
        setattr(tokenizer, ATTRIBUTE, vocab)
    return tokenizer


def segments(tokenizer: Any) -> Any:
    """What tokenizes the pieces of a chat for this tokenizer: the attached GGUF vocabulary, or
    the tokenizer itself."""
    return getattr(tokenizer, ATTRIBUTE, None) or tokenizer
