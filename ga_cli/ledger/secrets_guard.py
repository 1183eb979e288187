"""Refuse to commit text that looks like a credential, and redact it from logs.

A hand-written list of the credential shapes a principal is likely to paste. Prefixed keys are
matched even when glued to a word (`MY_KEY_sk-proj-...`): a `\\b` before the prefix would miss
them, since `_` is a word character. detect-secrets was considered: its regex plugins cover the
same shapes, miss glued keys too, and its import would be paid by every ledger command.
"""

from __future__ import annotations

import re

from ga_cli.errors import GaError

_GLUE = r"(?<![A-Za-z0-9])"  # not inside a word; `_` before the prefix still matches


def _prefixed(body: str) -> re.Pattern[str]:
    return re.compile(_GLUE + body)


PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private key block", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")),
    ("Anthropic API key", _prefixed(r"sk-ant-[A-Za-z0-9_\-]{20,}")),
    ("OpenAI-style API key", _prefixed(r"sk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}")),
    ("AWS access key id", _prefixed(r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")),
    (
        "AWS secret access key",
        re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key\s*[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
        ),
    ),
    ("GitHub token", _prefixed(r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("GitLab token", _prefixed(r"glpat-[A-Za-z0-9_\-]{20,}")),
    ("Slack token", _prefixed(r"xox[abposr]-[A-Za-z0-9\-]{10,}")),
    (
        "Slack webhook URL",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,}"
        ),
    ),
    ("Google API key", _prefixed(r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    ("Hugging Face token", _prefixed(r"hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])")),
    ("Stripe secret key", _prefixed(r"[rs]k_live_[A-Za-z0-9]{20,}")),
    (
        "JSON web token",
        _prefixed(r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
    ),
    # scheme://user:password@host — a password in a URL (database, broker, git remote)
    (
        "URL with a password",
        re.compile(
            r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@\"'<>]{1,64}:[^\s/@\"'<>]{3,128}@[^\s/@\"'<>]+",
            re.IGNORECASE,
        ),
    ),
]
REDACTED = "[REDACTED]"
# redaction takes a private key's whole block, not just its first line
_KEY_BLOCK = re.compile(
    r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[\s\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)"
)


def find_secret(text: str) -> tuple[str, int] | None:
    """The first (pattern name, 1-based line) that looks like a secret, or None."""
    for name, pattern in PATTERNS:
        match = pattern.search(text)
        if match:
            return name, text.count("\n", 0, match.start()) + 1
    return None


def redact(text: str) -> str:
    """`text` with everything that looks like a secret replaced by [REDACTED]."""
    text = _KEY_BLOCK.sub(REDACTED, text)
    for _, pattern in PATTERNS:
        if pattern.search(text):
            text = pattern.sub(REDACTED, text)
    return text


def check(path: str, text: str, allow: bool) -> None:
    if allow:
        return
    hit = find_secret(text)
    if hit:
        name, line = hit
        raise GaError(
            f"{redact(path)}:{line}: refusing to commit what looks like a secret ({name})",
            "remove the secret (keep keys in environment variables), "
            "or pass --allow-secret if it is not one",
        )
