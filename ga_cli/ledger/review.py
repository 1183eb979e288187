"""`ga review`'s rules: what waits for the principal (teacher proposals, piped-in entries), and
what approving, editing or rejecting it writes. Nothing pending is used until approved."""

from __future__ import annotations

from ga_cli.ledger import entries as E
from ga_cli.ledger.store import Ledger

FIXED = ("id", "status", "provenance", "created")  # what an edit during review cannot change


def pending(ledger: Ledger) -> list[E.Entry]:
    """Everything waiting for the principal: teacher proposals and piped-in entries."""
    return [e for e in ledger.scan()[0] if e.status == "pending"]  # valid entries only


def approve(ledger: Ledger, entry: E.Entry, edited: E.Entry | None = None) -> E.Entry:
    """Make `entry` trusted, as the principal `edited` it (its fields but the FIXED ones)."""
    if edited is not None:
        for key, value in edited.meta.items():
            if key not in FIXED:
                entry.meta[key] = value
    return _decide(ledger, entry, "active", "approved", "approve")


def reject(ledger: Ledger, entry: E.Entry) -> E.Entry:
    """Retire `entry`: it stays in the ledger (and its history), unused."""
    return _decide(ledger, entry, "retired", "rejected_at", "reject")


def _decide(ledger: Ledger, entry: E.Entry, status: str, stamp: str, verb: str) -> E.Entry:
    """The principal's decision, in one commit: the new status and when it was made."""
    entry.meta["status"] = status
    entry.meta[stamp] = E.now_iso()
    ledger.change(
        f"review: {verb} {entry.kind.name} {entry.id}: {entry.summary()[:60]}",
        {entry.path: entry.render()},
    )
    return entry
