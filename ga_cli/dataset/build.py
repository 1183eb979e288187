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
from typing import Any, Callable

from ga_cli import __version__, cachefill, paths
from ga_cli.dataset import injection, records, snapshot, tokens
from ga_cli.errors import GaError
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
    manifest: dict[str, Any]
    cached: bool


def default_out(sha: str, settings: Settings) -> Path:
    return paths.cache_dir() / "datasets" / f"{sha[:12]}-{settings.key()}"


def _dump(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode()


def _text_of(rec: dict[str, Any]) -> list[str]:
    if "messages" in rec:
        return [m["content"] for m in rec["messages"]]
    return [rec.get("system", ""), rec["prompt"], rec["chosen"], rec["rejected"]]


def _dedupe(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    seen_exact, seen_near, kept, exact, near = set(), set(), [], 0, 0
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
    system = records.system_prompt(snap.principal)
    n_inj = round(len(got.sft) * settings.injection_ratio / max(1e-9, 1 - settings.injection_ratio))
    n_inj = max(n_inj, 10) if settings.injection_ratio > 0 else 0
    inj_train, inj_held = injection.make(n_inj, system)
    sft, exact_s, near_s = _dedupe(sorted(got.sft, key=lambda r: (r["source"], r["id"])))
    prefs, exact_p, near_p = _dedupe(sorted(got.prefs, key=lambda r: (r["source"], r["id"])))
    sft += inj_train
    heldout = sorted(got.heldout, key=lambda r: (r["id"], r["rejected"])) + inj_held

    tok_name, tok = tokens.base_tokenizer(settings.tokenizer, progress)
    count = tokens.counter(tok)

    known: dict[str, int] = {}  # prompts and answers recur across sft, prefs and held-out rows

    def lengths(rows: list[dict[str, Any]]) -> list[int]:
        fresh = list({t: None for r in rows for t in _text_of(r) if t not in known})
        known.update(zip(fresh, count(fresh) if fresh else []))
        out_len = []
        for r in rows:
            parts = [known[t] for t in _text_of(r)]
            if "messages" in r:
                out_len.append(sum(parts) + tokens.PER_MESSAGE * len(parts))
            else:  # system + prompt + the longer answer
                out_len.append(
                    parts[0] + parts[1] + max(parts[2], parts[3]) + 3 * tokens.PER_MESSAGE
                )
        return out_len

    too_long: list[str] = []

    def fit(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
        kept, kept_len = [], []
        for r, n in zip(rows, lengths(rows)):
            if n > settings.max_seq_len:
                too_long.append(r["id"])
            else:
                kept.append(r)
                kept_len.append(n)
        return kept, kept_len

    sft, sft_len = fit(sft)
    prefs, prefs_len = fit(prefs)
    held_len = lengths(heldout)
    enc = tiktoken_encoding()
    unique = list({t: None for r in sft + prefs for t in _text_of(r)})
    tik_len = dict(
        zip(
            unique,
            (
                len(ids)
                for ids in enc.encode_ordinary_batch(unique, num_threads=os.cpu_count() or 1)
            ),
        )
    )
    tik = {
        name: sum(tik_len[t] for r in rows for t in _text_of(r))
        for name, rows in (("sft", sft), ("prefs", prefs))
    }

    blobs = {"sft.jsonl": _dump(sft), "prefs.jsonl": _dump(prefs), "heldout.jsonl": _dump(heldout)}
    files: dict[str, dict[str, Any]] = {
        name: {"sha256": hashlib.sha256(b).hexdigest(), "records": b.count(b"\n")}
        for name, b in blobs.items()
    }

    def by_source(rows: list[dict[str, Any]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["source"]] = counts.get(r["source"], 0) + 1
        return dict(sorted(counts.items()))

    longest = sorted(
        zip(sft_len, (r["id"] for r in sft), (r["source"] for r in sft)), reverse=True
    )[:5]
    manifest = {
        "ledger_sha": sha,
        "built_with": f"ga {__version__}",
        "settings": asdict(settings),
        "counts": {"sft": by_source(sft), "prefs": by_source(prefs), "heldout": by_source(heldout)},
        "excluded": dict(sorted(got.excluded.items())),
        "invalid": [e.message for e in snap.invalid],
        "duplicates": {"exact": exact_s + exact_p, "near": near_s + near_p},
        "too_long": {"max_seq_len": settings.max_seq_len, "dropped": sorted(too_long)},
        "heldout_ids": sorted(got.heldout_ids),
        "tokens": {
            "tokenizer": tok_name if tok is not None else "tiktoken o200k_base",
            "sft": tokens.stats(sft_len),
            "prefs": tokens.stats(prefs_len),
            "heldout": tokens.stats(held_len),
            "tiktoken_o200k_total": tik,
        },
        "longest": [{"id": i, "source": s, "tokens": n} for n, i, s in longest],
        "files": files,
        "content_hash": hashlib.sha256(
            "".join(f["sha256"] for f in files.values()).encode()
        ).hexdigest(),
    }
    _write(target, blobs, manifest)
    return BuildResult(target, manifest, cached=False)


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
