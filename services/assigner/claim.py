"""The "Get lead" button: membership, limits, then the oldest pool lead, once.

A press is, in all, one call to the crm for the figures, one to take the
lead and two transactions of the assigner's own: one before (the group, the
key, the attempt) and one after (the decision, closing the attempt).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.json_format import MessageToDict

from leadrouter import metrics
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import LeadrouterError, Unavailable
from leadrouter.i18n import _
from leadrouter.limits.v1 import limits_pb2
from leadrouter.telemetry import current_trace_id
from leadrouter.timestamps import to_ts
from services.assigner.claim_attempts import Settler, claim_scope, real_now
from services.assigner.claim_limits import HeldLimits
from services.assigner.engine import press
from services.assigner.engine.reasons import Membership, Outcome, Reason
from services.assigner.store import AssignerStore, Group
from services.assigner.tables import ClaimAttempt, DecisionRow

MEMBERSHIPS = {
    limits_pb2.MEMBERSHIP_ENABLED: Membership.ENABLED,
    limits_pb2.MEMBERSHIP_DISABLED: Membership.DISABLED,
    limits_pb2.MEMBERSHIP_NOT_A_MEMBER: Membership.NOT_A_MEMBER,
    limits_pb2.MEMBERSHIP_EXCHANGE_USER: Membership.EXCHANGE_USER,
    limits_pb2.MEMBERSHIP_UNSPECIFIED: Membership.NOT_A_MEMBER,
}


@dataclass
class ClaimOutcome:
    decision: DecisionRow
    lead: crm_pb2.Lead | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)


def verdict_dict(v: limits_pb2.Verdict) -> dict[str, Any]:
    return MessageToDict(v, preserving_proto_field_name=True)


def pool_query(group: Group) -> crm_pb2.PoolQuery:
    return crm_pb2.PoolQuery(
        source_stages=group.source_stages, exchange_users=group.exchange_users
    )


class ClaimLead:
    """One press of the button by one manager."""

    def __init__(
        self, store: AssignerStore, clients: Clients, clock: Clock, settler: Settler
    ) -> None:
        self.store = store
        self.clients = clients
        self.clock = clock
        self.settler = settler
        self.attempts = settler.attempts
        self.limits = HeldLimits(clients)

    async def __call__(
        self, account: str, group_id: str, user_id: str, key: str
    ) -> ClaimOutcome:
        started = time.perf_counter()
        scope = claim_scope(user_id)
        now = self.clock.now()
        # The operation id ties the crm's change to this press, so a retry
        # with the same key takes the same lead, not a second one.
        attempt = ClaimAttempt(
            account=account,
            operation_id=f"claim:{user_id}:{key or uuid.uuid4().hex}",
            group_id=group_id,
            user_id=user_id,
            key=key,
            at=now,
            started=real_now(),
            trace_id=current_trace_id(),
        )
        begun = await self.store.db.run(
            self.attempts.begin, attempt=attempt, scope=scope
        )
        if begun.replayed is not None:
            return await self._replayed(begun.replayed)
        group = begun.group
        me = await self.limits.judge(account, group_id, user_id, now)
        verdicts = [verdict_dict(v) for v in me.verdicts]
        reasons = press.refusals(MEMBERSHIPS[me.membership], verdicts)
        details = {**json.loads(attempt.details or "{}"), "limits": verdicts}
        lead: crm_pb2.Lead | None = None
        if not reasons:
            try:
                taken = await self.clients.crm.take_pool_lead(
                    crm_pb2.TakePoolLeadRequest(
                        account=account,
                        operation_id=attempt.operation_id,
                        pool=pool_query(group),
                        user_id=user_id,
                        target_stage=group.target_stage,
                        cascade=group.cascade,
                        at=to_ts(now),
                        group_id=group_id,
                    ),
                )
            except LeadrouterError as error:
                return await self._after_failed_take(attempt, error)
            if taken.taken:
                lead = taken.lead
                details["moved"] = MessageToDict(
                    taken.moved, preserving_proto_field_name=True
                )
            else:
                reasons.append({"code": Reason.POOL_EMPTY})
        elif begun.resumed:
            # Refused now, perhaps for the very claim the first press made
            # before it failed: that claim is the answer, if the crm made it.
            settled = await self.settler.settle(attempt)
            if settled is not None:
                return await self._replayed(settled)
        decision = DecisionRow(
            account=account,
            kind="claim",
            outcome=Outcome.CLAIMED if lead is not None else Outcome.REFUSED,
            group_id=group_id,
            actor=user_id,
            lead_id=lead.id if lead is not None else "",
            assignee=user_id if lead is not None else "",
            at=now,
            reasons=json.dumps(reasons),
            details=json.dumps(details),
            trace_id=attempt.trace_id,
        )
        try:
            recorded = await self.store.db.run(
                self.store.record,
                decision=decision,
                scope=scope,
                key=key,
                attempt=attempt.operation_id,
            )
        except Exception as error:
            if not reasons or lead is not None:
                self.settler.soon(attempt)  # the crm may have given a lead
            if lead is None:
                raise
            # Not "nothing was changed": the lead is the manager's already.
            raise Unavailable(
                _(
                    "lead {lead} is yours, but the journal could not record it yet; "
                    "it will, as soon as the database answers"
                ).format(lead=lead.id)
            ) from error
        if recorded is not decision:
            return await self._replayed(recorded)
        metrics.claim_decided(group_id, reasons, time.perf_counter() - started)
        return ClaimOutcome(decision=decision, lead=lead, reasons=reasons)

    async def _after_failed_take(
        self, attempt: ClaimAttempt, error: LeadrouterError
    ) -> ClaimOutcome:
        """The crm call failed: the lead it may still have taken is not lost.

        A press with a key is left open, so pressing again with the key
        finishes it; one without can never be retried, so it is settled now
        (and, if the crm cannot be asked, when it is stale or at restart).
        """
        if attempt.key:
            raise error
        try:
            settled = await self.settler.settle(attempt)
        except Exception:
            self.settler.soon(attempt)
            raise error from None
        if settled is None:
            raise error
        return await self._replayed(settled)

    async def _replayed(self, decision: DecisionRow) -> ClaimOutcome:
        lead = None
        if decision.lead_id:
            found = await self.clients.crm.get_leads(
                crm_pb2.GetLeadsRequest(
                    account=decision.account, ids=[decision.lead_id]
                ),
            )
            lead = found.leads[0] if found.leads else None
        return ClaimOutcome(
            decision=decision, lead=lead, reasons=json.loads(decision.reasons)
        )
