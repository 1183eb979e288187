"""Check every ledger file against its schema; optionally fill in what can be filled in."""

from __future__ import annotations

from datetime import UTC

from ga_cli.errors import LedgerFormatError
from ga_cli.fileio import yamlio
from ga_cli.ledger import entries as E
from ga_cli.ledger.store import CONFIG_FILE, INDEX_LOCK, Ledger, stray_index_lock

FIXABLE = ("id", "created", "status", "provenance")


def check(ledger: Ledger) -> list[LedgerFormatError]:
    """Every problem in the ledger at once (not just the first)."""
    good, problems = ledger.scan()
    problems += duplicate_ids(good)
    fast = E.fast_yaml()
    for entry in good:  # what the dataset build's reader refuses, doctor reports too
        try:
            E.parse_fast(entry.kind, entry.path, (ledger.root / entry.path).read_bytes(), fast)
        except LedgerFormatError as exc:
            problems.append(exc)
    lock = ledger.root / INDEX_LOCK
    if lock.exists():
        with ledger.locked():  # one left by a killed ga process is cleared here (lock.py)
            pass
    if lock.exists():
        problems.append(stray_index_lock(ledger.root, INDEX_LOCK))
    for rel in ("principal.yaml", CONFIG_FILE):
        if not (ledger.root / rel).exists():
            if rel == "principal.yaml":
                problems.append(LedgerFormatError(rel, None, "file is missing"))
            continue
        try:
            data = yamlio.load(ledger.read(rel), rel)
        except LedgerFormatError as exc:
            problems.append(exc)
            continue
        if data is not None and not isinstance(data, dict):
            problems.append(LedgerFormatError(rel, 1, "expected a mapping of `key: value` lines"))
    return sorted(problems, key=lambda p: (p.path, p.line or 0))


def duplicate_ids(entries: list[E.Entry]) -> list[LedgerFormatError]:
    """Two files with one id (a copied file): each is named, with the other file."""
    by_id: dict[str, list[E.Entry]] = {}
    for entry in entries:
        by_id.setdefault(entry.id, []).append(entry)
    found = []
    for ident, same in by_id.items():
        if len(same) < 2:
            continue
        for entry in same:
            others = ", ".join(o.path for o in same if o is not entry)
            found.append(
                LedgerFormatError(
                    entry.path,
                    entry.line_of("id"),
                    f"id `{ident}` is also used by {others}",
                    "give one of the files a new id: delete its `id:` line, then `ga doctor --fix`",
                )
            )
    return found


def fix(ledger: Ledger) -> list[str]:
    """Fill in missing id/created/status/provenance (a hand-written file is the principal's).

    One commit for all fixed files; returns their paths. Problems it cannot fix are left for the
    principal and still reported by `check`.
    """
    writes: dict[str, str] = {}
    for rel in ledger.entry_files():
        try:
            entry = ledger.load(rel)
        except LedgerFormatError:
            continue
        meta, changed = entry.meta, False
        if not meta.get("id"):
            if "id" in meta:
                del meta["id"]
            meta.insert(0, "id", E.new_id(entry.kind))
            changed = True
        defaults = {
            "created": _first_commit_time(ledger, rel) or E.now_iso(),
            "status": "active",
            "provenance": "principal",
        }
        for pos, key in enumerate(FIXABLE[1:], start=1):
            if meta.get(key) in (None, ""):
                if key in meta:
                    meta[key] = defaults[key]
                else:
                    meta.insert(min(pos, len(meta)), key, defaults[key])
                changed = True
        if changed:
            writes[rel] = entry.render()
    if writes:
        ledger.change(f"doctor: fill in missing fields in {len(writes)} file(s).", writes)
    return sorted(writes)


def _first_commit_time(ledger: Ledger, rel: str) -> str | None:
    out = ledger.git("log", "--diff-filter=A", "--format=%aI", "--", rel) if ledger.head() else ""
    lines = [line for line in out.splitlines() if line]
    if not lines:
        return None
    from datetime import datetime

    when = datetime.fromisoformat(lines[-1]).astimezone(UTC).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")
