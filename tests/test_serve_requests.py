"""What ga serve does with request fields it cannot honour: a 400 that says so, never silence.
(The validation functions themselves; test_serve.py drives them through a real server.)"""

from __future__ import annotations

import pytest

from ga_cli.serve import app

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "extra, says",
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "`tools`"),
        ({"functions": [{"name": "f"}]}, "`tools`"),
        ({"response_format": {"type": "json_object"}}, "`response_format` json_object"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "json_schema"),
        ({"response_format": "json"}, "`response_format` 'json'"),
        ({"n": 2}, "`n` > 1"),
    ],
)
def test_what_cannot_be_honoured_is_refused_by_name(extra, says):
    refused = app._params({"messages": MESSAGES, **extra}, 4096)
    assert isinstance(refused, str) and says in refused and "not supported" in refused


def test_what_changes_nothing_is_accepted():
    for extra in ({}, {"tools": []}, {"response_format": {"type": "text"}}, {"n": 1}):
        assert not isinstance(app._params({"messages": MESSAGES, **extra}, 4096), str)


def test_the_developer_role_is_the_system_role_and_others_are_named():
    msgs = app._messages({"messages": [{"role": "developer", "content": "Be brief."}, *MESSAGES]})
    assert msgs == [{"role": "system", "content": "Be brief."}, *MESSAGES]
    refused = app._messages({"messages": [{"role": "tool", "content": "42"}]})
    assert refused == "messages[0].role must be one of system, developer, user, assistant"
