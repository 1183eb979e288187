"""Round-trip YAML (comments and key order survive a rewrite) and markdown front matter."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ga_cli.errors import LedgerFormatError, has_surrogate

FENCE = "---"


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 100
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load(text: str, path: str, line_offset: int = 0) -> Any:
    """Parse YAML; errors name `path:line` (1-based, shifted by `line_offset`). Text that no
    file or model can hold (a `\\uDCFF` escape: a lone surrogate) is refused here, as the
    dataset build's C loader refuses it, so `ga doctor` and the build agree."""
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else None
        detail = (exc.problem or exc.context or "invalid YAML").strip()
        raise LedgerFormatError(path, line, f"invalid YAML: {detail}") from exc
    except YAMLError as exc:
        raise LedgerFormatError(path, None, f"invalid YAML: {exc}") from exc
    where = unencodable(data)
    if where is not None:
        line = key_line(data, where, line_offset + 1) if where else None
        raise LedgerFormatError(
            path,
            line,
            f"`{where or 'a value'}` holds a lone surrogate (a byte that was not UTF-8)",
            "retype that text, then run `ga doctor`",
        )
    return data


def unencodable(data: Any, key: str = "") -> str | None:
    """The top-level key (or "" at the top) of the first text that holds a lone surrogate."""
    if isinstance(data, str):
        return key if has_surrogate(data) else None
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and has_surrogate(k):
                return key or "a key"
            found = unencodable(v, key or str(k))
            if found is not None:
                return found
    if isinstance(data, list):
        for v in data:
            found = unencodable(v, key)
            if found is not None:
                return found
    return None


def dump(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def literal(text: str) -> Any:
    """A multi-line string written as a YAML block (`|`), readable in diffs."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    return LiteralScalarString(text) if "\n" in text else text


def block_field(key: str, text: str) -> str:
    """`key: |` and `text` as an indented YAML block, written out by hand (a dumper writes an
    empty block as `|2+`): any text is safe in it, `: ` and `#` too, and an empty one has an
    indented blank line to write on."""
    lines = text.rstrip("\n").split("\n") if text.strip() else [""]
    first = next((line for line in lines if line.strip()), "")
    indicator = "2" if first[:1] in (" ", "\t") else ""  # else YAML would take it as the indent
    return f"{key}: |{indicator}\n" + "".join(
        f"  {line}".rstrip(" ") + "\n" if line else "  \n" for line in lines
    )


def front_matter(text: str, path: str) -> tuple[str, str]:
    """Split `---\\n<yaml>\\n---\\n<body>` into (the YAML text, the body); the YAML's first
    line is line 2 of the file. The one splitter both ledger parsers use."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise LedgerFormatError(path, 1, "expected front matter starting with a `---` line")
    for end in range(1, len(lines)):
        if lines[end].strip() == FENCE:
            break
    else:
        raise LedgerFormatError(path, 1, "front matter is not closed by a second `---` line")
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]).strip("\n")


def split_front_matter(text: str, path: str) -> tuple[CommentedMap, str, int]:
    """Front matter parsed round-trip; returns (meta, body, line of the first YAML line)."""
    head, body = front_matter(text, path)
    meta = load(head, path, line_offset=1)
    if meta is None:
        meta = CommentedMap()
    if not isinstance(meta, CommentedMap):
        raise LedgerFormatError(path, 2, "front matter must be a mapping of `key: value` lines")
    return meta, body, 2


def join_front_matter(meta: Any, body: str) -> str:
    return f"{FENCE}\n{dump(meta)}{FENCE}\n{body.rstrip()}\n"


def key_line(data: Any, key: str, offset: int = 1) -> int | None:
    """1-based line of `key` in a round-trip mapping (plus `offset - 1` for front matter)."""
    try:
        return data.lc.key(key)[0] + offset
    except (AttributeError, KeyError, TypeError):
        return None


def iso(value: Any) -> str:
    """A time as `YYYY-MM-DDTHH:MM:SSZ`, whether YAML gave a string or a timestamp."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    return str(value)


def plain(value: Any) -> Any:
    """Round-trip YAML data as plain dicts, lists, strings and numbers (for JSON output)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float):
        return float(value)
    return value
