"""Which new leads push takes, and whose limits apply to them.

A new lead is pushed when it is open, owned by a technical user (the inbox
or lead exchange), and a template takes such leads now or opens for them
within the scheduler's horizon; a lead created for a real manager is already
theirs. A lead created more than ARRIVAL_HORIZON before push reads its event
is history (an import of past data, a backlog after a long outage): it stays
in the pool for the button, and distributeLead can still push it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

ARRIVAL_HORIZON = timedelta(hours=24)


def takes_on_arrival(
    *,
    is_open: bool,
    technical_owner: bool,
    created_at: datetime,
    now: datetime,
    template_now: bool,
    opening: datetime | None,
) -> bool:
    """Whether push distributes a lead whose creation it reads at `now`."""
    if not is_open or not technical_owner:
        return False
    if now - created_at > ARRIVAL_HORIZON:
        return False
    # No template takes such leads, now or soon: they are for the button.
    return template_now or opening is not None


def home_group(groups: Iterable[tuple[str, Sequence[str]]], stage: str) -> str:
    """The first group (id, source stages) whose source stages hold `stage`.

    Its limits gate `respect_limits` templates and its cascade applies; ""
    when no group takes leads there (limits are then not checked).
    """
    return next((g for g, sources in groups if stage in sources), "")
