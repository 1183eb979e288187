"""The one way ga runs git: GitPython's command runner (imported lazily: `ga --help` does not
pay for it). Failures become a one-line GaError naming the git command; a machine without git
gets one error that says so, from every caller."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ga_cli.errors import GaError


class GitFailed(GaError):
    def __init__(self, command: str, last_line: str, detail: str):
        super().__init__(f"git {command} failed: {last_line}")
        self.detail = detail


def _no_git() -> GaError:
    return GaError(
        "git is not installed (ga keeps the ledger in git)",
        "install git, then run the command again",
    )


def _module() -> Any:
    """GitPython (it refuses to import where there is no git executable)."""
    try:
        import git
    except ImportError as exc:
        raise _no_git() from exc
    return git


@contextmanager
def _git(root: str | Path | None) -> Iterator[Any]:
    """GitPython's runner in `root`; git missing from the machine is a GaError."""
    git = _module()
    try:
        yield git.Git(str(root) if root is not None else None)
    except git.GitCommandNotFound as exc:
        raise _no_git() from exc


def run(root: str | Path | None, *args: str) -> str:
    """git's stdout (the last newline stripped); GaError when it fails."""
    git = _module()
    with _git(root) as runner:
        try:
            return str(runner.execute(["git", *args], strip_newline_in_stdout=True))
        except git.GitCommandError as exc:
            detail = (exc.stderr or exc.stdout or str(exc)).strip().strip("'").strip()
            lines = detail.removeprefix("stderr:").strip().strip("'").splitlines()
            raise GitFailed(args[0], lines[-1] if lines else str(exc.status), detail) from exc


def status(root: str | Path | None, *args: str, timeout: float | None = None) -> tuple[int, str]:
    """(exit status, stdout) of a git command whose failure is an answer, not an error."""
    with _git(root) as runner:
        code, out, _ = runner.execute(
            ["git", *args],
            with_extended_output=True,
            with_exceptions=False,
            strip_newline_in_stdout=False,
            kill_after_timeout=timeout,
        )
    return int(code), str(out)


def batch(root: str | Path) -> Any:
    """A `git cat-file --batch` process (stdin: object names, stdout: their contents)."""
    with _git(root) as runner:
        return runner.execute(
            ["git", "cat-file", "--batch"], as_process=True, istream=subprocess.PIPE
        )
