"""The one way ga runs git: GitPython's command runner (imported lazily: `ga --help` does not
pay for it). Failures become a one-line GaError naming the git command."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from ga_cli.errors import GaError


def _runner(root: str | Path | None) -> Any:
    import git

    return git.Git(str(root) if root is not None else None)


def run(root: str | Path | None, *args: str) -> str:
    """git's stdout (the last newline stripped); GaError when it fails."""
    import git

    try:
        return str(_runner(root).execute(["git", *args], strip_newline_in_stdout=True))
    except git.GitCommandError as exc:
        detail = (exc.stderr or exc.stdout or str(exc)).strip().strip("'").strip()
        lines = detail.removeprefix("stderr:").strip().strip("'").splitlines()
        raise GitFailed(args[0], lines[-1] if lines else str(exc.status), detail) from exc


class GitFailed(GaError):
    def __init__(self, command: str, last_line: str, detail: str):
        super().__init__(f"git {command} failed: {last_line}")
        self.detail = detail


def status(root: str | Path | None, *args: str, timeout: float | None = None) -> tuple[int, str]:
    """(exit status, stdout) of a git command whose failure is an answer, not an error."""
    code, out, _ = _runner(root).execute(
        ["git", *args],
        with_extended_output=True,
        with_exceptions=False,
        strip_newline_in_stdout=False,
        kill_after_timeout=timeout,
    )
    return int(code), str(out)


def batch(root: str | Path) -> Any:
    """A `git cat-file --batch` process (stdin: object names, stdout: their contents)."""
    return _runner(root).execute(
        ["git", "cat-file", "--batch"], as_process=True, istream=subprocess.PIPE
    )
