"""Relay Cursor Connections: the paging arguments, checked once, and PageInfo.

Every connection of the schema (`leads`, `pool`, `decisions`) takes `first`
and `after`, or `last` and `before`, and answers edges that each carry an
opaque cursor and a PageInfo whose start and end cursors are those of its
first and last edge, on every page (the Relay Cursor Connections
specification, sections 4 and 5). The services cut the pages by keyset
(leadrouter/keyset.py), so a list that changes while a person pages keeps
every row exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.schema.types import Lead, LeadConnection, LeadEdge, PageInfo
from leadrouter import messages
from leadrouter.crm.v1 import crm_pb2
from leadrouter.cursors import lead_cursor
from leadrouter.errors import BadInput
from leadrouter.timestamps import from_ts


@dataclass(frozen=True)
class PageArgs:
    first: int | None
    last: int | None
    after: str
    before: str

    def into(self, request: Any) -> Any:
        """The service request with these arguments set on it."""
        request.after, request.before = self.after, self.before
        if self.first is not None:
            request.first = self.first
        if self.last is not None:
            request.last = self.last
        return request


def page_args(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    default: int,
    maximum: int,
) -> PageArgs:
    """The page asked for; neither `first` nor `last` means the first `default`."""
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= maximum:
            raise BadInput(messages.page_size(name, maximum))
    if first is None and last is None:
        first = default
    return PageArgs(first, last, after or "", before or "")


def page_info(cursors: list[str], *, has_previous: bool, has_next: bool) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


def lead_connection(
    leads: list[crm_pb2.Lead], *, has_previous: bool, has_next: bool, total: int
) -> LeadConnection:
    """Leads in list order (oldest first), each with the cursor of its place."""
    cursors = [lead_cursor(from_ts(m.created_at), m.id) for m in leads]
    return LeadConnection(
        edges=[
            LeadEdge(cursor=c, node=Lead.of(m))
            for c, m in zip(cursors, leads, strict=True)
        ],
        page_info=page_info(cursors, has_previous=has_previous, has_next=has_next),
        total_count=total,
    )
