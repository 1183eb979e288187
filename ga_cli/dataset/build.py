"""`ga build`: the ledger at one commit -> sft.jsonl, prefs.jsonl, heldout.jsonl, manifest.json.

Same commit and settings, same bytes: records are sorted, JSON is written with sorted keys,
and the manifest holds no time stamps.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from ga_cli import __version__, paths
from ga_cli.dataset import injection, records, snapshot, tokens
from ga_cli.dataset.rows import Pair, Row, Turn, dump, is_turn
from ga_cli.errors import GaError
from ga_cli.fileio import cachefill
from ga_cli.models.remote import tiktoken_encoding


@dataclass(frozen=True)
class Settings:
    max_seq_len: int = 1024
    injection_ratio: float = 0.1
    heldout_share: int = 10
    tokenizer: str = "embedded"
    skip_invalid: bool = False

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]


@dataclass
class BuildResult:
    out: Path
    manifest: dict[str, Any]  # manifest.json as written (what `ga build --json` prints)
    cached: bool

    @property
    def ledger_sha(self) -> str:
        """The ledger commit the dataset was built from."""
        return str(self.manifest["ledger_sha"])

    @property
    def content_hash(self) -> str:
        """A hash of the three files: equal hashes, equal data."""
        return str(self.manifest["content_hash"])


def default_out(sha: str, settings: Settings) -> Path:
    return paths.cache_dir() / "datasets" / f"{sha[:12]}-{settings.key()}"


def _text_of(rec: Row) -> list[str]:
    if is_turn(rec):
        return [m["content"] for m in rec["messages"]]
    return [rec.get("system", ""), rec["prompt"], rec["chosen"], rec["rejected"]]


R = TypeVar("R", Turn, Pair)


def _dedupe(rows: list[R]) -> tuple[list[R], int, int]:
    seen_exact: set[str] = set()
    seen_near: set[str] = set()
    kept: list[R] = []
    exact = near = 0
    for r in rows:
        texts = _text_of(r)[1:]
        e = "\x00".join(texts)
        n = "\x00".join(records.normalise(t) for t in texts)
        if e in seen_exact:
            exact += 1
        elif n in seen_near:
            near += 1
        else:
            kept.append(r)
        seen_exact.add(e)
        seen_near.add(n)
    return kept, exact, near


def build(
    ledger_root: Path,
    rev: str = "HEAD",
    out: Path | None = None,
    settings: Settings = Settings(),
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    sha = snapshot.resolve(str(ledger_root), rev)
    target = Path(out) if out else default_out(sha, settings)
    if not force and (target / "manifest.json").is_file():
        manifest = json.loads((target / "manifest.json").read_text())
        if manifest.get("ledger_sha") == sha and manifest.get("settings") == asdict(settings):
            return BuildResult(target, manifest, cached=True)
    snap = snapshot.load(str(ledger_root), sha, skip_invalid=settings.skip_invalid)
    got = records.collect(snap, settings.heldout_share)
    if not got.sft and not got.prefs and not got.heldout:
        raise GaError(
            "the ledger has nothing to train on yet",
            "add a correction (ga correct), an example (ga example add) or a value "
            "(ga values add) first",
        )
    rows = _assemble(got, records.system_prompt(snap.principal), settings.injection_ratio)
    tok_name, tok = tokens.base_tokenizer(settings.tokenizer, progress)
    measured = _Measure(tokens.counter(tok), settings.max_seq_len)
    rows.sft, sft_len = measured.fit(rows.sft)
    rows.prefs, prefs_len = measured.fit(rows.prefs)
    blobs = {
        "sft.jsonl": dump(rows.sft),
        "prefs.jsonl": dump(rows.prefs),
        "heldout.jsonl": dump(rows.heldout),
    }
    files: dict[str, dict[str, Any]] = {
        name: {"sha256": hashlib.sha256(b).hexdigest(), "records": b.count(b"\n")}
        for name, b in blobs.items()
    }
    longest = sorted(
        zip(sft_len, (r["id"] for r in rows.sft), (r["source"] for r in rows.sft)), reverse=True
    )[:5]
    manifest = {
        "ledger_sha": sha,
        "built_with": f"ga {__version__}",
        "settings": asdict(settings),
        "counts": {name: _by_source(rs) for name, rs in rows.named()},
        "excluded": dict(sorted(got.excluded.items())),
        "invalid": [e.message for e in snap.invalid],
        "duplicates": rows.duplicates,
        "too_long": {"max_seq_len": settings.max_seq_len, "dropped": sorted(measured.too_long)},
        "heldout_ids": sorted(got.heldout_ids),
        "tokens": {
            "tokenizer": tok_name if tok is not None else "tiktoken o200k_base",
            "sft": tokens.stats(sft_len),
            "prefs": tokens.stats(prefs_len),
            "heldout": tokens.stats(measured.lengths(rows.heldout)),
            "tiktoken_o200k_total": _tiktoken_totals(rows),
        },
        "longest": [{"id": i, "source": s, "tokens": n} for n, i, s in longest],
        "files": files,
        "content_hash": hashlib.sha256(
            "".join(f["sha256"] for f in files.values()).encode()
        ).hexdigest(),
    }
    _write(target, blobs, manifest)
    return BuildResult(target, manifest, cached=False)


@dataclass
class _Rows:
    sft: list[Turn]
    prefs: list[Pair]
    heldout: list[Row]
    duplicates: dict[str, int]  # {exact, near}: rows dropped as repeats

    def named(self) -> list[tuple[str, Sequence[Row]]]:
        return [("sft", self.sft), ("prefs", self.prefs), ("heldout", self.heldout)]


def _assemble(got: records.Collected, system: str, injection_ratio: float) -> _Rows:
    """The ledger's rows in a stable order, repeats dropped, injection probes added."""
    n_inj = round(len(got.sft) * injection_ratio / max(1e-9, 1 - injection_ratio))
    n_inj = max(n_inj, 10) if injection_ratio > 0 else 0
    inj_train, inj_held = injection.make(n_inj, system)
    sft, exact_s, near_s = _dedupe(sorted(got.sft, key=lambda r: (r["source"], r["id"])))
    prefs, exact_p, near_p = _dedupe(sorted(got.prefs, key=lambda r: (r["source"], r["id"])))
    heldout: list[Row] = [*sorted(got.heldout, key=lambda r: (r["id"], r["rejected"])), *inj_held]
    return _Rows(
        sft + inj_train, prefs, heldout, {"exact": exact_s + exact_p, "near": near_s + near_p}
    )


class _Measure:
    """Token lengths of rows with the base model's tokenizer; each text is counted once (prompts
    and answers recur across sft, prefs and held-out rows). `fit` drops rows over the limit."""

    def __init__(self, count: Callable[[list[str]], list[int]], max_seq_len: int):
        self.count, self.max_seq_len = count, max_seq_len
        self.known: dict[str, int] = {}
        self.too_long: list[str] = []

    def lengths(self, rows: Sequence[Row]) -> list[int]:
        fresh = list({t: None for r in rows for t in _text_of(r) if t not in self.known})
        self.known.update(zip(fresh, self.count(fresh) if fresh else []))
        out = []
        for r in rows:
            parts = [self.known[t] for t in _text_of(r)]
            if is_turn(r):
                out.append(sum(parts) + tokens.PER_MESSAGE * len(parts))
            else:  # system + prompt + the longer answer
                out.append(parts[0] + parts[1] + max(parts[2], parts[3]) + 3 * tokens.PER_MESSAGE)
        return out

    def fit(self, rows: list[R]) -> tuple[list[R], list[int]]:
        kept: list[R] = []
        kept_len: list[int] = []
        for r, n in zip(rows, self.lengths(rows)):
            if n > self.max_seq_len:
                self.too_long.append(r["id"])
            else:
                kept.append(r)
                kept_len.append(n)
        return kept, kept_len


def _tiktoken_totals(rows: _Rows) -> dict[str, int]:
    """sft and prefs in tiktoken's o200k tokens (a provider-neutral size)."""
    enc = tiktoken_encoding()
    unique = list({t: None for r in rows.sft + rows.prefs for t in _text_of(r)})
    ids = enc.encode_ordinary_batch(unique, num_threads=os.cpu_count() or 1)
    length = {t: len(i) for t, i in zip(unique, ids)}
    return {
        name: sum(length[t] for r in rs for t in _text_of(r))
        for name, rs in (("sft", rows.sft), ("prefs", rows.prefs))
    }


def _by_source(rows: Sequence[Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["source"]] = counts.get(r["source"], 0) + 1
    return dict(sorted(counts.items()))


def _write(target: Path, blobs: dict[str, bytes], manifest: dict[str, Any]) -> None:
    """Write into a sibling temp dir, then swap it into place."""

    def fill(tmp: Path) -> None:
        for name, data in blobs.items():
            (tmp / name).write_bytes(data)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    try:
        cachefill.fill_dir(target, fill)
    except PermissionError as exc:
        raise GaError(
            f"cannot write the dataset to {target}: permission denied",
            "choose a writable --out directory",
        ) from exc
    except OSError as exc:
        raise GaError(
            f"cannot write the dataset to {target}: {exc.strerror}",
            "choose a writable --out directory",
        ) from exc


def latest_manifest(ledger_root: Path) -> tuple[Path, dict[str, Any]]:
    """The newest build of the ledger's HEAD in the cache (for `ga dataset show`)."""
    sha = snapshot.resolve(str(ledger_root), "HEAD")
    base = paths.cache_dir() / "datasets"
    found = sorted(base.glob(f"{sha[:12]}-*/manifest.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise GaError("no dataset built for the ledger's current commit", "run `ga build` first")
    return found[-1].parent, json.loads(found[-1].read_text())
