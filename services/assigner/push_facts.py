"""What live push asks the other services, as the engine's facts.

Each read is one call for what one attempt or one round needs: the lead, the
template in force with its participants' duty, the limits of the on-duty
participants, open counts, links, and where watched leads stand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from google.protobuf.json_format import MessageToDict

from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound
from leadrouter.limits.v1 import limits_pb2
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.timestamps import optional_ts, to_ts, utc
from services.assigner.engine.lifecycle import Work
from services.assigner.engine.reasons import Membership
from services.assigner.engine.rotation import Link
from services.assigner.engine.situation import Duty, LeadFacts, Verdict
from services.assigner.tables import PushLead
from services.scheduler.templates import Participant, Template

LINK_TEXT = {
    "contact_responsible": "responsible user of contact {}",
    "company_responsible": "responsible user of company {}",
    "previous_lead_owner": "owner of the contact's last lead {}",
}


def stage_key(lead: crm_pb2.Lead) -> str:
    return f"{lead.pipeline}/{lead.stage}"


def is_open(lead: crm_pb2.Lead) -> bool:
    return not lead.HasField("closed_at")


def lead_facts(lead: crm_pb2.Lead) -> LeadFacts:
    return LeadFacts(
        id=lead.id,
        channel=lead.channel,
        pipeline=lead.pipeline,
        stage=stage_key(lead),
        tags=tuple(lead.tags),
        responsible=lead.responsible,
    )


class InForce:
    """The scheduler's answer for a lead at an instant, as the engine reads it."""

    def __init__(self, reply: scheduler_pb2.MatchTemplateResponse) -> None:
        self.template: Template | None = None
        self.duty: dict[str, Duty] = {}
        self.next_opening: datetime | None = optional_ts(reply, "next_opening")
        if not reply.matched:
            return
        t = reply.template
        self.template = Template(
            id=t.id,
            participants=tuple(
                Participant(p.user_id, p.weight) for p in t.participants
            ),
            algorithm=t.algorithm,
            fallback_algorithm=t.fallback_algorithm or None,
            respect_limits=t.respect_limits,
            target_stage=t.target_stage or None,
            hold=not t.fallback_user,
            fallback_user=t.fallback_user or None,
            reassign_after_minutes=t.reassign_after_minutes
            if t.HasField("reassign_after_minutes")
            else None,
        )
        self.duty = {
            p.user_id: Duty(p.duty.working, p.duty.online, p.duty.on_duty)
            for p in t.participants
        }


class PushFacts:
    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    async def lead(self, account: str, lead_id: str) -> crm_pb2.Lead | None:
        found = await self.clients.crm.get_leads(
            crm_pb2.GetLeadsRequest(account=account, ids=[lead_id])
        )
        return found.leads[0] if found.leads else None

    async def leads_of(
        self, rows: Iterable[PushLead]
    ) -> dict[tuple[str, str], crm_pb2.Lead]:
        out: dict[tuple[str, str], crm_pb2.Lead] = {}
        for acc, group in by_account(list(rows)).items():
            found = await self.clients.crm.get_leads(
                crm_pb2.GetLeadsRequest(account=acc, ids=[r.lead_id for r in group]),
            )
            out.update({(acc, lead.id): lead for lead in found.leads})
        return out

    async def leads(self, account: str, ids: list[str]) -> dict[str, crm_pb2.Lead]:
        """Many leads of one account in one call; a lead not found is left out."""
        found = await self.clients.crm.get_leads(
            crm_pb2.GetLeadsRequest(account=account, ids=ids)
        )
        return {lead.id: lead for lead in found.leads}

    async def technical(self, account: str, user_id: str) -> bool:
        """Whether the user is a technical one (a lead push may hand out)."""
        return user_id in await self.technical_among(account, [user_id])

    async def technical_among(self, account: str, users: list[str]) -> set[str]:
        """Which of these users are technical ones, in one call."""
        try:
            directory = await self.clients.crm.get_directory(
                crm_pb2.GetDirectoryRequest(account=account, user_ids=users),
            )
        except NotFound:
            return set()
        wanted = set(users)
        return {u.id for u in directory.users if u.technical and u.id in wanted}

    async def in_force(
        self, account: str, lead: crm_pb2.Lead, now: datetime
    ) -> InForce:
        reply = await self.clients.scheduler.match_template(
            scheduler_pb2.MatchTemplateRequest(
                account=account,
                lead=scheduler_pb2.LeadFacts(
                    channel=lead.channel, pipeline=lead.pipeline, tags=lead.tags
                ),
                at=to_ts(now),
            ),
        )
        return InForce(reply)

    async def on_duty(self, account: str, users: list[str], now: datetime) -> set[str]:
        duty = await self.clients.scheduler.get_duty(
            scheduler_pb2.GetDutyRequest(
                account=account, user_ids=users, at=to_ts(now)
            ),
        )
        return {d.user_id for d in duty.users if d.on_duty}

    async def verdicts(
        self, account: str, group_id: str, users: list[str], now: datetime
    ) -> dict[str, Verdict]:
        seen = await self.clients.limits.get_eligibility(
            limits_pb2.GetEligibilityRequest(
                account=account, group_id=group_id, user_ids=users, at=to_ts(now)
            ),
        )
        out: dict[str, Verdict] = {}
        for u in seen.users:
            name = limits_pb2.Membership.Name(u.membership).removeprefix("MEMBERSHIP_")
            out[u.user_id] = Verdict(
                membership=Membership(name.lower())
                if name != "UNSPECIFIED"
                else Membership.NOT_A_MEMBER,
                passed=u.eligible,
                limits=tuple(
                    MessageToDict(
                        v,
                        preserving_proto_field_name=True,
                        always_print_fields_with_no_presence=True,
                    )
                    for v in u.verdicts
                ),
            )
        return out

    async def open_leads(self, account: str, users: list[str]) -> dict[str, int]:
        reply = await self.clients.crm.count_open_leads(
            crm_pb2.CountOpenLeadsRequest(account=account, user_ids=users),
        )
        return {u: int(n) for u, n in reply.open_leads.items()}

    async def links(self, account: str, lead_id: str) -> list[Link]:
        reply = await self.clients.crm.get_linked_users(
            crm_pb2.GetLinkedUsersRequest(account=account, lead_ids=[lead_id]),
        )
        return [
            Link(u.user_id, LINK_TEXT.get(u.kind, "{}").format(u.source_id))
            for leads in reply.leads
            for u in leads.users
        ]

    async def work(
        self, account: str, rows: list[PushLead], now: datetime
    ) -> dict[str, Work]:
        request = crm_pb2.GetLeadWorkRequest(account=account)
        for r in rows:
            since = utc(r.assigned_at) if r.assigned_at else now
            request.leads.add(lead_id=r.lead_id, since=to_ts(since))
        reply = await self.clients.crm.get_lead_work(request)
        return {
            w.lead_id: Work(
                found=w.found,
                open=w.open,
                responsible=w.responsible,
                stage=w.stage,
                tasks_completed=w.tasks_completed,
            )
            for w in reply.leads
        }


def by_account(rows: list[PushLead]) -> dict[str, list[PushLead]]:
    out: dict[str, list[PushLead]] = {}
    for r in rows:
        out.setdefault(r.account, []).append(r)
    return out
