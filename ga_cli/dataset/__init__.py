"""Ledger -> training sets: sft.jsonl, prefs.jsonl, heldout.jsonl and manifest.json."""
