"""Checks for what-if answers: the proposal's side equals what happened."""

from __future__ import annotations

from leadrouter.assigner.v1 import assigner_pb2


def same_sides(reply: assigner_pb2.SimulateResponse) -> bool:
    """Every manager's figures, every template's split and the totals agree."""
    if not reply.HasField("actual"):
        return False
    managers = all(m.proposed == m.actual for m in reply.managers)
    templates = all(list(t.proposed) == list(t.actual) for t in reply.templates)
    leads = all(x.proposed == x.actual for x in reply.leads)
    return managers and templates and leads and reply.proposed == reply.actual


def mismatches(reply: assigner_pb2.SimulateResponse) -> list[str]:
    """What differs, a line each, for an assertion's message."""
    out = list(reply.differences)
    for t in reply.templates:
        if list(t.proposed) != list(t.actual):
            out.append(f"template {t.name}: {t.proposed} vs {t.actual}")
    if reply.proposed != reply.actual:
        out.append(f"totals: {reply.proposed} vs {reply.actual}")
    return out
