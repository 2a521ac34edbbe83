"""Keyset pages of a sorted query: Relay's first/after and last/before.

A page is cut by the sort key of the rows around it (`WHERE key > after`),
never by an offset, so rows added or removed elsewhere in the list while a
person pages through it shift nothing: no row is skipped or shown twice.
The rules are those of the Relay Cursor Connections specification
(section 4.3, "Pagination algorithm", and 5, "PageInfo").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, select, tuple_
from sqlalchemy.orm import Session

from leadrouter import messages
from leadrouter.errors import BadInput

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """Which rows: after and before are sort keys; first or last how many."""

    first: int | None = None
    last: int | None = None
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    has_previous: bool
    has_next: bool


def _row(values: Sequence[Any]) -> Any:
    return values[0] if len(values) == 1 else tuple_(*values)


def keyset_page(
    s: Session,
    stmt: Select[Any],
    keys: Sequence[Any],  # columns (sqlmodel's col() types them as Mapped)
    want: PageRequest,
    *,
    descending: bool = False,
) -> Page[Any]:
    """One page of `stmt`'s rows in the order of `keys` (newest first when
    descending). Without first and last, every row between the cursors."""
    key = _row(keys)

    def later(at: tuple[Any, ...]) -> ColumnElement[bool]:
        """Rows that come after `at` in the list's order."""
        bound = _row(at)
        return key < bound if descending else key > bound

    def earlier(at: tuple[Any, ...]) -> ColumnElement[bool]:
        bound = _row(at)
        return key > bound if descending else key < bound

    between = stmt
    if want.after is not None:
        between = between.where(later(want.after))
    if want.before is not None:
        between = between.where(earlier(want.before))
    forward = [k.desc() if descending else k.asc() for k in keys]
    backward = [k.asc() if descending else k.desc() for k in keys]
    has_previous = has_next = False
    if want.last is not None and want.first is None:
        rows = list(s.scalars(between.order_by(*backward).limit(want.last + 1)))
        has_previous = len(rows) > want.last
        rows = rows[: want.last][::-1]
    else:
        query = between.order_by(*forward)
        if want.first is not None:
            query = query.limit(want.first + 1)
        rows = list(s.scalars(query))
        if want.first is not None:
            has_next = len(rows) > want.first
            rows = rows[: want.first]
        if want.last is not None and len(rows) > want.last:
            rows, has_previous = rows[len(rows) - want.last :], True
    # The specification lets a server tell, when it can do so cheaply, whether
    # rows lie beyond the cursors themselves: one indexed probe each.
    if want.after is not None and not has_previous:
        has_previous = _exists(s, stmt.where(~later(want.after)))
    if want.before is not None and not has_next:
        has_next = _exists(s, stmt.where(~earlier(want.before)))
    return Page(rows, has_previous, has_next)


def _exists(s: Session, stmt: Select[Any]) -> bool:
    return bool(s.scalar(select(stmt.limit(1).exists())))


DEFAULT_PAGE = 50
MAX_PAGE = 500


def page_request(
    request: Any,
    decode: Callable[[str, str], tuple[Any, ...]],
    *,
    default: int = DEFAULT_PAGE,
    maximum: int = MAX_PAGE,
) -> PageRequest:
    """The page a request asks for (its first, last, after and before fields)."""
    first = request.first if request.HasField("first") else None
    last = request.last if request.HasField("last") else None
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= maximum:
            raise BadInput(messages.page_size(name, maximum))
    if first is None and last is None:
        first = default
    return PageRequest(
        first=first,
        last=last,
        after=decode(request.after, "after") if request.after else None,
        before=decode(request.before, "before") if request.before else None,
    )
