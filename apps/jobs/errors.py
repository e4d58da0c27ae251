"""Exceptions the job ledger treats specially, and how a failure is summarised for the ledger."""

import traceback
from dataclasses import dataclass


class PermanentError(Exception):
    """Retrying will not help (bad input, a permanent HTTP 4xx, a rejected answer): the job dies at once."""


@dataclass(frozen=True)
class ErrorSummary:
    error_class: str
    error_message: str
    traceback: str

    def as_fields(self) -> dict[str, str]:
        return {"error_class": self.error_class, "error_message": self.error_message, "traceback": self.traceback}

    def __str__(self):
        return f"{self.error_class}: {self.error_message}"


def error_summary(exception: BaseException) -> ErrorSummary:
    """The class (qualified unless built in), message and traceback of a failure, cut to the ledger's sizes."""
    cls = type(exception)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    text = "".join(traceback.format_exception(exception))
    return ErrorSummary(name[:200], str(exception)[:5000], text[-50_000:])
