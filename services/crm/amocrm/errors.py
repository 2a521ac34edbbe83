"""What a call to amoCRM can end in besides an answer: unavailable, the account
blocked, a refusal, credentials that no longer work."""

from __future__ import annotations

from datetime import datetime

from leadrouter.errors import LeadrouterError, Unavailable


class AmoUnavailable(Unavailable):
    """amoCRM did not answer in time or kept answering 429/5xx."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AmoBlocked(AmoUnavailable):
    """amoCRM refuses the whole account (403 block, 402 not paid), not a request."""

    def __init__(
        self, message: str, status: int, not_before: datetime | None = None
    ) -> None:
        super().__init__(message, status)
        self.not_before = not_before


class AmoRefused(LeadrouterError):
    """amoCRM answered with an error that retrying will not fix."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AmoAuthFailed(AmoRefused):
    """The integration's credentials no longer work: someone must authorize it again."""
