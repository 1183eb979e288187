"""Every exchange is logged in the data dir (outside the ledger), in one SQLite database
(`history.db`, WAL: readers never wait for a writer) with a full-text index over prompts and
answers. Sessions logged as JSONL files by earlier versions are imported once, and
`ga history export` writes that JSONL form back out. Secrets are redacted before anything is
stored."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, cast

from ga_cli import paths
from ga_cli.errors import GaError
from ga_cli.ledger import secrets_guard
from ga_cli.models.base import Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, kind TEXT, model TEXT, time TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    session TEXT NOT NULL REFERENCES sessions(id), turn INTEGER NOT NULL, time TEXT,
    model TEXT, prompt TEXT, data TEXT, answer TEXT, usage TEXT, system TEXT,
    interrupted INTEGER, PRIMARY KEY (session, turn)
);
CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5(
    prompt, answer, content='turns', tokenize='unicode61'
);
CREATE TRIGGER IF NOT EXISTS turns_ai AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts(rowid, prompt, answer) VALUES (new.rowid, new.prompt, new.answer);
END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class LoggedTurn(TypedDict):
    """One question and its answer as history keeps it."""

    turn: int
    time: str
    model: str | None
    prompt: str
    data: str | None  # piped or attached data, as sent (trimmed)
    answer: str
    usage: dict[str, Any]  # Usage's fields, as JSON
    system: str | None
    interrupted: bool


class SessionSummary(TypedDict):
    id: str
    kind: str
    model: str
    time: str
    turns: int
    first_prompt: str


def sessions_dir() -> Path:
    """Where earlier versions kept one JSONL file per session (imported once)."""
    return paths.data_dir() / "sessions"


def db_path() -> Path:
    return paths.data_dir() / "history.db"


_conn: dict[str, sqlite3.Connection] = {}


def connect() -> sqlite3.Connection:
    """The history database, created (0600) and migrated on first use in this process; one
    connection per thread (`ga serve` logs from worker threads)."""
    path = db_path()
    key = f"{path}|{threading.get_ident()}"
    if key in _conn:
        return _conn[key]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    _import_jsonl(conn)
    _index_every_turn(conn)
    _conn[key] = conn
    return conn


def _index_every_turn(conn: sqlite3.Connection) -> None:
    """Turns written where the search index was not kept (a database copied or restored, an
    older ga, a write that bypassed the trigger) are indexed now: `ga history -q` finds every
    word of every prompt and answer."""
    indexed = conn.execute("SELECT COUNT(*) FROM turns_fts_docsize").fetchone()[0]
    if indexed != conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]:
        conn.execute("INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')")


def new_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class Session:
    id: str

    @classmethod
    def create(cls, kind: str, model: str) -> Session:
        for _ in range(20):  # ids of one second differ by chance: draw again on a clash
            sid = new_id()
            try:
                connect().execute(
                    "INSERT INTO sessions (id, kind, model, time) VALUES (?, ?, ?, ?)",
                    (sid, kind, _redacted(model), _now()),
                )
            except sqlite3.IntegrityError:
                continue
            return cls(sid)
        raise GaError("could not find a free session id", "try again")

    @classmethod
    def open(cls, sid: str) -> Session:
        rows = (
            connect()
            .execute(
                "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                (sid, sid + "\U0010ffff"),
            )
            .fetchall()
        )
        if not rows:
            raise GaError(f"no session `{sid}`", "list sessions with `ga history`")
        if len(rows) > 1 and rows[0]["id"] != sid:
            raise GaError(f"session id `{sid}` is ambiguous", "give more of the id")
        return cls(rows[0]["id"])

    @classmethod
    def latest(cls, kind: str | None = None) -> Session:
        """The newest session (of `kind`, when given; else the newest the principal had in
        the terminal: served exchanges are opened by id)."""
        where, args = (
            ("WHERE kind = ?", (kind,)) if kind else ("WHERE kind NOT LIKE ?", ("serve:%",))
        )
        row = (
            connect()
            .execute(f"SELECT id FROM sessions {where} ORDER BY rowid DESC LIMIT 1", args)
            .fetchone()
        )
        if row is None:
            what = f"no `ga {kind}` conversation" if kind else "no conversation"
            raise GaError(f"there is {what} yet", 'ask something first: ga ask "..."')
        return cls(row["id"])

    def turns(self) -> list[LoggedTurn]:
        rows = (
            connect()
            .execute("SELECT * FROM turns WHERE session = ? ORDER BY turn", (self.id,))
            .fetchall()
        )
        return [cast(LoggedTurn, _turn(r)) for r in rows]

    def messages(self) -> list[dict[str, str]]:
        """The conversation so far as chat messages, to continue it."""
        out = []
        for t in self.turns():
            out += [
                {"role": "user", "content": t["prompt"]},
                {"role": "assistant", "content": t["answer"]},
            ]
        return out

    def log_turn(
        self,
        prompt: str,
        answer: str,
        model: str,
        usage: Usage | None = None,
        data: str | None = None,
        system: str | None = None,
        interrupted: bool = False,
    ) -> int:
        conn = connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            (last,) = conn.execute(
                "SELECT COALESCE(MAX(turn), 0) FROM turns WHERE session = ?", (self.id,)
            ).fetchone()
            _insert_turn(
                conn,
                self.id,
                {
                    "turn": last + 1,
                    "time": _now(),
                    "model": model,
                    "prompt": prompt,
                    "data": data,
                    "answer": answer,
                    "usage": asdict(usage or Usage()),
                    "system": system,
                    "interrupted": interrupted,
                },
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(last + 1)


def summaries(
    limit: int | None = None, query: str | None = None, ids: list[str] | None = None
) -> list[SessionSummary]:
    """Sessions in the order they began, newest last (ids of one second sort by chance; the
    database's row order does not): the `limit` newest, those whose prompts or answers match the
    full-text `query` (SQLite FTS5 words; a phrase in quotes), or the given `ids`."""
    conn = connect()
    args: list[Any] = []
    where = ""
    if query is not None:
        where = (
            "WHERE s.id IN (SELECT t.session FROM turns_fts JOIN turns t "
            "ON t.rowid = turns_fts.rowid WHERE turns_fts MATCH ?)"
        )
        args.append(_fts_query(query))
    elif ids is not None:
        where = f"WHERE s.id IN ({','.join('?' * len(ids))})"
        args += ids
    sql = (
        "SELECT s.id, s.kind, s.model, s.time, "
        "(SELECT COUNT(*) FROM turns t WHERE t.session = s.id) AS turns, "
        "(SELECT t.prompt FROM turns t WHERE t.session = s.id ORDER BY t.turn LIMIT 1) "
        f"AS first_prompt FROM sessions s {where} ORDER BY s.rowid DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    try:
        rows = conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:  # a query FTS5 cannot parse
        raise GaError(f"-q {query}: {exc}", 'search words, or a "quoted phrase"') from exc
    return [
        cast(SessionSummary, dict(r) | {"first_prompt": r["first_prompt"] or ""})
        for r in reversed(rows)
    ]


def past_prompts(limit: int) -> list[str]:
    """The principal's own questions, newest first, each once; none that came with piped data
    (those are about the data) and none that were interrupted."""
    rows = (
        connect()
        .execute(
            "SELECT prompt FROM turns WHERE data IS NULL AND NOT COALESCE(interrupted, 0) "
            "AND TRIM(COALESCE(prompt, '')) != '' GROUP BY prompt ORDER BY MAX(rowid) DESC LIMIT ?",
            (limit,),
        )
        .fetchall()
    )
    return [str(r["prompt"]) for r in rows]


def _fts_query(text: str) -> str:
    """The principal's words as an FTS5 query: each word quoted (so `-`, `:` or `*` in a word
    are text, not operators), all of them required; a quoted phrase stays one phrase."""
    if text.count('"') >= 2:
        return text
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words) or '""'


def export_jsonl() -> Iterator[str]:
    """Every session in the JSONL form earlier versions logged: a `session` record, then its
    turns, one JSON object a line."""
    conn = connect()
    for s in conn.execute("SELECT * FROM sessions ORDER BY rowid"):
        yield json.dumps({"type": "session", **dict(s)}, ensure_ascii=False)
        for t in conn.execute("SELECT * FROM turns WHERE session = ? ORDER BY turn", (s["id"],)):
            yield json.dumps({"type": "turn", **_turn(t)}, ensure_ascii=False)


def _turn(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out.pop("session", None)
    out["usage"] = json.loads(out["usage"]) if out.get("usage") else {}
    out["interrupted"] = bool(out.get("interrupted"))
    return out


def _insert_turn(conn: sqlite3.Connection, sid: str, t: dict[str, Any]) -> None:
    t = _redacted(t)
    conn.execute(
        "INSERT INTO turns (session, turn, time, model, prompt, data, answer, usage, system, "
        "interrupted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sid,
            t["turn"],
            t.get("time"),
            t.get("model"),
            t.get("prompt") or "",
            t.get("data"),
            t.get("answer") or "",
            json.dumps(t.get("usage") or {}),
            t.get("system"),
            int(bool(t.get("interrupted"))),
        ),
    )


def _import_jsonl(conn: sqlite3.Connection) -> None:
    """Sessions an earlier version logged as sessions/*.jsonl, imported once (the files stay)."""
    if conn.execute("SELECT 1 FROM meta WHERE key = 'jsonl_imported'").fetchone():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM meta WHERE key = 'jsonl_imported'").fetchone():
            folder = sessions_dir()
            for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
                _import_file(conn, path)
            conn.execute("INSERT INTO meta VALUES ('jsonl_imported', ?)", (_now(),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _import_file(conn: sqlite3.Connection, path: Path) -> None:
    head: dict[str, Any] = {}
    turns = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GaError(
                f"{path}:{n}: not valid JSON ({exc.msg}); the history cannot be imported",
                "fix or move that file, then run the command again",
            ) from exc
        if record.get("type") == "session":
            head = record
        elif record.get("type") == "turn":
            turns.append(record)
    sid = head.get("id") or path.stem
    conn.execute(
        "INSERT OR IGNORE INTO sessions (id, kind, model, time) VALUES (?, ?, ?, ?)",
        (sid, head.get("kind"), head.get("model"), head.get("time")),
    )
    for i, t in enumerate(turns, 1):
        t.setdefault("turn", i)
        if not conn.execute(
            "SELECT 1 FROM turns WHERE session = ? AND turn = ?", (sid, t["turn"])
        ).fetchone():
            _insert_turn(conn, sid, t)


def _redacted(value: Any) -> Any:
    """Secrets never reach the history: every string in the record is redacted first."""
    if isinstance(value, str):
        return secrets_guard.redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
