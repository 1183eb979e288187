"""`ga serve`: the personal model behind an OpenAI-compatible HTTP API on 127.0.0.1."""
