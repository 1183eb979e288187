"""The one exception type the CLI turns into a one-line message (see cli/app.py)."""


class GaError(Exception):
    """A problem the principal can act on: `message` says what is wrong, `hint` what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


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
