"""The deadline of the call being served, for the calls it makes in turn.

A service answering a call with 3 s left gains nothing from waiting 10 s on
the next service down: the caller has given up by then. The server kit
notes when its caller gives up; the client kit gives each call it makes no
more than that. The note belongs to the task that serves the call: work it
hands to a task of its own (a settler, a follower) outlives the call, and
keeps its own deadlines.
"""

from __future__ import annotations

import asyncio
import contextvars
import time

# The serving task, and the monotonic time its caller gives up at.
Mark = tuple[object, float] | None
_caller: contextvars.ContextVar[Mark] = contextvars.ContextVar(
    "leadrouter_caller_deadline", default=None
)


def serving(remaining: float | None) -> contextvars.Token[Mark]:
    """Notes the served call's time left (None: its caller set no deadline)."""
    mark = None if remaining is None else (_task(), time.monotonic() + remaining)
    return _caller.set(mark)


def served(token: contextvars.Token[Mark]) -> None:
    _caller.reset(token)


def within(seconds: float) -> float:
    """A call's timeout: its own, or less if the served call's caller gives up."""
    mark = _caller.get()
    if mark is None or mark[0] is not _task():
        return seconds
    return min(seconds, mark[1] - time.monotonic())


def _task() -> object:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
