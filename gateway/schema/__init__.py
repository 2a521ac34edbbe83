"""The GraphQL schema: one type per domain, merged into Query and Mutation."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway.errors import ErrorCodes
from gateway.query_cache import CachedDocuments
from gateway.schema.claims import ClaimMutations, DecisionQueries
from gateway.schema.connection import ConnectionQueries
from gateway.schema.crm import CrmMutations, CrmQueries
from gateway.schema.groups import GroupQueries
from gateway.schema.intake import EventMutations, IntakeMutations
from gateway.schema.lead_history import LeadHistoryQueries
from gateway.schema.manual import ManualMutations
from gateway.schema.push import PushMutations
from gateway.schema.reports import ReportQueries
from gateway.schema.scheduling import SchedulingMutations, SchedulingQueries
from gateway.schema.settings import SettingsMutations, SettingsQueries
from gateway.schema.subscriptions import Subscription
from gateway.schema.viewer import ViewerQueries
from gateway.schema.waiting import WaitingQueries
from gateway.schema.whatif import WhatIfQueries
from gateway.schema.workspace import WorkspaceMutations, WorkspaceQueries
from gateway.tracing import TracedOperation

Query = merge_types(
    "Query",
    (
        ViewerQueries,
        GroupQueries,
        CrmQueries,
        LeadHistoryQueries,
        SchedulingQueries,
        DecisionQueries,
        ReportQueries,
        SettingsQueries,
        WhatIfQueries,
        WaitingQueries,
        ConnectionQueries,
        WorkspaceQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        ClaimMutations,
        CrmMutations,
        IntakeMutations,
        EventMutations,
        PushMutations,
        ManualMutations,
        SchedulingMutations,
        WorkspaceMutations,
        SettingsMutations,
    ),
)

# Bounds on one request's shape: deeper than any screen's query, wide enough
# for the calendars' one-alias-per-row requests, small enough that no single
# request fans out into thousands of service calls.
MAX_DEPTH = 10
MAX_TOKENS = 5000
MAX_ALIASES = 30

# The shape rules are made once: a query text seen before is then parsed and
# validated from cache (validating the same "Get lead" mutation again was
# most of the gateway's work per press). The caches are keyed by the rule
# classes, so rules made afresh per request would never hit.
SHAPE_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class Schema(strawberry.Schema):
    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        # A refused token or a bad id is the caller's mistake, answered with its
        # code; logging each with a traceback would bury the real failures.
        # ErrorCodes logs, with its traceback, every error that is unexpected.
        return None


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        TracedOperation,  # outermost: its span covers the error mapping too
        ErrorCodes,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(SHAPE_RULES),
        CachedDocuments,
    ],
)
