"""Domain errors every service raises and every entry point translates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None  # where in a file (from 1), when it came from one

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class LeadrouterError(Exception):
    """Base of the errors a person can act on; the message is shown to callers."""


class BadInput(LeadrouterError):
    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class NotFound(LeadrouterError):
    pass


class Forbidden(LeadrouterError):
    pass


class Unauthenticated(LeadrouterError):
    pass


class Unavailable(LeadrouterError):
    pass


class Conflict(LeadrouterError):
    pass
