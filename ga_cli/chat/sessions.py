"""Every exchange is logged as JSONL in the data dir (outside the ledger): one file a session."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.ledger import secrets_guard


def sessions_dir() -> Path:
    d = paths.data_dir() / "sessions"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def new_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class Session:
    id: str
    path: Path

    @classmethod
    def create(cls, kind: str, model: str) -> Session:
        sid = new_id()
        s = cls(sid, sessions_dir() / f"{sid}.jsonl")
        s._append({"type": "session", "id": sid, "kind": kind, "model": model, "time": _now()})
        return s

    @classmethod
    def open(cls, sid: str) -> Session:
        matches = sorted(sessions_dir().glob(f"{sid}*.jsonl"))
        if not matches:
            raise GaError(f"no session `{sid}`", "list sessions with `ga history`")
        if len(matches) > 1:
            raise GaError(f"session id `{sid}` is ambiguous", "give more of the id")
        return cls(matches[0].stem, matches[0])

    @classmethod
    def latest(cls) -> Session:
        found = sorted(sessions_dir().glob("*.jsonl"))
        if not found:
            raise GaError("there is no conversation yet", 'ask something first: ga ask "..."')
        return cls(found[-1].stem, found[-1])

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps(_redacted(record), ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise GaError(f"{self.path}:{n}: not valid JSON ({exc.msg})") from exc
        return out

    def turns(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("type") == "turn"]

    def log_turn(
        self,
        prompt: str,
        answer: str,
        model: str,
        usage: dict[str, Any],
        data: str | None = None,
        system: str | None = None,
        interrupted: bool = False,
    ) -> int:
        turn = len(self.turns()) + 1
        self._append(
            {
                "type": "turn",
                "turn": turn,
                "time": _now(),
                "model": model,
                "prompt": prompt,
                "data": data,
                "answer": answer,
                "usage": usage,
                "system": system,
                "interrupted": interrupted,
            }
        )
        return turn

    def summary(self) -> dict[str, Any]:
        records = self.records()
        head = records[0] if records else {}
        turns = [r for r in records if r.get("type") == "turn"]
        return {
            "id": self.id,
            "kind": head.get("kind"),
            "model": head.get("model"),
            "time": head.get("time"),
            "turns": len(turns),
            "first_prompt": turns[0]["prompt"] if turns else "",
        }


def all_sessions() -> list[Session]:
    return [Session(p.stem, p) for p in sorted(sessions_dir().glob("*.jsonl"))]


def _redacted(value: Any) -> Any:
    """Secrets never reach a session log: every string in the record is redacted first."""
    if isinstance(value, str):
        return secrets_guard.redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
