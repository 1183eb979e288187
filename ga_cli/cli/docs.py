"""Generate docs/cli.md from every command's --help, so the reference never drifts.

Run `make docs` (python -m ga_cli.cli.docs > docs/cli.md); a test checks the file is current.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.testing import CliRunner


def _walk(cmd: Any, path: list[str]) -> list[list[str]]:
    found = [path]
    if hasattr(cmd, "commands"):
        for name in cmd.list_commands(None):
            found += _walk(cmd.commands[name], path + [name])
    return found


def render() -> str:
    from ga_cli.cli.app import app

    os.environ["COLUMNS"] = "100"
    os.environ["TERM"] = "dumb"
    root = typer.main.get_command(app)
    runner = CliRunner()
    parts = [
        "# ga command reference\n",
        "Generated from `--help` by `make docs`; a test fails when it drifts.\n",
    ]
    for path in _walk(root, []):
        result = runner.invoke(
            app,
            [*path, "--help"],
            prog_name="ga",
            env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"},
        )
        title = " ".join(["ga", *path])
        lines = [line.rstrip() for line in result.stdout.splitlines()]
        parts.append(f"## `{title}`\n\n```text\n" + "\n".join(lines).strip("\n") + "\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
