"""ga: a personal guardian angel that learns its principal from a git-versioned ledger."""

__version__ = "0.1.0"
