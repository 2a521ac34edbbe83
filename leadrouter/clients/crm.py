"""The crm service's typed client."""

from __future__ import annotations

from leadrouter.clients.base import ServiceClient, Stream, Unary
from leadrouter.common.v1 import common_pb2
from leadrouter.crm.v1 import crm_pb2, crm_pb2_grpc


class CrmClient(ServiceClient):
    """Calls the crm service; reads and keyed writes are retried."""

    service = "crm"
    stub_type = crm_pb2_grpc.CrmStub

    apply_directory = Unary[crm_pb2.ApplyDirectoryRequest, common_pb2.ApplyResult](
        "ApplyDirectory", lambda r: r.dry_run
    )
    get_directory = Unary[crm_pb2.GetDirectoryRequest, crm_pb2.Directory](
        "GetDirectory", True
    )
    import_history = Unary[crm_pb2.ImportHistoryRequest, crm_pb2.ImportHistoryResponse](
        "ImportHistory", lambda r: r.dry_run or r.by_event_id
    )
    submit_lead = Unary[crm_pb2.SubmitLeadRequest, crm_pb2.Lead](
        "SubmitLead", lambda r: bool(r.operation_id)
    )
    get_leads = Unary[crm_pb2.GetLeadsRequest, crm_pb2.LeadList]("GetLeads", True)
    list_pool = Unary[crm_pb2.ListPoolRequest, crm_pb2.LeadPage]("ListPool", True)
    take_pool_lead = Unary[crm_pb2.TakePoolLeadRequest, crm_pb2.TakePoolLeadResponse](
        "TakePoolLead", lambda r: bool(r.operation_id)
    )
    assign_lead = Unary[crm_pb2.AssignLeadRequest, crm_pb2.AssignLeadResponse](
        "AssignLead", lambda r: bool(r.operation_id)
    )
    reopen_lead = Unary[crm_pb2.ReopenLeadRequest, crm_pb2.Lead]("ReopenLead")
    get_lead_history = Unary[crm_pb2.GetLeadHistoryRequest, crm_pb2.LeadHistory](
        "GetLeadHistory", True
    )
    move_lead = Unary[crm_pb2.MoveLeadRequest, crm_pb2.Lead]("MoveLead")
    get_activity = Unary[crm_pb2.GetActivityRequest, crm_pb2.GetActivityResponse](
        "GetActivity", True
    )
    set_limits_stamp = Unary[
        crm_pb2.SetLimitsStampRequest, crm_pb2.SetLimitsStampResponse
    ]("SetLimitsStamp")
    record_claims = Unary[crm_pb2.RecordClaimsRequest, crm_pb2.RecordClaimsResponse](
        "RecordClaims"
    )
    stream_events = Stream[crm_pb2.StreamEventsRequest, crm_pb2.CrmEvent](
        "StreamEvents"
    )
    get_linked_users = Unary[
        crm_pb2.GetLinkedUsersRequest, crm_pb2.GetLinkedUsersResponse
    ]("GetLinkedUsers", True)
    count_open_leads = Unary[
        crm_pb2.CountOpenLeadsRequest, crm_pb2.CountOpenLeadsResponse
    ]("CountOpenLeads", True)
    get_lead_work = Unary[crm_pb2.GetLeadWorkRequest, crm_pb2.GetLeadWorkResponse](
        "GetLeadWork", True
    )
    accept_webhook = Unary[crm_pb2.AcceptWebhookRequest, crm_pb2.AcceptWebhookResponse](
        "AcceptWebhook"
    )
    find_leads = Unary[crm_pb2.FindLeadsRequest, crm_pb2.FindLeadsResponse](
        "FindLeads", True
    )
    assign_leads = Unary[crm_pb2.AssignLeadsRequest, crm_pb2.AssignLeadsResponse](
        "AssignLeads", lambda r: all(a.operation_id for a in r.assignments)
    )
    get_connection = Unary[crm_pb2.GetConnectionRequest, crm_pb2.Connection](
        "GetConnection", True
    )
