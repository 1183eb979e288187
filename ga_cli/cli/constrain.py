"""`ga ask --schema` and `--json-mode`: the answer constrained to JSON, checked as `ga serve`
checks a `response_format` (serve.requests.schema_grammar) and run on llama.cpp."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional


def answer_format(schema: Optional[str], json_mode: bool) -> Optional[str]:
    """The grammar --schema (inline JSON or a file) or --json-mode asks for, checked as `ga
    serve` checks a response_format."""
    import json

    from ga_cli.errors import GaError
    from ga_cli.serve.requests import schema_grammar

    if schema is None:
        return schema_grammar(None) if json_mode else None
    text = schema
    if not schema.lstrip().startswith("{"):
        try:
            text = Path(schema).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GaError(
                f"--schema {schema}: cannot read it ({exc})", "give JSON or a file"
            ) from exc
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise GaError(f"--schema: not JSON ({exc})", "give a JSON schema object") from exc
    if not isinstance(parsed, dict):
        raise GaError("--schema: a JSON schema is an object", 'e.g. {"type": "object"}')
    try:
        return schema_grammar(parsed)
    except GaError as exc:
        raise GaError(f"--schema: {exc.message}", exc.hint) from exc


def constrained(backend: Any, params: Any, grammar: str) -> Any:
    """`params` with the grammar, where the backend can follow one (llama.cpp); the grammar is
    tried in a child process first, as `ga serve` does."""
    from dataclasses import replace

    from ga_cli.errors import GaError
    from ga_cli.models import grammar_probe

    if backend.engine != "llama.cpp" or not backend.model_path:
        raise GaError(
            f"--schema and --json-mode need the llama.cpp engine; {backend.name} runs on "
            f"{backend.engine}",
            "add --engine llama.cpp with a local model",
        )
    grammar_probe.check(backend.model_path, grammar)
    return replace(params, grammar=grammar)
