"""History at scale: `ga history -q` and `ga history` on 10,000 logged conversations.

Fills a fresh GA_HOME with N sessions (two turns each) through ga's own session API, then times,
in the same run: `ga history -q WORD --json` and `ga history` (the 20 newest) as real processes,
against a bare sqlite3 full-text query of the same database in a fresh `python -c` (both pay
interpreter start-up, so the ratio is ga's own cost). Also the one-time import of N sessions left
as JSONL by an earlier version.

Usage: python bench/history.py [--sessions 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BARE = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute(
    "SELECT DISTINCT t.session FROM turns_fts JOIN turns t ON t.rowid = turns_fts.rowid "
    "WHERE turns_fts MATCH ? ORDER BY t.session DESC LIMIT 20", (sys.argv[2],)
).fetchall()
print(len(rows))
"""


def timed(cmd: list[str], env: dict, repeat: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if r.returncode:
            sys.exit(r.stderr[-2000:])
        out = r.stdout
    return statistics.median(times), out


def fill(home: str, n: int) -> float:
    os.environ["GA_HOME"] = home
    from ga_cli.chat import sessions

    t = time.perf_counter()
    for i in range(n):
        s = sessions.Session.create("ask", "bench")
        topic = "kubernetes" if i % 500 == 0 else "sourdough"
        s.log_turn(f"question {i} about {topic}", f"answer {i} on {topic} " * 20, "bench")
        s.log_turn(f"follow-up {i}", "short answer", "bench")
    return time.perf_counter() - t


def migrate(n: int) -> float:
    home = tempfile.mkdtemp()
    folder = Path(home) / "sessions"
    folder.mkdir()
    for i in range(n):
        sid = f"20250101-{i:06d}-abcd"
        (folder / f"{sid}.jsonl").write_text(
            json.dumps({"type": "session", "id": sid, "kind": "ask", "model": "m"})
            + "\n"
            + json.dumps({"type": "turn", "turn": 1, "prompt": f"q {i}", "answer": "a"})
            + "\n"
        )
    exe = os.path.join(os.path.dirname(sys.executable), "ga")
    t = time.perf_counter()
    subprocess.run(
        [exe, "history", "-n", "1"],
        env={**os.environ, "GA_HOME": home},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    home = tempfile.mkdtemp()
    filled = fill(home, a.sessions)
    env = {**os.environ, "GA_HOME": home, "COLUMNS": "120"}
    exe = os.path.join(os.path.dirname(sys.executable), "ga")
    db = str(Path(home) / "history.db")
    bare, n_bare = timed([sys.executable, "-c", BARE, db, "kubernetes"], env, a.repeat)
    search, out = timed([exe, "history", "-q", "kubernetes", "--json"], env, a.repeat)
    listing, _ = timed([exe, "history"], env, a.repeat)
    found = len(json.loads(out))
    imported = migrate(3000)
    print(f"sessions: {a.sessions} (2 turns each), logged through the API in {filled:.1f} s")
    print(f"bare sqlite3 FTS query (python -c):  {bare * 1000:7.0f} ms  ({n_bare.strip()} rows)")
    print(
        f"ga history -q kubernetes --json:     {search * 1000:7.0f} ms  ({found} sessions) "
        f"= {search / bare:.2f}x bare"
    )
    print(f"ga history (20 newest):  {listing * 1000:7.0f} ms  = {listing / bare:.2f}x bare")
    print(f"first ga history importing 3000 JSONL sessions: {imported:.2f} s")


if __name__ == "__main__":
    main()
