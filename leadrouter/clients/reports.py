"""The reports service's typed client."""

from __future__ import annotations

from leadrouter.clients.base import ServiceClient, Unary
from leadrouter.reports.v1 import reports_pb2, reports_pb2_grpc


class ReportsClient(ServiceClient):
    """Calls the reports service; reads and keyed writes are retried."""

    service = "reports"
    stub_type = reports_pb2_grpc.ReportsStub

    distribution_report = Unary[
        reports_pb2.DistributionReportRequest, reports_pb2.DistributionReportResponse
    ]("DistributionReport", True)
    loss_reasons_report = Unary[
        reports_pb2.LossReasonsReportRequest, reports_pb2.LossReasonsReportResponse
    ]("LossReasonsReport", True)
    loss_reasons_leads = Unary[
        reports_pb2.LossReasonsLeadsRequest, reports_pb2.LossReasonsLeadsResponse
    ]("LossReasonsLeads", True)
    get_stream_positions = Unary[
        reports_pb2.GetStreamPositionsRequest, reports_pb2.GetStreamPositionsResponse
    ]("GetStreamPositions", True)
