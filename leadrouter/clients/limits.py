"""The limits service's typed client."""

from __future__ import annotations

from leadrouter.clients.base import ServiceClient, Unary
from leadrouter.common.v1 import common_pb2
from leadrouter.limits.v1 import limits_pb2, limits_pb2_grpc


class LimitsClient(ServiceClient):
    """Calls the limits service; reads and keyed writes are retried."""

    service = "limits"
    stub_type = limits_pb2_grpc.LimitsStub

    apply_limits = Unary[limits_pb2.ApplyLimitsRequest, common_pb2.ApplyResult](
        "ApplyLimits", lambda r: r.dry_run
    )
    get_group_limits = Unary[
        limits_pb2.GetGroupLimitsRequest, limits_pb2.GetGroupLimitsResponse
    ]("GetGroupLimits", True)
    get_eligibility = Unary[
        limits_pb2.GetEligibilityRequest, limits_pb2.GetEligibilityResponse
    ]("GetEligibility", True)
    record_setup_version = Unary[
        limits_pb2.RecordSetupVersionRequest, limits_pb2.SetupVersion
    ]("RecordSetupVersion")
    list_setup_versions = Unary[
        limits_pb2.ListSetupVersionsRequest, limits_pb2.ListSetupVersionsResponse
    ]("ListSetupVersions", True)
    get_setup_version = Unary[
        limits_pb2.GetSetupVersionRequest, limits_pb2.SetupVersion
    ]("GetSetupVersion", True)
