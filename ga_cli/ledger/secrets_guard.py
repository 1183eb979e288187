"""Refuse to commit text that looks like a credential."""

from __future__ import annotations

import re

from ga_cli.errors import GaError

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private key block", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")),
    ("Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("OpenAI-style API key", re.compile(r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("Stripe secret key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}")),
]


def find_secret(text: str) -> tuple[str, int] | None:
    """The first (pattern name, 1-based line) that looks like a secret, or None."""
    for name, pattern in PATTERNS:
        match = pattern.search(text)
        if match:
            return name, text.count("\n", 0, match.start()) + 1
    return None


def check(path: str, text: str, allow: bool) -> None:
    if allow:
        return
    hit = find_secret(text)
    if hit:
        name, line = hit
        raise GaError(f"{path}:{line}: refusing to commit what looks like a secret ({name})",
                      "remove the secret (keep keys in environment variables), "
                      "or pass --allow-secret if it is not one")
