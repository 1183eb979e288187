"""The abuse campaign, repeatable: concurrent writers, kill -9 mid-write, bad input, secrets.

  writers   N `ga values add` processes at once on one ledger: every one must become one commit
  kills     N rounds of `ga values add` killed with SIGKILL at a random moment: afterwards the
            ledger must pass `git fsck`, parse, and hold every entry that was reported written
  bad input malformed command lines, hand-broken ledger files and malformed HTTP bodies: each
            must get a one-line error (exit 1 or 2, or an OpenAI-shaped 4xx), never a traceback
  secrets   credential shapes that must be refused, and look-alikes that must pass

  utf-8     bytes that are not UTF-8 in every free-text argument, and `-f /dev/zero`
  edits     `ga correct` in $EDITOR with an answer that breaks the YAML, given up on
  server    bench/abuse_server.py: schemas that crashed libllama, unbounded embeddings,
            cross-origin and DNS-rebinding requests against a real `ga serve`

Usage: python bench/abuse.py [--writers 100] [--kills 100] [--no-server] [--json]
Prints one line per figure; nothing else should run beside it (2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GA = [sys.executable, "-m", "ga_cli"]


def ga(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*GA, *args],
        env=env,
        capture_output=True,
        text=True,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        timeout=300,
    )


def entries(env: dict) -> int:
    return len(json.loads(ga(env, "values", "list", "--json").stdout))


def writers(env: dict, n: int) -> dict:
    before = entries(env)
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(
            pool.map(lambda i: ga(env, "values", "add", f"Writer {i} was here."), range(n))
        )
    ok = sum(r.returncode == 0 for r in results)
    held = entries(env) - before
    return {"writers": n, "succeeded": ok, "entries_added": held, "held": ok == held == n}


def kills(env: dict, n: int, ledger: Path) -> dict:
    rng = random.Random(0)
    survived, reported = 0, 0
    for i in range(n):
        before = entries(env)
        proc = subprocess.Popen(
            [*GA, "values", "add", f"Kill round {i}."],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        finished = bool(out.strip())  # the id is printed only after the commit
        reported += finished
        fsck = subprocess.run(
            ["git", "-C", str(ledger), "fsck", "--no-progress"], capture_output=True, text=True
        )
        doctor = ga(env, "doctor")
        after = entries(env)
        ok = fsck.returncode == 0 and doctor.returncode == 0 and after >= before + finished
        survived += ok
    return {"rounds": n, "survived": survived, "commits_reported_before_kill": reported}


BAD_CLI = [
    ["values", "add", ""],
    ["values", "add", "x", "--priority", "0"],
    ["values", "add", "x", "--priority", "nine"],
    ["values", "rm", "zz"],
    ["values", "rm", "v-"],
    ["show", "no-such-id"],
    ["log", "-n", "-5"],
    ["log", "-n", "x"],
    ["build", "--at", "nope"],
    ["build", "--max-seq-len", "3"],
    ["build", "--injection-ratio", "2"],
    ["correct", "--prompt", "p"],
    ["config", "set", "nonsense", "1"],
    ["config", "set", "../x", "1"],
    ["train", "init", "../../etc/passwd", "/tmp"],
    ["train", "init", "cpu-tiny", "/no/such/dir"],
    ["train", "--recipe", "nope"],
    ["train", "--steps", "0"],
    ["models", "use", "r-nope"],
    ["models", "rm", "r-nope"],
    ["eval", "r-nope"],
    ["export", "r-nope", "--merged", "/tmp/x"],
    ["history", "show", "zz"],
    ["ask"],
    ["prompt", "show", "--model", "/no/such/model"],
    ["serve", "--port", "99999"],
    ["no-such-command"],
    ["values", "--no-such-flag"],
    ["sync"],
]
BAD_FILES = [
    ("values/a.md", "no front matter\n"),
    ("values/b.md", "---\nid: [\n---\nx\n"),
    ("values/c.md", "---\nid: v-00000001\n---\n"),
    ("values/d.md", "---\nstatus: Retired\n---\nx\n"),
    ("corrections/2026/01/e.yaml", "prompt: [unclosed\n"),
    ("corrections/2026/01/f.yaml", "- a\n- b\n"),
    ("corrections/2026/01/g.yaml", "id: c-00000002\nprompt: 5\n"),
    ("examples/h.md", "\xff\xfe"),
    (
        "values/i.md",
        "---\nid: v-00000003\ncreated: yesterday\nstatus: active\nprovenance: admin\n---\nx\n",
    ),
]
SECRETS = [
    "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3",
    "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2",
    "MY_KEY_sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2",
    "sk-ant-" + "api03-abcdefghijklmnopqrstuv",
    "AKIA" + "IOSFODNN7EXAMPLE",
    "aws_secret_access_key=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_" + "a" * 36,
    "github_pat_" + "b" * 40,
    "glpat-" + "c" * 20,
    "xoxb-" + "1234567890-abcdef",
    "https://hooks.slack.com/services/" + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "AIza" + "d" * 35,
    "hf_" + "e" * 34,
    "sk_live_" + "f" * 24,
    "eyJ" + "g" * 12 + ".eyJ" + "h" * 12 + "." + "i" * 12,
    "postgres://admin:" + "hunter2pass@db.internal:5432/prod",
    "mysql://root:" + "s3cr3tpw@localhost/app",
    "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE",
]
LOOKALIKES = [
    "a task-force-abcdefghijklmnopqrstuvwxyz plan",
    "git@github.com:me/repo.git",
    "http://localhost:8000/v1",
    "https://example.org/a:b",
    "the AKIA prefix alone",
    "email me at ada@example.org",
    "sk-short",
    "ssh://git@host/repo",
]


def bad_input(env: dict, ledger: Path) -> dict:
    tried = proper = 0
    failed: list[str] = []
    for args in BAD_CLI:
        r = ga(env, *args)
        tried += 1
        ok = (
            r.returncode in (1, 2)
            and "Traceback" not in r.stderr
            and "unexpected" not in r.stderr
            and len(r.stderr.strip().splitlines()) <= 6
        )
        proper += ok
        if not ok:
            failed.append(f"ga {' '.join(args)} -> {r.returncode}: {r.stderr.strip()[-200:]}")
    for rel, text in BAD_FILES:
        p = ledger / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(
            text.encode("utf-8", "surrogateescape") if "\xff" not in text else b"\xff\xfe\x00"
        )
        r = ga(env, "doctor")
        tried += 1
        ok = r.returncode == 1 and f"{rel}:" in r.stdout + r.stderr
        proper += ok
        if not ok:
            failed.append(f"{rel} -> doctor {r.returncode}")
        p.unlink()
    http_tried, http_proper, http_failed = _http(env)
    return {
        "tried": tried + http_tried,
        "answered_properly": proper + http_proper,
        "failed": failed + http_failed,
    }


def _http(env: dict) -> tuple[int, int, list[str]]:
    """Malformed bodies against the real app on the embedded model, in this process."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("GA_")})
    from starlette.testclient import TestClient

    from ga_cli.models.embedded import ensure_converted
    from ga_cli.models.local import LocalBackend
    from ga_cli.serve.app import Settings, create_app
    from ga_cli.serve.engine import Engine, Loaded

    backend = LocalBackend(ensure_converted())
    engine = Engine(lambda: Loaded(backend, ["ga-personal"], None), lambda: "fixed")
    engine.start()
    client = TestClient(create_app(engine, Settings(max_tokens_cap=4), lambda q, b: None))
    msg = [{"role": "user", "content": "hi"}]
    bodies = [b"{", b"[]", b"null", b'"x"', json.dumps({"messages": msg}).encode()]
    for field, values in {
        "max_tokens": [0, -1, True, "5", 2**70, 1.5],
        "seed": [2**70, -1, "x"],
        "temperature": ["hot", -1, 3, None],
        "top_p": [0, 2, "x"],
        "n": [0, 50, "2"],
        "stop": [[1], 5, ["a"] * 9],
        "stream": ["yes", 1],
    }.items():
        for v in values:
            bodies.append(json.dumps({"model": "ga-personal", "messages": msg, field: v}).encode())
    for content in (
        [{"type": "text", "text": 5}],
        ["a", "b"],
        None,
        5,
        {"text": "x"},
        [{"type": "image_url"}],
        "x" * 900_000,
    ):
        bodies.append(
            json.dumps(
                {
                    "model": "ga-personal",
                    "max_tokens": 2,
                    "messages": [{"role": "user", "content": content}],
                }
            ).encode()
        )
    proper, failed = 0, []
    for body in bodies:
        r = client.post("/v1/chat/completions", content=body)
        try:
            shaped = r.status_code == 200 or (
                400 <= r.status_code < 500 and r.json()["error"]["message"]
            )
        except (ValueError, KeyError, TypeError):
            shaped = False
        proper += bool(shaped)
        if not shaped:
            failed.append(f"POST {body[:80]!r} -> {r.status_code}")
    return len(bodies), proper, failed


BAD = "be brief \udcff"  # the byte 0xff in an argument, as Python holds it
UTF8_ARGS = [
    ["values", "add", BAD],
    ["values", "add", "x", "--why", BAD],
    ["values", "add", "x", "--tag", BAD],
    ["example", "add", "--prompt", BAD, "/dev/null"],
    ["correct", "--prompt", BAD, "--rejected", "r", "--chosen", "c"],
    ["correct", "--prompt", "p", "--rejected", BAD, "--chosen", "c"],
    ["correct", "--prompt", "p", "--rejected", "r", "--chosen", BAD],
    ["correct", "--prompt", "p", "--rejected", "r", "--chosen", "c", "--why", BAD],
    ["correct", "--prompt", "p", "--rejected", "r", "--chosen", "c", "--context", BAD],
    ["ask", BAD],
    ["ask", "hi", "--system", BAD],
    ["ask", "--save", BAD, "--system", "x"],
    ["history", "-q", BAD],
    ["prompt", "show", BAD],
    ["config", "set", "teacher", BAD],
    ["models", "alias", BAD, "embedded"],
]


def utf8_and_files(env: dict, ledger: Path) -> dict:
    """Bytes that are not UTF-8 in every free-text argument, and `-f /dev/zero`: each a
    one-line error, and the ledger untouched."""
    head = subprocess.run(
        ["git", "-C", str(ledger), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    proper, failed = 0, []
    runs = [(args, None) for args in UTF8_ARGS] + [(["ask", "sum it up", "-f", "/dev/zero"], None)]
    for args, given in runs:
        r = ga(env, *args, input=given)
        ok = r.returncode == 1 and "Traceback" not in r.stderr and "unexpected" not in r.stderr
        proper += ok
        if not ok:
            failed.append(f"ga {' '.join(map(ascii, args))} -> {r.returncode}: {r.stderr[-160:]}")
    after = subprocess.run(
        ["git", "-C", str(ledger), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    return {
        "tried": len(runs),
        "refused_cleanly": proper,
        "ledger_untouched": head == after,
        "failed": failed,
    }


EDITOR = """import sys
from pathlib import Path
p = Path(sys.argv[-1])
t = p.read_text()
if t.startswith("# ga:"):
    sys.exit(0)  # the principal gives up: closes the reopened file unchanged
p.write_text(t.replace("chosen: |\\n  \\n", "chosen: It is: Paris # sure\\n"))
"""


def lost_edits(env: dict, rounds: int = 5) -> dict:
    """`ga correct` in $EDITOR, with an answer that breaks the YAML (`: ` and `#` on the key's
    line), given up on: the words must be recorded or kept in a file the error names."""
    from tempfile import NamedTemporaryFile

    with NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(EDITOR)
    lost = 0
    for i in range(rounds):
        subprocess.run(
            [*GA, "ask", f"question {i}", "--max-tokens", "2"],
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        r = ga({**env, "EDITOR": f"{sys.executable} {fh.name}", "VISUAL": ""}, "correct")
        folder = Path(env["GA_HOME"]) / "unsaved-edits"  # the error names the file in it
        kept = sorted(folder.glob("*.yaml"), key=lambda f: f.stat().st_mtime)
        survived = r.returncode == 0 or bool(
            kept
            and kept[-1].name in r.stderr.replace("\n", "")
            and "It is: Paris # sure" in kept[-1].read_text()
        )
        lost += not survived
    os.unlink(fh.name)
    return {"rounds": rounds, "lost": lost}


def secrets_caught(env: dict) -> dict:
    caught = sum(ga(env, "values", "add", f"note {s} end").returncode == 1 for s in SECRETS)
    passed = sum(ga(env, "values", "add", f"note {s} end").returncode == 0 for s in LOOKALIKES)
    return {
        "tried": len(SECRETS),
        "caught": caught,
        "lookalikes": len(LOOKALIKES),
        "lookalikes_passed": passed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", type=int, default=100)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-server", action="store_true", help="skip the server campaign")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "GA_HOME": home,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.path.join(home, "gitconfig"),
            "GA_CACHE_DIR": os.environ.get("GA_CACHE_DIR", str(REPO / ".cache" / "bench")),
        }
        ga(env, "init", "--name", "Bench", "--email", "b@example.org")
        ledger = Path(home) / "ledger"
        t = time.perf_counter()
        figures = {
            "writers": writers(env, args.writers),
            "kills": kills(env, args.kills, ledger),
            "bad_input": bad_input(env, ledger),
            "secrets": secrets_caught(env),
            "utf8_and_files": utf8_and_files(env, ledger),
            "edits": lost_edits(env),
        }
        if not args.no_server:
            from abuse_server import server_probes

            figures["server"] = server_probes(env)
        figures["seconds"] = round(time.perf_counter() - t, 1)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    w, k, b, s = (figures[x] for x in ("writers", "kills", "bad_input", "secrets"))
    print(f"writers held        {w['entries_added']}/{w['writers']} (each one commit)")
    print(
        f"kills survived      {k['survived']}/{k['rounds']} (fsck, doctor, no entry lost; "
        f"{k['commits_reported_before_kill']} finished before the kill)"
    )
    print(f"bad inputs          {b['answered_properly']}/{b['tried']} answered properly")
    for line in b["failed"]:
        print(f"  not properly: {line}")
    print(
        f"secrets caught      {s['caught']}/{s['tried']}; look-alikes passed "
        f"{s['lookalikes_passed']}/{s['lookalikes']}"
    )
    u, e = figures["utf8_and_files"], figures["edits"]
    print(
        f"bad UTF-8, /dev/zero  {u['refused_cleanly']}/{u['tried']} refused in one line; "
        f"ledger untouched: {u['ledger_untouched']}"
    )
    for line in u["failed"]:
        print(f"  not properly: {line}")
    print(f"edits lost          {e['lost']}/{e['rounds']} (a broken edit given up on)")
    if "server" in figures:
        v = figures["server"]
        print(
            f"server probes       {v['answered_cleanly']}/{v['probes']} refused cleanly or "
            f"served; {v['server_deaths']} server deaths, {v['tracebacks']} tracebacks, "
            f"peak RSS {v['peak_rss_mb']} MB"
        )
        for line in v["failed"]:
            print(f"  not properly: {line}")
    print(f"took                {figures['seconds']} s")


if __name__ == "__main__":
    main()
