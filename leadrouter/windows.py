"""Working-time windows as the workspace file writes them: `HH:MM-HH:MM`.

Shared data of the kit: the workspace model checks windows with this parser
and the scheduler reasons with the same `Window`, so both read a window alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MINUTES_PER_DAY = 1440

_TIME = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Window:
    """Wall-clock minutes since local midnight, start inclusive, end exclusive.

    A window whose end <= start crosses midnight and belongs to the day it
    starts; ``end == 1440`` is "24:00".
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < MINUTES_PER_DAY:
            raise ValueError(f"window start {self.start} is outside 0..1439 minutes")
        if not 0 <= self.end <= MINUTES_PER_DAY:
            raise ValueError(f"window end {self.end} is outside 0..1440 minutes")
        if self.start == self.end:
            raise ValueError(f"window '{self}': start equals end, ambiguous")

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{_format_minutes(self.start)}-{_format_minutes(self.end)}"


WHOLE_DAY = Window(0, MINUTES_PER_DAY)


# "To the end of the day" as the amoCRM widgets write it (seed 001: "с 16:00 до
# 23:59"): an end of 23:59 is 24:00, so a call at 23:59:30 is inside.
END_OF_DAY = 23 * 60 + 59


def parse_window(text: str) -> Window:
    """Parse ``HH:MM-HH:MM``; ``24:00`` is allowed as an end only.

    An end of ``23:59`` means ``24:00``: the window covers its last minute.
    """
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise ValueError(f"window '{text}': expected HH:MM-HH:MM, e.g. 09:00-18:00")
    start = _parse_minutes(text, parts[0])
    end = _parse_minutes(text, parts[1])
    if start == MINUTES_PER_DAY:
        raise ValueError(f"window '{text}': 24:00 is only valid as an end")
    if start == end:
        raise ValueError(f"window '{text}': start equals end, ambiguous")
    return Window(start, MINUTES_PER_DAY if end == END_OF_DAY else end)


def _parse_minutes(window: str, text: str) -> int:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"window '{window}': bad time '{text.strip()}', expected HH:MM"
        )
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) != (24, 0) and (hours > 23 or minutes > 59):
        raise ValueError(
            f"window '{window}': bad time '{text.strip()}', "
            "expected 00:00..23:59 (or 24:00 as an end)"
        )
    return hours * 60 + minutes


def _format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
