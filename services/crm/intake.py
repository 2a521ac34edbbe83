"""A lead handed in by a partner, checked field by field before it is created.

Each problem names the lead's field (`stage`, `responsible`…), so the
gateway can point at the input field a partner got wrong.
"""

from __future__ import annotations

from leadrouter import messages
from leadrouter.errors import Problem
from services.crm import history as h
from services.crm.state import Directory, stage_key


def misplaced(directory: Directory, lead: h.LeadCreated) -> list[Problem]:
    """Where the lead would start, if the account has no such place."""
    problems = []
    if not any(key.startswith(f"{lead.pipeline}/") for key in directory.stages):
        problems.append(Problem("pipeline", messages.no_such_pipeline(lead.pipeline)))
    elif stage_key(lead.pipeline, lead.stage) not in directory.stages:
        problems.append(
            Problem("stage", messages.no_such_stage(lead.pipeline, lead.stage))
        )
    if not directory.has_user(lead.responsible):
        problems.append(Problem("responsible", messages.no_such_user(lead.responsible)))
    return problems
