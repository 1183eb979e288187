"""The ledger as it stood at one commit, read straight from git objects (not the working tree).

Reads every entry blob with one `git cat-file --batch` process and parses it with the C-backed
safe YAML loader: a 100k-entry ledger is read in seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ga_cli.errors import GaError, LedgerFormatError
from ga_cli.ledger import entries as E
from ga_cli.ledger import gitrun


@dataclass
class Item(E.Fields):
    """A parsed entry: plain dict data, no round-trip machinery."""

    kind: str
    path: str
    meta: dict[str, Any]
    body: str | None = None

    @property
    def kind_name(self) -> str:
        return self.kind

    @property
    def trusted(self) -> bool:
        """May shape the model (items are validated when parsed): the ledger's one trust rule."""
        return E.untrusted(self.meta) is None


@dataclass
class Snapshot:
    sha: str
    items: list[Item] = field(default_factory=list)
    principal: dict[str, Any] = field(default_factory=dict)
    invalid: list[LedgerFormatError] = field(default_factory=list)
    earlier_chosen: dict[str, list[str]] = field(default_factory=dict)  # id -> older answers
    added_order: dict[str, int] = field(default_factory=dict)  # path -> order it entered history


def resolve(root: str, rev: str) -> str:
    code, out = gitrun.status(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if code != 0 or not out.strip():
        raise GaError(
            f"--at {rev}: no such revision in the ledger",
            "give a commit sha, a branch, or HEAD~N (see `ga log`)",
        )
    return out.strip()


def is_ancestor(root: str, older: str, newer: str) -> bool:
    """Whether commit `older` is in the history of `newer` (false too when it is unknown)."""
    return gitrun.status(root, "merge-base", "--is-ancestor", older, newer)[0] == 0


def read_blobs(root: str, oids: list[str]) -> Iterator[bytes]:
    """Contents of many blobs through one `git cat-file --batch` process."""
    if not oids:
        return
    proc = gitrun.batch(root)
    assert proc.stdin and proc.stdout
    writer = _feed(proc.stdin, oids)
    for _ in oids:
        header = proc.stdout.readline().split()
        size = int(header[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)  # the newline after each object
        yield data
    writer.join()
    proc.wait()


def _feed(stdin: Any, oids: list[str]) -> Any:
    import threading

    def run() -> None:
        for oid in oids:
            stdin.write(oid.encode() + b"\n")
        stdin.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _safe_yaml() -> YAML:
    return E.fast_yaml()


def parse_fast(kind: E.Kind, path: str, raw: bytes, y: YAML) -> Item:
    """Parse and validate one entry with the ledger's fast parser (`entries.parse_fast`)."""
    meta, body = E.parse_fast(kind, path, raw, y)
    return Item(kind.name, path, meta, body)


def load(root: str, rev: str = "HEAD", skip_invalid: bool = False) -> Snapshot:
    sha = resolve(root, rev)
    snap = Snapshot(sha)
    listing = gitrun.run(root, "ls-tree", "-r", "-z", sha)
    wanted: list[tuple[E.Kind | None, str, str]] = []
    for record in listing.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        _, otype, oid = meta.split()
        if otype != "blob":
            continue
        kind = E.kind_of_path(path)
        if kind is not None or path == "principal.yaml":
            wanted.append((kind, path, oid))
    y = _safe_yaml()
    jobs: list[tuple[str, str, bytes]] = []
    for (kind, path, _), raw in zip(wanted, read_blobs(root, [w[2] for w in wanted])):
        if kind is None:
            snap.principal = y.load(raw.decode("utf-8", "replace")) or {}
        else:
            jobs.append((kind.name, path, raw))
    for result in _parse_all(jobs):
        if isinstance(result, Item):
            snap.items.append(result)
            continue
        exc = LedgerFormatError(*result)
        if not skip_invalid:
            raise exc
        snap.invalid.append(exc)
    snap.earlier_chosen = _earlier_chosen(root, sha, y)
    added = gitrun.run(
        root,
        "log",
        "--reverse",
        "--format=",
        "--name-only",
        "--diff-filter=A",
        sha,
        "--",
        "corrections/",
    )
    snap.added_order = {p: i for i, p in enumerate(p for p in added.splitlines() if p)}
    return snap


ParseResult = Item | tuple[str, int | None, str]
PARALLEL_FROM = 4000  # entries; below this, worker start-up costs more than it saves


def _parse_chunk(jobs: list[tuple[str, str, bytes]]) -> list[ParseResult]:
    """Parse entries; errors come back as (path, line, message), which pickle safely."""
    y = _safe_yaml()
    out: list[ParseResult] = []
    for kind_name, path, raw in jobs:
        try:
            out.append(parse_fast(E.KINDS[kind_name], path, raw, y))
        except LedgerFormatError as exc:
            out.append((exc.path, exc.line, exc.detail))
    return out


def _parse_all(jobs: list[tuple[str, str, bytes]]) -> list[ParseResult]:
    """YAML parsing dominates large builds: spread it over the CPU cores, order kept."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        return _parse_chunk(jobs)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(jobs) // (workers * 4))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return [r for chunk in pool.map(_parse_chunk, chunks) for r in chunk]


def _earlier_chosen(root: str, sha: str, y: YAML) -> dict[str, list[str]]:
    """For corrections whose `chosen` was edited in history: the answers they replaced."""
    out = gitrun.run(
        root, "log", "--format=", "--name-only", "--diff-filter=M", sha, "--", "corrections/"
    )
    edited = sorted({p for p in out.splitlines() if p})
    found: dict[str, list[str]] = {}
    for path in edited:
        versions = gitrun.run(root, "log", "--format=%H", sha, "--", path).split()
        oids = []
        for commit in versions[1:]:
            code, out = gitrun.status(root, "rev-parse", f"{commit}:{path}")
            if code == 0:
                oids.append(out.strip())
        for raw in read_blobs(root, oids):
            try:
                data = y.load(raw.decode("utf-8", "replace"))
            except YAMLError:
                continue
            if isinstance(data, dict) and data.get("id") and data.get("chosen"):
                found.setdefault(str(data["id"]), []).append(str(data["chosen"]))
    return found
