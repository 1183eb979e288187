"""Every test gets its own GA_HOME (ledger, sessions, models) and a clean git environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
GA = [sys.executable, "-m", "ga_cli"]


@pytest.fixture(autouse=True)
def ga_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("ga_home")
    monkeypatch.setenv("GA_HOME", str(home))
    monkeypatch.delenv("GA_LEDGER", raising=False)
    monkeypatch.delenv("GA_DEBUG", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GA_CACHE_DIR", str(REPO / ".cache" / "test"))
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def ga(runner):
    """Invoke ga in-process; returns the Result (stdout and stderr kept apart)."""
    from ga_cli.cli import app

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(app, list(args), input=input, env=env, prog_name="ga")

    return invoke


@pytest.fixture
def ledger(ga, ga_home):
    from ga_cli.ledger.store import Ledger

    result = ga("init", "--name", "Test Principal", "--email", "p@example.org")
    assert result.exit_code == 0, result.stderr
    return Ledger.open()


def run_ga(*args: str, input: str | None = None, env: dict | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    """ga as a real process, as a shell pipeline would run it."""
    return subprocess.run([*GA, *args], input=input, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=REPO)


def commits(ledger) -> list[str]:
    return ledger.git("log", "--format=%s").splitlines()
