"""Every exchange `ga serve` answers goes into ga's history, as `ga ask`'s do (redacted the same
way, by `chat.sessions`), so an answer an editor got can be found with `ga history -q` and
corrected with `ga correct --cid ID`.

A client resends the whole conversation with every request. A request whose messages (system
prompts aside) are an earlier served exchange's messages plus its answer continues that
exchange's conversation; anything else starts one. The session's kind names the client:
`serve:NAME`, from the `X-GA-Client` header, else the first word of its User-Agent.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict

from ga_cli.chat.sessions import Session
from ga_cli.models.base import Usage

CLIENT_HEADER = "x-ga-client"
LOG_HEADER = "x-ga-log"  # `off`: this request is not logged
OPEN_CONVERSATIONS = 2048  # continuations remembered (the oldest forgotten first)
KIND = "serve"


def client_name(header: str | None, user_agent: str | None) -> str:
    """A short, printable name for the client: `X-GA-Client`, else the User-Agent's first
    word (`OpenAI/Python`, `ollama-python`), else `unknown`."""
    raw = (header or "").strip() or (user_agent or "").strip().split(" ", 1)[0]
    name = re.sub(r"[^A-Za-z0-9._/@+-]", "", raw)[:40]
    return name or "unknown"


class ServedHistory:
    """Served exchanges into history sessions, grouped into conversations."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, str] = OrderedDict()  # conversation key -> session id
        self._lock = threading.Lock()

    def record(
        self,
        client: str,
        messages: list[dict[str, str]],
        answer: str,
        model: str,
        usage: Usage,
        system: str | None,
        interrupted: bool = False,
    ) -> str:
        """Log one exchange (the client's messages as sent, the answer) and return the id of
        the conversation it belongs to."""
        turns = [m for m in messages if m["role"] != "system"]
        question = turns[-1]["content"] if turns else ""
        with self._lock:
            sid = self._open.pop(_key(client, turns[:-1]), None)
        session = Session(sid) if sid else Session.create(f"{KIND}:{client}", model)
        session.log_turn(question, answer, model, usage, system=system, interrupted=interrupted)
        after = _key(client, [*turns, {"role": "assistant", "content": answer}])
        with self._lock:
            self._open[after] = session.id
            while len(self._open) > OPEN_CONVERSATIONS:
                self._open.popitem(last=False)
        return session.id


def _key(client: str, turns: list[dict[str, str]]) -> str:
    """The conversation so far, as the client will send it back (whitespace at the ends of a
    message does not count: clients trim)."""
    shape = [client, [[m["role"], m["content"].strip()] for m in turns]]
    return hashlib.sha256(json.dumps(shape).encode("utf-8", "surrogatepass")).hexdigest()
