"""A refusal names the service that refused, whatever class holds the method."""

from __future__ import annotations

from leadrouter.rpc import service_of
from services.assigner.server import AssignerServicer
from services.crm.rpcs.pool import PoolRpcs


def test_a_crm_method_of_a_use_case_class_is_the_crms() -> None:
    # "the crm database is not reachable", not "the poolrpcs database …"
    assert service_of(PoolRpcs.TakePoolLead) == "crm"


def test_a_servicers_own_method_names_its_service() -> None:
    assert service_of(AssignerServicer.ClaimLead) == "assigner"
