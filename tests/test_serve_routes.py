"""/v1/completions and /v1/responses on the real server, driven by the openai SDK: each answers
as the chat route does (one pipeline, the memory in), streamed and whole, and refuses by name
the fields it cannot honour."""

from __future__ import annotations

import json

import pytest
from conftest import run_ga
from test_serve import Server


def test_completions_answer_as_the_chat_route_and_refuse_what_they_cannot_honour(
    ledger, tiny_model
):
    from openai import BadRequestError, OpenAI

    s = Server("--model", str(tiny_model))
    try:
        client = OpenAI(base_url=s.url + "/v1", api_key="unused")
        asked = {"model": "ga-personal", "max_tokens": 5, "temperature": 0}
        whole = client.completions.create(prompt="Say hello", **asked)
        assert whole.object == "text_completion" and whole.id.startswith("cmpl-")
        assert whole.choices[0].text and whole.choices[0].finish_reason == "length"
        assert whole.usage.completion_tokens == 5 and whole.usage.prompt_tokens > 0
        chat = client.chat.completions.create(
            messages=[{"role": "user", "content": "Say hello"}], **asked
        )
        assert chat.choices[0].message.content == whole.choices[0].text  # one pipeline
        assert chat.usage.prompt_tokens == whole.usage.prompt_tokens  # the memory in both
        pieces = [
            c.choices[0].text
            for c in client.completions.create(prompt=["Say hello"], stream=True, **asked)
            if c.choices
        ]
        assert "".join(pieces) == whole.choices[0].text
        two = client.completions.create(prompt="Say hello", n=2, **{**asked, "temperature": 1})
        assert [c.index for c in two.choices] == [0, 1]
        for bad, named in [
            ({"prompt": "def f(", "suffix": "return x"}, "`suffix`"),
            ({"prompt": "hi", "echo": True}, "`echo`"),
            ({"prompt": "hi", "best_of": 3}, "`best_of`"),
            ({"prompt": "hi", "logprobs": 2}, "`logprobs`"),
            ({"prompt": "hi", "logit_bias": {"50256": -100}}, "`logit_bias`"),
            ({"prompt": [1, 2, 3]}, "`prompt`"),
            ({"prompt": ["one", "two"]}, "one prompt per request"),
            ({"prompt": "hi", "stream": True, "n": 2}, "`n`"),
        ]:
            with pytest.raises(BadRequestError) as refused:
                client.completions.create(**{**asked, **bad})
            assert named in refused.value.body["message"], (bad, refused.value.body)
    finally:
        s.stop()
    served = [
        row
        for row in json.loads(run_ga("history", "--json").stdout)
        if row["kind"].startswith("serve:")
    ]
    assert any("Say hello" in json.dumps(row) for row in served), served


def test_responses_api_whole_and_streamed_with_the_memory_and_refusals(ga, ledger, tiny_model):
    """/v1/responses through the openai SDK: `instructions` and `input`, the answer the chat
    route gives, its semantic stream, `incomplete` at max_output_tokens, and what it refuses."""
    from openai import BadRequestError, OpenAI

    ga("values", "add", "Answer in metric units.")
    s = Server("--model", str(tiny_model))
    try:
        client = OpenAI(base_url=s.url + "/v1", api_key="unused")
        asked = {"model": "ga-personal", "max_output_tokens": 5, "temperature": 0}
        whole = client.responses.create(input="Say hello", instructions="Be brief.", **asked)
        assert whole.object == "response" and whole.id.startswith("resp_")
        cut = whole.usage.output_tokens == 5  # the answer reached max_output_tokens
        assert whole.status == ("incomplete" if cut else "completed") and whole.output_text
        one = client.responses.create(input="Say hello", **{**asked, "max_output_tokens": 1})
        assert one.status == "incomplete" and one.incomplete_details.reason == "max_output_tokens"
        chat = client.chat.completions.create(
            model="ga-personal",
            max_tokens=5,
            temperature=0,
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say hello"},
            ],
        )
        assert chat.choices[0].message.content == whole.output_text  # one pipeline
        assert chat.usage.prompt_tokens == whole.usage.input_tokens  # the memory merged in both
        events = list(
            client.responses.create(
                input=[{"role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}],
                instructions="Be brief.",
                stream=True,
                **asked,
            )
        )
        kinds = [e.type for e in events]
        assert kinds[:4] == [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
        ]
        assert kinds[-1] == f"response.{whole.status}"
        assert [e.sequence_number for e in events] == list(range(len(events)))
        deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert deltas == whole.output_text == events[-1].response.output_text
        for bad, named in [
            ({"previous_response_id": "resp_1"}, "`previous_response_id`"),
            ({"tools": [{"type": "function", "name": "f", "parameters": {}}]}, "`tools`"),
            ({"reasoning": {"effort": "low"}}, "`reasoning`"),
            (
                {"input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]},
                "only messages",
            ),
            (
                {
                    "input": [
                        {
                            "role": "user",
                            "content": [{"type": "input_image", "image_url": "http://x/y.png"}],
                        }
                    ]
                },
                "only text",
            ),
        ]:
            with pytest.raises(BadRequestError) as refused:
                client.responses.create(**{"input": "hi", **asked, **bad})
            assert named in refused.value.body["message"], (bad, refused.value.body)
    finally:
        s.stop()
