"""What the crm servicer's method groups share: the context type, message
builders, and the base holding the store and the wake-up of event followers."""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import grpc

from leadrouter.crm.v1 import crm_pb2, crm_pb2_grpc
from leadrouter.cursors import lead_cursor
from leadrouter.keyset import Page
from leadrouter.timestamps import set_ts
from services.crm.claims import ClaimsStore
from services.crm.store import CrmStore, LeadView, Pool

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]

# One manual batch is one transaction; amoCRM takes writes in batches of 50.
MAX_MANUAL_BATCH = 50


def lead_message(view: LeadView) -> crm_pb2.Lead:
    msg = crm_pb2.Lead(
        id=view.id,
        name=view.name,
        budget=view.budget,
        pipeline=view.pipeline,
        stage=view.stage,
        responsible=view.responsible,
        channel=view.channel,
        contacts=view.contacts,
        companies=view.companies,
        tags=view.tags,
        loss_reason=view.loss_reason,
    )
    set_ts(msg, "created_at", view.created_at)
    set_ts(msg, "closed_at", view.closed_at)
    return msg


def lead_page(page: Page[LeadView], total: int) -> crm_pb2.LeadPage:
    last = page.rows[-1] if page.rows and page.has_next else None
    return crm_pb2.LeadPage(
        leads=[lead_message(v) for v in page.rows],
        end_cursor=lead_cursor(last.created_at, last.id) if last else "",
        total=total,
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
    )


def _pool(msg: crm_pb2.PoolQuery) -> Pool:
    return Pool(tuple(msg.source_stages), tuple(msg.exchange_users))


def _moved(moved: Any) -> crm_pb2.Moved:
    return crm_pb2.Moved(
        contacts=moved.contacts, companies=moved.companies, tasks=moved.tasks
    )


class ServicerBase(crm_pb2_grpc.CrmServicer):
    """The store, the claims' store, and the wake-up of event followers."""

    # Polling keeps followers working across replicas; a local wake-up keeps it quick.
    POLL_SECONDS = 0.5

    def __init__(self, store: CrmStore) -> None:
        self.store = store
        self.claims = ClaimsStore(store.db)
        self._appended = asyncio.Event()

    def _notify(self) -> None:
        self._appended.set()
