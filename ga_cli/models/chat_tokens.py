"""Chat messages -> token ids in which only the chat template's own markers are control tokens.

`tokenizer.apply_chat_template(..., tokenize=True)` renders the conversation to text and then
tokenizes that text with special tokens recognised, so a message that *contains* the string
`<|im_start|>` gets a real turn marker: piped data could forge a system turn. Here the template
is rendered around placeholders, its own text is tokenized with special tokens recognised, and
every message's content is tokenized with them split into ordinary characters.

Used for every local generation and log-prob (`LocalBackend`) and, through `guard()`, for the
tokenization TRL's trainers do, so training rows cannot forge turns either. For a base that came
from a GGUF file the pieces are tokenized by llama.cpp's vocabulary of that file (gguf_vocab), so
training and the runtime see the same ids whatever transformers rebuilt.
"""

from __future__ import annotations

import secrets
from typing import Any

from ga_cli.models import gguf_vocab

Message = dict[str, str]


def encode_chat(
    tokenizer: Any,
    messages: list[Message],
    add_generation_prompt: bool = True,
    **template_kwargs: Any,
) -> list[int]:
    """Token ids of `messages` under the tokenizer's chat template; contents stay plain text."""
    nonce = secrets.token_hex(6)
    marks = [f"\ue000ga{nonce}m{i}\ue001" for i in range(len(messages))]
    shadow = [{**m, "content": mark} for m, mark in zip(messages, marks)]
    render = getattr(tokenizer, "_ga_original_apply_chat_template", tokenizer.apply_chat_template)
    text = render(
        shadow, tokenize=False, add_generation_prompt=add_generation_prompt, **template_kwargs
    )
    ids: list[int] = []
    pos = 0
    for message, mark in zip(messages, marks):
        at = text.find(mark, pos)
        if at < 0:  # the template left this message out (e.g. a role it does not render)
            continue
        ids += _plain(tokenizer, text[pos:at], special=True)
        ids += _plain(tokenizer, str(message.get("content") or ""), special=False)
        pos = at + len(mark)
    ids += _plain(tokenizer, text[pos:], special=True)
    return ids


def _plain(tokenizer: Any, text: str, special: bool) -> list[int]:
    """`text` as ids, by the tokenizer or by the GGUF vocabulary attached to it (gguf_vocab)."""
    if not text:
        return []
    pieces = gguf_vocab.segments(tokenizer)
    return list(
        pieces(text, add_special_tokens=False, split_special_tokens=not special)["input_ids"]
    )


def control_ids(tokenizer: Any) -> set[int]:
    """The ids of the tokenizer's special tokens (turn markers, end of text, ...)."""
    return set(tokenizer.all_special_ids) | {
        i for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items() if t.special
    }


def guard(tokenizer: Any) -> Any:
    """Make `tokenizer.apply_chat_template(..., tokenize=True)` use `encode_chat` (in place).

    TRL's SFT and DPO trainers tokenize conversations through that method; after this, text in a
    training row cannot become a control token. Returns the same tokenizer."""
    if getattr(tokenizer, "_ga_original_apply_chat_template", None) is not None:
        return tokenizer
    original = tokenizer.apply_chat_template

    def apply_chat_template(
        conversation: Any,
        *args: Any,
        tokenize: bool = True,
        return_dict: bool = False,
        add_generation_prompt: bool = False,
        **kwargs: Any,
    ) -> Any:
        plain_messages = (
            isinstance(conversation, list)
            and conversation
            and all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in conversation)
        )
        if (
            not tokenize
            or args
            or not plain_messages
            or kwargs.get("return_assistant_tokens_mask")
            or kwargs.get("return_tensors")
        ):
            return original(
                conversation,
                *args,
                tokenize=tokenize,
                return_dict=return_dict,
                add_generation_prompt=add_generation_prompt,
                **kwargs,
            )
        template_kwargs = {k: v for k, v in kwargs.items() if k not in _TOKENIZE_ONLY}
        ids = encode_chat(tokenizer, conversation, add_generation_prompt, **template_kwargs)
        if return_dict:
            return {"input_ids": ids, "attention_mask": [1] * len(ids)}
        return ids

    tokenizer._ga_original_apply_chat_template = original
    tokenizer.apply_chat_template = apply_chat_template
    return tokenizer


_TOKENIZE_ONLY = {
    "padding",
    "truncation",
    "max_length",
    "return_attention_mask",
    "tokenizer_kwargs",
    "return_assistant_tokens_mask",
    "return_tensors",
}
