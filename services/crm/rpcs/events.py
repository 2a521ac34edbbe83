"""The crm's event stream, replayed from an offset and followed live."""

from __future__ import annotations

from collections.abc import AsyncIterator

from leadrouter.crm.v1 import crm_pb2
from leadrouter.streams import tail
from leadrouter.timestamps import set_ts
from services.crm.rpcs.common import Ctx, ServicerBase


class EventRpcs(ServicerBase):
    """The event stream."""

    async def StreamEvents(
        self, request: crm_pb2.StreamEventsRequest, context: Ctx
    ) -> AsyncIterator[crm_pb2.CrmEvent]:
        events = tail(
            lambda offset, limit: self.store.db.run(
                self.store.events_after,
                account=request.account,
                offset=offset,
                limit=limit,
            ),
            lambda e: e.offset or 0,
            after=request.after_offset,
            follow=request.follow,
            appended=self._appended,
            poll_seconds=self.POLL_SECONDS,
        )
        async for e in events:
            msg = crm_pb2.CrmEvent(
                offset=e.offset or 0,
                account=e.account,
                type=e.type,
                lead_id=e.lead_id,
                json=e.payload,
            )
            set_ts(msg, "at", e.at)
            yield msg
