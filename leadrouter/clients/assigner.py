"""The assigner service's typed client."""

from __future__ import annotations

from leadrouter.assigner.v1 import assigner_pb2, assigner_pb2_grpc
from leadrouter.clients.base import ServiceClient, Stream, Unary
from leadrouter.common.v1 import common_pb2
from leadrouter.crm.v1 import crm_pb2


class AssignerClient(ServiceClient):
    """Calls the assigner service; reads and keyed writes are retried."""

    service = "assigner"
    stub_type = assigner_pb2_grpc.AssignerStub

    apply_groups = Unary[assigner_pb2.ApplyGroupsRequest, common_pb2.ApplyResult](
        "ApplyGroups", lambda r: r.dry_run
    )
    list_groups = Unary[
        assigner_pb2.ListGroupsRequest, assigner_pb2.ListGroupsResponse
    ]("ListGroups", True)
    get_pool = Unary[assigner_pb2.GetPoolRequest, crm_pb2.LeadPage]("GetPool", True)
    claim_lead = Unary[assigner_pb2.ClaimLeadRequest, assigner_pb2.ClaimLeadResponse](
        "ClaimLead", lambda r: bool(r.idempotency_key)
    )
    distribute_lead = Unary[assigner_pb2.DistributeLeadRequest, assigner_pb2.Decision](
        "DistributeLead", lambda r: bool(r.idempotency_key)
    )
    tick = Unary[assigner_pb2.TickRequest, assigner_pb2.TickResponse]("Tick")
    list_decisions = Unary[
        assigner_pb2.ListDecisionsRequest, assigner_pb2.DecisionPage
    ]("ListDecisions", True)
    get_decision = Unary[assigner_pb2.GetDecisionRequest, assigner_pb2.Decision](
        "GetDecision", True
    )
    stream_decisions = Stream[
        assigner_pb2.StreamDecisionsRequest, assigner_pb2.Decision
    ]("StreamDecisions")
    assign_leads = Unary[assigner_pb2.AssignLeadsRequest, assigner_pb2.ManualResult](
        "AssignLeads", lambda r: bool(r.idempotency_key)
    )
    transfer_leads = Unary[
        assigner_pb2.TransferLeadsRequest, assigner_pb2.ManualResult
    ]("TransferLeads", lambda r: bool(r.idempotency_key))
    reopen_lead = Unary[
        assigner_pb2.ReopenLeadRequest, assigner_pb2.ReopenLeadResponse
    ]("ReopenLead")
    get_waiting = Unary[assigner_pb2.GetWaitingRequest, assigner_pb2.Waiting](
        "GetWaiting", True
    )
    simulate = Unary[assigner_pb2.SimulateRequest, assigner_pb2.SimulateResponse](
        "Simulate", True
    )
    record_history = Unary[
        assigner_pb2.RecordHistoryRequest, assigner_pb2.RecordHistoryResponse
    ]("RecordHistory")
