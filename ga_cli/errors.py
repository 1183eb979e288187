"""The one exception type the CLI turns into a one-line message (see cli/app.py)."""


class GaError(Exception):
    """A problem the principal can act on: `message` says what is wrong, `hint` what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class ProviderError(GaError):
    """A remote provider's refusal or failure; `status` is the HTTP status it answered with
    (502 where it answered none), which `ga serve` passes on to its own client."""

    def __init__(self, message: str, hint: str | None = None, status: int = 502):
        super().__init__(message, hint)
        self.status = status if 400 <= status < 600 else 502


def has_surrogate(text: str) -> bool:
    """Text holding a lone surrogate: how Python keeps bytes that were not UTF-8 (in argv, or
    from a `\\uDCFF` escape in YAML). No file, commit or model can take it."""
    return any("\ud800" <= c <= "\udfff" for c in text)


class NotUtf8(GaError):
    """`what` holds bytes that are not UTF-8: refused before anything is written."""

    def __init__(self, what: str):
        super().__init__(
            f"{what} is not valid UTF-8 text; nothing was done",
            "type it again, or set the terminal's encoding to UTF-8 (LANG=C.UTF-8)",
        )


class TrainingStopped(GaError):
    """Ctrl-C during training: a checkpoint was saved; `ga train --resume` continues."""

    def __init__(self, folder: object = None):
        super().__init__(
            "training stopped; a checkpoint was kept", "continue it with `ga train --resume`"
        )
        self.folder = folder


class LedgerFormatError(GaError):
    """A ledger file that does not parse or does not match its schema, with its path and line."""

    def __init__(self, path: str, line: int | None, message: str, hint: str | None = None):
        where = f"{path}:{line}" if line else path
        super().__init__(
            f"{where}: {message}", hint or "fix the file by hand, then run `ga doctor`"
        )
        self.path = path
        self.line = line
        self.detail = message
