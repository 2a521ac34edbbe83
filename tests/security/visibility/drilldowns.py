"""Visibility of one item asked for by its id: a decision, a lead, a lead's history."""

from __future__ import annotations

from tests.security.visibility.world import (
    FORBIDDEN,
    NOT_FOUND,
    OWN,
    A,
    Items,
    Probe,
    World,
    decisions_of,
    graphql,
)


def one_decision(which: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await graphql(
            world,
            token,
            "query($id: ID!) { decision(id: $id) { actor assignee } }",
            id=world.ids[which],
        )
        return data if isinstance(data, str) else decisions_of([data["decision"]])

    return probe


def one_lead(which: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await graphql(
            world,
            token,
            "query($id: ID!) { lead(id: $id) { responsible } }",
            id=world.ids[which],
        )
        return data if isinstance(data, str) else [{data["lead"]["responsible"]}]

    return probe


def lead_history(which: str) -> Probe:
    async def probe(world: World, token: str) -> Items | str:
        data = await graphql(
            world,
            token,
            "query($id: ID!) { leadHistory(leadId: $id) { lead { responsible } } }",
            id=world.ids[which],
        )
        if isinstance(data, str):
            return data
        return [{data["leadHistory"]["lead"]["responsible"]}]

    return probe


# One row per item read by its id: (name, probe, what each role gets).
ROWS: list[tuple[str, Probe, dict[str, str]]] = [
    (
        "decision: the manager's own claim",
        one_decision("claim_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": OWN},
    ),
    (
        "decision: a colleague's claim",
        one_decision("other_managers_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": NOT_FOUND},
    ),
    (
        "decision: a colleague's refusal",
        one_decision("refusal_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": NOT_FOUND},
    ),
    (
        "decision: a manual assignment to a colleague",
        one_decision("manual_decision"),
        {"admin": A, "viewer": A, "partner": A, "manager": NOT_FOUND},
    ),
    (
        "lead: the manager's own",
        one_lead("claimed_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "lead: a colleague's",
        one_lead("other_managers_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": NOT_FOUND,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "leadHistory: the manager's own lead",
        lead_history("claimed_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": OWN,
            "outsider": NOT_FOUND,
        },
    ),
    (
        "leadHistory: a colleague's lead",
        lead_history("other_managers_lead"),
        {
            "admin": A,
            "viewer": FORBIDDEN,
            "partner": FORBIDDEN,
            "manager": NOT_FOUND,
            "outsider": NOT_FOUND,
        },
    ),
]
