"""The codebase's size limits (issue 25): every function under 80 lines, every module under
400. Ruff checks statements and branches (PLR0915, PLR0912); lines are counted here, as ruff has
no rule for them. A long function is split into named steps, not given an exception."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ga_cli"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400


def _sizes() -> tuple[list[str], list[str]]:
    long_functions, long_modules = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE.parent)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long_functions.append(f"{where}:{node.lineno} {node.name}: {lines} lines")
    return long_functions, long_modules


def test_no_function_over_80_lines_and_no_module_over_400():
    long_functions, long_modules = _sizes()
    assert not long_functions, "split these into named steps:\n" + "\n".join(long_functions)
    assert not long_modules, "split these modules:\n" + "\n".join(long_modules)


def test_the_check_sees_a_long_function(tmp_path, monkeypatch):
    """The counter itself: a 90-line function in a package is reported."""
    pkg = tmp_path / "ga_cli"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(90))
    (pkg / "long.py").write_text(f"def long():\n{body}\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    long_functions, _ = _sizes()
    assert long_functions == ["ga_cli/long.py:1 long: 91 lines"]
