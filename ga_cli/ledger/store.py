"""The ledger: a git repository of plain files. Every change is one commit, made under a lock."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ga_cli import paths
from ga_cli.errors import GaError, LedgerFormatError, NotUtf8, has_surrogate
from ga_cli.fileio import atomic_write, yamlio
from ga_cli.ledger import entries as E
from ga_cli.ledger import gitrun, hooks, secrets_guard
from ga_cli.ledger.config import LedgerConfig
from ga_cli.ledger.lock import LedgerLock

LOCK_FILE = ".ga/lock"
CONFIG_FILE = ".ga/config.yaml"


@dataclass
class Commit:
    sha: str
    when: str
    message: str
    files: list[str]

    @property
    def kinds(self) -> list[str]:
        found = {k.name for f in self.files if (k := E.kind_of_path(f))}
        if any(f in ("principal.yaml", CONFIG_FILE) for f in self.files):
            found.add("principal" if "principal.yaml" in self.files else "config")
        return sorted(found) or ["ledger"]


class Ledger:
    def __init__(self, root: Path):
        self.root = root

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | None = None) -> Ledger:
        root = (path or paths.ledger_dir()).expanduser()
        if not root.exists():
            raise GaError(f"no ledger at {root}", "create one with `ga init`")
        if not root.is_dir():
            raise GaError(
                f"the ledger path {root} is a file, not a directory",
                "move the file away, or point GA_LEDGER at a directory",
            )
        if not (root / ".git").is_dir():
            raise GaError(
                f"{root} is not a ga ledger (no .git directory)",
                "run `ga init` on an empty directory, or set GA_LEDGER",
            )
        ledger = cls(root)
        try:
            ledger.git("rev-parse", "--git-dir")
        except GaError as exc:
            raise GaError(
                f"the git repository in {root} is corrupt: {exc.message}",
                "repair it with git (`git fsck`), or restore it from your remote",
            ) from exc
        return ledger

    @classmethod
    def init(
        cls,
        path: Path | None,
        name: str | None = None,
        email: str | None = None,
        remote: str | None = None,
    ) -> Ledger:
        root = (path or paths.ledger_dir()).expanduser()
        if root.exists() and not root.is_dir():
            raise GaError(f"{root} is a file, not a directory", "choose another path")
        if root.is_dir() and any(root.iterdir()):
            raise GaError(
                f"{root} is not empty; refusing to overwrite it", "choose an empty or new directory"
            )
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(paths.template_dir(), root, dirs_exist_ok=True)
        for folder, _, files in os.walk(root):  # copytree copies the template's modes:
            os.chmod(folder, 0o700)  # make all of it private
            for file in files:
                os.chmod(os.path.join(folder, file), 0o600)
        ledger = cls(root)
        ledger.git("init", "-q", "-b", "main")
        name = (
            name or os.environ.get("GIT_AUTHOR_NAME") or _git_global("user.name") or "ga principal"
        )
        email = (
            email
            or os.environ.get("GIT_AUTHOR_EMAIL")
            or _git_global("user.email")
            or "principal@localhost"
        )
        ledger.git("config", "user.name", name)
        ledger.git("config", "user.email", email)
        principal = yamlio.load((root / "principal.yaml").read_text(), "principal.yaml")
        principal["name"] = name
        atomic_write(root / "principal.yaml", yamlio.dump(principal).encode())
        if remote:
            ledger.git("remote", "add", "origin", remote)
        ledger.git("add", "-A")
        ledger.git("commit", "-q", "--no-verify", "-m", "Create the ledger from the ga template.")
        return ledger

    # -- git ----------------------------------------------------------------------------------
    def git(self, *args: str) -> str:
        """Run git in the ledger (gitrun); git's own stale lock gets its own message."""
        try:
            return gitrun.run(self.root, *args)
        except gitrun.GitFailed as exc:
            if "index.lock" in exc.detail and "exists" in exc.detail.lower():
                raise stray_index_lock(self.root) from exc
            raise

    def head(self) -> str | None:
        try:
            return self.git("rev-parse", "HEAD")
        except GaError:
            return None

    def revision(self) -> tuple[int, ...]:
        """A stamp that changes with every commit and staged change (file times only:
        microseconds), for what long-running processes cache from the ledger."""
        git = self.root / ".git"
        stamps = []
        for p in (git / "index", git / "HEAD", git / "logs" / "HEAD"):
            try:
                stamps.append(p.stat().st_mtime_ns)
            except OSError:
                stamps.append(0)
        return tuple(stamps)

    def dirty_files(self) -> list[str]:
        out = self.git("status", "--porcelain=v1", "-z", "--untracked-files=all")
        files = []
        for item in out.split("\0"):
            if len(item) > 3:
                files.append(item[3:])
        return [f for f in files if f and not f.startswith(".ga/lock")]

    def has_remote(self) -> bool:
        return bool(self.git("remote").strip())

    # -- changing -----------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[LedgerLock]:
        with LedgerLock(self.root / LOCK_FILE, self.root / ".git") as lock:
            yield lock

    def commit_hand_edits(self, allow_secret: bool = False) -> str | None:
        """Commit whatever the principal changed by hand; call it holding the lock."""
        dirty = self.dirty_files()
        if not dirty:
            return None
        for rel in dirty:
            p = self.root / rel
            if p.is_file():
                secrets_guard.check(rel, p.read_bytes().decode("utf-8", "replace"), allow_secret)
        self.git("add", "-A")
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        self.git(
            "commit", "-q", "--no-verify", "-m", f"Commit hand edits found in the ledger: {shown}."
        )
        return shown

    def change(
        self,
        message: str,
        writes: dict[str, str] | None = None,
        removes: list[str] | None = None,
        allow_secret: bool = False,
    ) -> str:
        """Write files atomically and commit them as one commit; returns the new HEAD sha."""
        writes, removes = writes or {}, removes or []
        for rel, text in [("the commit message", message), *writes.items()]:
            if has_surrogate(text):
                raise NotUtf8(rel)
        for rel, text in writes.items():
            secrets_guard.check(rel, text, allow_secret)
        secrets_guard.check("commit message", message, allow_secret)
        with self.locked():
            self.commit_hand_edits(allow_secret)
            for rel, text in writes.items():
                atomic_write(self.root / rel, text.encode("utf-8"))
            for rel in removes:
                (self.root / rel).unlink(missing_ok=True)
            self.git("add", "-A", "--", *writes.keys(), *removes)
            self.git("commit", "-q", "--no-verify", "-m", message)
            sha = self.git("rev-parse", "HEAD")
        for hook in hooks.after_change:
            hook(self)
        return sha

    # -- reading ------------------------------------------------------------------------------
    def read(self, rel: str) -> str:
        return E.decode((self.root / rel).read_bytes(), rel)

    def entry_files(self, kind: str | None = None) -> list[str]:
        kinds = [E.KINDS[kind]] if kind else list(E.KINDS.values())
        found = []
        for k in kinds:
            base = self.root / k.directory
            if base.is_dir():
                for p in base.rglob("*"):
                    rel = p.relative_to(self.root).as_posix()
                    if p.is_file() and E.kind_of_path(rel) is k:
                        found.append(rel)
        return sorted(found)

    def load(self, rel: str) -> E.Entry:
        kind = E.kind_of_path(rel)
        if kind is None:
            raise GaError(f"{rel} is not a ledger entry")
        return E.parse(kind, rel, self.read(rel))

    def entries(self, kind: str | None = None, include_retired: bool = True) -> list[E.Entry]:
        """Every entry of a kind; a malformed file raises LedgerFormatError naming it."""
        out = [self.load(rel) for rel in self.entry_files(kind)]
        return out if include_retired else [e for e in out if e.status != "retired"]

    def scan(self) -> tuple[list[E.Entry], list[LedgerFormatError]]:
        """Every entry that parses, and every problem found, for doctor and status."""
        good, bad = [], []
        for rel in self.entry_files():
            try:
                entry = self.load(rel)
            except LedgerFormatError as exc:
                bad.append(exc)
                continue
            issues = E.problems(entry)
            bad.extend(LedgerFormatError(rel, line, msg) for line, msg in issues)
            if not issues:
                good.append(entry)
        return good, bad

    def find(self, ident: str) -> E.Entry:
        """The entry whose id is `ident` or starts with it (at least 3 characters)."""
        ident = ident.strip()
        if len(ident) < 3:
            raise GaError(f"id `{ident}` is too short", "give at least 3 characters, e.g. v-1a2")
        matches = []
        for rel in self.entry_files():
            try:
                entry = self.load(rel)
            except LedgerFormatError:
                continue
            if entry.id.startswith(ident):
                matches.append(entry)
        if not matches:
            raise GaError(
                f"no entry with id `{ident}`", "list ids with `ga values list` or `ga log`"
            )
        if len(matches) > 1:
            ids = ", ".join(m.id for m in matches[:5])
            raise GaError(f"id `{ident}` is ambiguous: {ids}", "give more characters of the id")
        return matches[0]

    def history(self, limit: int | None = None, path: str | None = None) -> list[Commit]:
        args = ["log", "--format=%x1e%H%x1f%aI%x1f%s", "--name-only"]
        if limit:
            args.append(f"-n{limit}")
        if path:
            args += ["--", path]
        out = self.git(*args) if self.head() else ""
        commits = []
        for block in out.split("\x1e")[1:]:
            header, _, files = block.partition("\n")
            sha, when, message = header.split("\x1f", 2)
            commits.append(Commit(sha, when, message, [f for f in files.split("\n") if f]))
        return commits

    # -- principal and config -----------------------------------------------------------------
    def principal(self) -> Any:
        return yamlio.load(self.read("principal.yaml"), "principal.yaml") or {}

    def config(self) -> LedgerConfig:
        """The ledger's settings, typed."""
        return LedgerConfig.from_mapping(self.config_document())

    def config_document(self) -> Any:
        """.ga/config.yaml as written (a round-trip mapping: its comments survive a rewrite)."""
        p = self.root / CONFIG_FILE
        return (yamlio.load(self.read(CONFIG_FILE), CONFIG_FILE) if p.exists() else None) or {}


INDEX_LOCK = ".git/index.lock"


def stray_index_lock(root: Path, shown: str | None = None) -> LedgerFormatError:
    """git's own lock left in the ledger; `shown`: how to name it (default: its full path)."""
    lock = root / INDEX_LOCK
    return LedgerFormatError(
        shown or str(lock),
        None,
        "git's lock file exists: a git command is running in the ledger, or one crashed and "
        "left it behind",
        f"if no git or ga command is working on the ledger, remove it: rm {lock}",
    )


def _git_global(key: str) -> str | None:
    try:
        code, out = gitrun.status(None, "config", "--global", key, timeout=5)
    except (OSError, GaError):  # no git here: no identity to borrow
        return None
    return out.strip() or None if code == 0 else None
