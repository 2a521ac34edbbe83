"""The scheduler service's typed client."""

from __future__ import annotations

from leadrouter.clients.base import ServiceClient, Unary
from leadrouter.common.v1 import common_pb2
from leadrouter.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc


class SchedulerClient(ServiceClient):
    """Calls the scheduler service; reads and keyed writes are retried."""

    service = "scheduler"
    stub_type = scheduler_pb2_grpc.SchedulerStub

    apply_schedules = Unary[
        scheduler_pb2.ApplySchedulesRequest, common_pb2.ApplyResult
    ]("ApplySchedules", lambda r: r.dry_run)
    get_schedules = Unary[
        scheduler_pb2.GetSchedulesRequest, scheduler_pb2.GetSchedulesResponse
    ]("GetSchedules", True)
    set_presence = Unary[scheduler_pb2.SetPresenceRequest, scheduler_pb2.UserDuty](
        "SetPresence"
    )
    get_duty = Unary[scheduler_pb2.GetDutyRequest, scheduler_pb2.GetDutyResponse](
        "GetDuty", True
    )
    get_working_intervals = Unary[
        scheduler_pb2.GetWorkingIntervalsRequest,
        scheduler_pb2.GetWorkingIntervalsResponse,
    ]("GetWorkingIntervals", True)
    match_template = Unary[
        scheduler_pb2.MatchTemplateRequest, scheduler_pb2.MatchTemplateResponse
    ]("MatchTemplate", True)
