"""Manual mode's pure rules: round robin, the group's target stage, the preview."""

from __future__ import annotations

from leadrouter.crm.v1 import crm_pb2
from services.assigner.manual import (
    Counts,
    Planned,
    batches,
    group_stage,
    preview,
    round_robin,
)
from services.assigner.store import Group


def _scope(
    lead: str, owner: str, stage: str, *items: tuple[str, str, str]
) -> crm_pb2.LeadScope:
    return crm_pb2.LeadScope(
        lead_id=lead,
        responsible=owner,
        stage=stage,
        items=[crm_pb2.OwnedItem(id=i, kind=k, responsible=r) for i, k, r in items],
    )


def test_round_robin_follows_the_order_of_leads_and_users() -> None:
    assert round_robin(["a", "b", "c"], ["u", "v"]) == [
        ("a", "u"),
        ("b", "v"),
        ("c", "u"),
    ]


def test_the_first_group_with_the_stage_as_a_source_gives_its_target() -> None:
    groups = [
        Group("g1", source_stages=("s/new",), target_stage="s/taken"),
        Group("g2", source_stages=("s/new", "s/cold"), target_stage="s/warm"),
    ]
    assert group_stage("s/new", groups) == ("g1", "s/taken")
    assert group_stage("s/cold", groups) == ("g2", "s/warm")
    assert group_stage("s/won", groups) == ("", "")


def test_preview_counts_a_shared_contact_once_per_change_of_hands() -> None:
    scopes = {
        "a": _scope("a", "x", "s/new", ("C", "contact", "x"), ("T1", "task", "x")),
        "b": _scope("b", "x", "s/new", ("C", "contact", "x"), ("K", "company", "y")),
        "c": _scope("c", "u", "s/new", ("T2", "task", "u")),  # already u's
    }
    plan = [Planned("a", "u"), Planned("b", "u"), Planned("c", "u")]
    assert preview(plan, scopes, cascade=True) == Counts(2, 1, 1, 1)
    assert preview(plan, scopes, cascade=False) == Counts(2, 0, 0, 0)
    # Spread over two users the shared contact changes hands twice.
    spread = [Planned("a", "u"), Planned("b", "v")]
    assert preview(spread, scopes, cascade=True).contacts == 2


def test_a_lead_already_with_its_receiver_still_moves_when_its_stage_does() -> None:
    scopes = {"a": _scope("a", "u", "s/new")}
    assert preview([Planned("a", "u", "s/taken")], scopes, cascade=False).leads == 1
    assert preview([Planned("a", "u")], scopes, cascade=False).leads == 0


def test_batches_hold_at_most_fifty() -> None:
    plan = [Planned(str(i), "u") for i in range(120)]
    assert [len(b) for b in batches(plan)] == [50, 50, 20]
