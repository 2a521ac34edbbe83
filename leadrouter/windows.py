"""Working-time windows as the workspace file writes them: `HH:MM-HH:MM`.

Shared data of the kit: the workspace model checks windows with this parser
and the scheduler reasons with the same `Window`, so both read a window alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadrouter.i18n import _

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
            raise ValueError(
                _("window start {start} is outside 0..1439 minutes").format(
                    start=self.start
                )
            )
        if not 0 <= self.end <= MINUTES_PER_DAY:
            raise ValueError(
                _("window end {end} is outside 0..1440 minutes").format(end=self.end)
            )
        if self.start == self.end:
            raise ValueError(_ambiguous().format(window=self))

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
        raise ValueError(
            _("window '{window}': expected HH:MM-HH:MM, e.g. 09:00-18:00").format(
                window=text
            )
        )
    start = _parse_minutes(text, parts[0])
    end = _parse_minutes(text, parts[1])
    if start == MINUTES_PER_DAY:
        raise ValueError(
            _("window '{window}': 24:00 is only valid as an end").format(window=text)
        )
    if start == end:
        raise ValueError(_ambiguous().format(window=text))
    return Window(start, MINUTES_PER_DAY if end == END_OF_DAY else end)


def _parse_minutes(window: str, text: str) -> int:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            _("window '{window}': bad time '{time}', expected HH:MM").format(
                window=window, time=text.strip()
            )
        )
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) != (24, 0) and (hours > 23 or minutes > 59):
        raise ValueError(
            _(
                "window '{window}': bad time '{time}', expected 00:00..23:59 (or "
                "24:00 as an end)"
            ).format(window=window, time=text.strip())
        )
    return hours * 60 + minutes


def _ambiguous() -> str:
    return _("window '{window}': start equals end, ambiguous")


def _format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
