"""Push distribution on demand: run the matching template for one lead now."""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.types import Decision
from leadrouter import messages
from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.errors import BadInput

MAX_KEY = 200


@strawberry.type
class PushMutations:
    @strawberry.mutation(
        description="Run push distribution for one lead now and return the decision: "
        "assigned (with the template, the candidates and why the others lost) or "
        "held (and why). A lead already pushed returns the decision that placed "
        "it; the same idempotency key returns the first answer again."
    )
    async def distribute_lead(
        self,
        info: Info,
        lead_id: strawberry.ID,
        idempotency_key: str | None = None,
    ) -> Decision:
        ctx = info.context
        caller = ctx.require("admin", "partner")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY:
            raise BadInput(messages.key_length("idempotencyKey", MAX_KEY))
        decision = await ctx.clients.assigner.distribute_lead(
            assigner_pb2.DistributeLeadRequest(
                account=caller.account,
                lead_id=str(lead_id),
                idempotency_key=idempotency_key or "",
                actor=caller.user_id,
            ),
        )
        return Decision.of(decision)
