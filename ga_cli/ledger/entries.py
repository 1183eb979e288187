"""Ledger entries: what each kind looks like on disk, how it parses, and its schema."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Callable

from ruamel.yaml.comments import CommentedMap

from ga_cli.errors import LedgerFormatError, NotUtf8
from ga_cli.fileio import yamlio
from ga_cli.ledger import secrets_guard
from ga_cli.ledger.kinds import (
    BY_DIRECTORY,
    ID_RE,
    KINDS,
    PROVENANCES,
    STATUSES,
    Kind,
)


def new_id(kind: Kind) -> str:
    return f"{kind.prefix}-{secrets.token_hex(4)}"


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def slugify(text: str, limit: int = 40) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug[:limit].rstrip("-")) or "entry"


def is_lesson(kind: str, meta: Any) -> bool:
    """A lesson: a derived entry stating a rule for every answer (`type: lesson`)."""
    return kind == "derived" and meta.get("type") == "lesson"


def new_lesson(source: Entry, lesson: str, provenance: str, status: str) -> Entry:
    """A lesson drawn from the correction `source` (by the principal, or proposed by a
    teacher): a derived entry that goes into the system prompt and the training data."""
    fields = {"type": "lesson", "source": source.id, "lesson": lesson}
    return new_entry("derived", fields, provenance=provenance, status=status)


def by_priority(value: Fields) -> tuple[int, str]:
    """The order values are shown and honoured in: priority 1 first, then the oldest."""
    return value.priority, value.created


class Fields:
    """What an entry says, for both readers (Entry here, the build's snapshot.Item): its id,
    dates and text fields, without reaching into `meta` by key everywhere."""

    meta: Any
    body: str | None

    @property
    def kind_name(self) -> str:
        raise NotImplementedError

    @property
    def trusted(self) -> bool:
        """May shape the model: the ledger's one trust rule (`untrusted`), on a valid entry."""
        raise NotImplementedError

    @property
    def id(self) -> str:
        return str(self.meta.get("id") or "")

    @property
    def created(self) -> str:
        return iso(self.meta.get("created") or "")

    @property
    def is_lesson(self) -> bool:
        return is_lesson(self.kind_name, self.meta)

    def text(self, key: str) -> str:
        """A text field ("" when absent or empty)."""
        value = self.meta.get(key)
        return "" if value is None else str(value)

    def items(self, key: str) -> list[Any]:
        """A list field (tags, answers, also_rejected; [] when absent)."""
        value = self.meta.get(key)
        return list(value) if isinstance(value, list) else []

    @property
    def priority(self) -> int:
        """A value's priority, 1 (highest) to 5; 3 when not given."""
        return int(self.meta.get("priority") or 3)


@dataclass
class Entry(Fields):
    kind: Kind
    path: str  # relative to the ledger root, with forward slashes
    meta: Any  # CommentedMap: front matter, or the whole YAML document
    body: str | None = None
    first_line: int = 1  # file line of the first YAML line (2 under a front-matter fence)

    @property
    def kind_name(self) -> str:
        return self.kind.name

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "active"))

    @property
    def provenance(self) -> str:
        return str(self.meta.get("provenance", "principal"))

    @property
    def trusted(self) -> bool:
        """May shape the model: valid (see `check`) and allowed by `untrusted`."""
        return not problems(self) and untrusted(self.meta) is None

    def summary(self) -> str:
        """One line that says what the entry is about."""
        kind, meta = self.kind.name, self.meta
        if kind == "value":
            text = self.body
        elif kind == "interview":
            text = f"{len(meta.get('answers') or [])} answers"
        elif kind == "derived":
            text = meta.get("lesson") or meta.get("prompt")
        else:  # example, correction
            text = meta.get("prompt")
        return " ".join(str(text or "").split())

    def line_of(self, key: str) -> int | None:
        return yamlio.key_line(self.meta, key, self.first_line)

    def render(self) -> str:
        if self.kind.markdown:
            return yamlio.join_front_matter(self.meta, self.body or "")
        return yamlio.dump(self.meta)

    def as_dict(self) -> dict[str, Any]:
        data = {k: yamlio.plain(v) for k, v in self.meta.items()}
        if self.kind.markdown:
            data[self.kind.body_name or "body"] = self.body
        data["kind"] = self.kind.name
        data["path"] = self.path
        return data


iso = yamlio.iso


def kind_of_path(path: str) -> Kind | None:
    """The kind a ledger-relative path holds, or None for files that are not entries."""
    parts = path.split("/")
    kind = BY_DIRECTORY.get(parts[0])
    if kind is None or len(parts) < 2 or parts[-1].startswith((".", "README")):
        return None
    suffix = ".md" if kind.markdown else (".yaml", ".yml")
    return kind if parts[-1].endswith(suffix) else None


def decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LedgerFormatError(
            path, line, "file is not valid UTF-8", "re-save it as UTF-8 in your editor"
        ) from exc


def parse(kind: Kind, path: str, text: str) -> Entry:
    """Parse one file's text; raises LedgerFormatError naming `path:line`."""
    if kind.markdown:
        meta, body, first = yamlio.split_front_matter(text, path)
        return Entry(kind, path, meta, body, first)
    meta = yamlio.load(text, path)
    if not isinstance(meta, dict):
        raise LedgerFormatError(path, 1, "expected a mapping of `key: value` lines")
    return Entry(kind, path, meta, None, 1)


def fast_yaml() -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=False)


def parse_fast(kind: Kind, path: str, raw: bytes, y: Any) -> tuple[dict[str, Any], str | None]:
    """(meta, body) of one entry read with the C-backed safe loader (the dataset build's
    reader): the same splitter, schema (`check`) and messages as the round-trip `parse` that
    `ga doctor` uses, which also runs this one, so what the build refuses doctor reports.
    Lines of schema problems come from the round-trip parser (only invalid files pay for it)."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    text = decode(raw, path)
    offset = 1 if kind.markdown else 0
    try:
        if kind.markdown:
            head, body = yamlio.front_matter(text, path)
            meta = y.load(head)
            if meta is None:
                meta = {}
        else:
            meta, body = y.load(text), None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark else None
        raise LedgerFormatError(path, line, f"invalid YAML: {exc.problem or exc.context}") from exc
    except YAMLError as exc:
        raise LedgerFormatError(path, None, f"invalid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise LedgerFormatError(path, 1 + offset, "expected a mapping of `key: value` lines")
    if check(kind, meta, body, 1 + offset) or yamlio.unencodable(meta) is not None:
        entry = parse(kind, path, text)  # the round-trip parser knows every key's line
        line, message = (problems(entry) or check(kind, meta, body, 1 + offset))[0]
        raise LedgerFormatError(path, line, message)
    return meta, body


def problems(entry: Entry) -> list[tuple[int | None, str]]:
    """Schema problems of a parsed entry as (line, message); empty when it is valid."""
    return check(entry.kind, entry.meta, entry.body, entry.first_line, entry.line_of)


def check(
    kind: Kind,
    meta: Any,
    body: str | None,
    first_line: int = 1,
    line_of: Callable[[str], int | None] = lambda key: None,
) -> list[tuple[int | None, str]]:
    """The ledger schema, for both parsers (round-trip and the dataset build's fast one):
    every problem of one entry's data as (line, message). An entry with any is never trusted."""
    found: list[tuple[int | None, str]] = []
    for key, typ in kind.fields.items():
        if key not in meta or meta[key] in (None, ""):
            found.append((first_line, f"missing required field `{key}`"))
        elif not _is(meta[key], typ):
            found.append((line_of(key), f"`{key}` must be {_type_name(typ)}"))
    for key, typ in kind.optional.items():
        if meta.get(key) is not None and not _is(meta[key], typ):
            found.append((line_of(key), f"`{key}` must be {_type_name(typ)}"))
    if isinstance(meta.get("id"), str) and not ID_RE.match(meta["id"]):
        found.append((line_of("id"), f"`id` must look like `{kind.prefix}-1a2b3c4d`"))
    if isinstance(meta.get("status"), str) and meta["status"] not in STATUSES:
        found.append((line_of("status"), f"`status` must be one of {', '.join(STATUSES)}"))
    if isinstance(meta.get("provenance"), str) and meta["provenance"] not in PROVENANCES:
        found.append(
            (line_of("provenance"), f"`provenance` must be one of {', '.join(PROVENANCES)}")
        )
    if isinstance(meta.get("created"), str) and not _is_iso(str(meta["created"])):
        found.append((line_of("created"), "`created` must be an ISO 8601 UTC time"))
    if kind.markdown and not (body or "").strip():
        found.append((first_line, f"the {kind.body_name} below the front matter is empty"))
    return found


def untrusted(meta: Any) -> str | None:
    """The one trust rule, an allow-list: None when the entry may shape the model (prompt,
    datasets, training), else why not. Call it only on entries that passed `check`.

    Trusted: status `active`, and written by the principal or approved by them (`ga review`)."""
    status = meta.get("status")
    if status != "active":
        return str(status) if status in STATUSES else "invalid-status"
    provenance = meta.get("provenance")
    if provenance == "principal":
        return None
    if provenance in PROVENANCES and meta.get("approved") not in (None, ""):
        return None
    return f"{provenance}-unapproved" if provenance in PROVENANCES else "invalid-provenance"


def _is(value: Any, typ: type | tuple[type, ...]) -> bool:
    """isinstance, except that true/false is not a number (YAML's `priority: yes`)."""
    types = typ if isinstance(typ, tuple) else (typ,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _type_name(typ: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        int: "a whole number",
        list: "a list",
        dict: "a mapping",
        datetime: "a time",
    }
    types = typ if isinstance(typ, tuple) else (typ,)
    return " or ".join(names.get(t, t.__name__) for t in types)


def new_entry(
    kind_name: str,
    fields: dict[str, Any],
    body: str | None = None,
    provenance: str = "principal",
    status: str = "active",
) -> Entry:
    """A fresh entry with id, created, status and provenance filled in, and its path chosen."""
    kind = KINDS[kind_name]
    bad = yamlio.unencodable({**fields, "text": body or ""})
    if bad is not None:
        raise NotUtf8(f"`{bad}`")
    meta = CommentedMap()
    meta["id"] = new_id(kind)
    meta["created"] = now_iso()
    meta["status"] = status
    meta["provenance"] = provenance
    for key, value in fields.items():
        if value is not None:
            meta[key] = yamlio.literal(value) if isinstance(value, str) else value
    title = (
        body
        if kind.markdown and kind.name == "value"
        else (fields.get("prompt") or fields.get("type") or kind.name)
    )
    return Entry(kind, entry_path(kind, meta, str(title)), meta, body, 2 if kind.markdown else 1)


def entry_path(kind: Kind, meta: Any, title: str) -> str:
    slug = slugify(secrets_guard.redact(title))  # a file name never repeats a secret
    if not kind.dated:
        return f"{kind.directory}/{slug}-{meta['id'][2:6]}.md"
    stamp = meta["created"].replace("-", "").replace(":", "").replace("Z", "")
    created = meta["created"]
    return f"{kind.directory}/{created[:4]}/{created[5:7]}/{stamp}-{slug}-{meta['id'][2:6]}.yaml"
