"""Exceptions the job ledger treats specially."""


class PermanentError(Exception):
    """Retrying will not help (bad input, a permanent HTTP 4xx, a rejected answer): the job dies at once."""
