"""Concurrent requests decoded together (issue 28): llamacpp_slots on the embedded model's own
GGUF, and `ga serve` answering several real HTTP clients at once in one llama.cpp batch, each
with its own sampling, stop strings, grammar, limit and cancel."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from test_serve import Server

from ga_cli.errors import GaError
from ga_cli.models.base import Cancel, GenerationParams

pytestmark = pytest.mark.slow

QUESTIONS = [
    "What is the capital of France?",
    "Write a haiku about rain.",
    "Name three colours.",
    "Explain gravity briefly.",
]


@pytest.fixture(scope="module")
def fast():
    from ga_cli import models

    return models.load("embedded", engine="llama.cpp")


def _ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def _decode(slots, fast, asked):
    """Open every (messages, params, cancel) at once and step until all end."""
    out = []
    for messages, params, cancel in asked:
        pieces: list[str] = []
        sequence = slots.open(fast.prompt_ids(messages), params, cancel, pieces.append)
        assert sequence is not None
        out.append((sequence, pieces))
    steps = 0
    while slots.running:
        slots.step()
        steps += 1
    return ["".join(p) for _, p in out], [s.usage for s, _ in out], steps


def test_a_lone_answer_is_what_stream_answers(fast):
    """Alone in the context, a sequence is decoded as `ga ask` decodes it: greedy with the
    repetition penalty, seeded at temperature 1, cut at a stop string, bound by a grammar."""
    from ga_cli.models.llamacpp import json_grammar

    slots = fast.sequences()
    schema = {"type": "object", "properties": {"c": {"type": "string", "maxLength": 10}}}
    for question, params in [
        (QUESTIONS[0], GenerationParams(temperature=0, max_tokens=30, repetition_penalty=1.1)),
        (QUESTIONS[1], GenerationParams(temperature=1.0, max_tokens=20, seed=7)),
        (QUESTIONS[2], GenerationParams(temperature=0, max_tokens=40, stop=[","])),
        (
            QUESTIONS[2],
            GenerationParams(temperature=0, max_tokens=40, grammar=json_grammar(schema)),
        ),
    ]:
        texts, usages, _ = _decode(slots, fast, [(_ask(question), params, Cancel())])
        assert texts[0] == "".join(fast.stream(_ask(question), params))
        assert usages[0] == fast.usage


def test_answers_decoded_together_keep_their_own_controls(fast):
    """Four answers in one batch: each its own limit, stop string and grammar; one cancelled
    half-way ends alone; the cache holds nothing of them afterwards."""
    import llama_cpp as L

    from ga_cli.models.llamacpp import json_grammar

    slots = fast.sequences()
    cancelled = Cancel()
    grammar = json_grammar(
        {"type": "object", "properties": {"n": {"enum": [1, 2, 3]}}, "required": ["n"]}
    )
    asked = [
        (_ask(QUESTIONS[0]), GenerationParams(temperature=0, max_tokens=7), Cancel()),
        (_ask(QUESTIONS[1]), GenerationParams(temperature=0, max_tokens=60, stop=[" "]), Cancel()),
        (
            _ask(QUESTIONS[2]),
            GenerationParams(temperature=0, max_tokens=60, grammar=grammar),
            Cancel(),
        ),
        (_ask(QUESTIONS[3]), GenerationParams(temperature=1.0, max_tokens=200), cancelled),
    ]
    pieces: list[list[str]] = [[] for _ in asked]
    sequences = [
        slots.open(fast.prompt_ids(m), p, c, pieces[i].append) for i, (m, p, c) in enumerate(asked)
    ]
    assert [s.seq for s in sequences] == [0, 1, 2, 3]
    steps = 0
    for _ in range(5):
        slots.step()
        steps += 1
    assert cancelled in [s.cancel for s in slots.running]
    cancelled.set()
    while slots.running:
        slots.step()
        steps += 1
    texts = ["".join(p) for p in pieces]
    usages = [s.usage for s in sequences]
    made = [u.completion_tokens for u in usages]
    assert steps <= max(made) + 1 < sum(made)  # one step drew a token for every answer
    assert usages[0].completion_tokens == 7 and usages[0].finish_reason == "length"
    assert " " not in texts[1] and usages[1].finish_reason == "stop"
    assert json.loads(texts[2])["n"] in (1, 2, 3)
    assert 4 <= usages[3].completion_tokens < 200 and usages[3].finish_reason == "stop"
    memory = L.llama_get_memory(slots.ctx)
    assert all(L.llama_memory_seq_pos_max(memory, seq) == -1 for seq in range(slots.n_seq))


def test_no_room_waits_and_a_prompt_past_the_window_is_refused(fast):
    slots = fast.sequences()
    params = GenerationParams(temperature=0, max_tokens=2)
    ids = fast.prompt_ids(_ask("hi"))
    opened = [slots.open(ids, params, Cancel(), lambda _: None) for _ in range(slots.n_seq)]
    assert all(opened) and slots.open(ids, params, Cancel(), lambda _: None) is None
    while slots.running:
        slots.step()
    big = GenerationParams(temperature=0, max_tokens=fast.context_window - len(ids))
    assert slots.open(ids, big, Cancel(), lambda _: None) is not None
    assert slots.open(ids, params, Cancel(), lambda _: None) is None  # every cell is reserved
    slots.close()
    with pytest.raises(GaError, match="context window"):
        slots.open([1] * fast.context_window, params, Cancel(), lambda _: None)


def test_serve_decodes_concurrent_clients_together(ledger):
    """Real clients at once against `ga serve` on llama.cpp: all answered, in one batch (the
    health endpoint's `most_together`), each stream cut at its own stop or limit; a client
    that goes away mid-stream frees its sequence while the others go on."""
    from openai import OpenAI

    server = Server("--model", "embedded", "--engine", "llama.cpp")
    try:
        client = OpenAI(base_url=server.url + "/v1", api_key="x", timeout=120)
        results: dict[int, tuple[str, str | None]] = {}

        def one(i: int) -> None:
            stop = [" "] if i == 1 else None
            stream = client.chat.completions.create(
                model="ga-personal",
                max_tokens=40 + 10 * i,
                temperature=0,
                stop=stop,
                stream=True,
                messages=[{"role": "user", "content": QUESTIONS[i]}],
            )
            text, finish = "", None
            for chunk in stream:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                    finish = chunk.choices[0].finish_reason or finish
            results[i] = (text, finish)

        def leaver() -> None:
            body = {
                "model": "ga-personal",
                "max_tokens": 400,
                "stream": True,
                "messages": [{"role": "user", "content": "Tell me a long story."}],
            }
            with httpx.stream("POST", server.url + "/v1/chat/completions", json=body) as r:
                for _ in r.iter_lines():
                    break  # goes away after its first event

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        threads.append(threading.Thread(target=leaver))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [0, 1, 2, 3]
        assert all(text for text, _ in results.values())
        assert " " not in results[1][0] and results[1][1] == "stop"
        health = httpx.get(server.url + "/health").json()
        deadline = time.monotonic() + 30
        while health["decoding"] and time.monotonic() < deadline:  # the leaver's sequence ends
            time.sleep(0.2)
            health = httpx.get(server.url + "/health").json()
        assert health["most_together"] >= 3, health
        assert health["decoding"] == 0 and health["queued"] == 0
        assert health["generated_tokens"] < 4 * 70 + 400  # the leaver did not run to its limit
    finally:
        server.stop()
