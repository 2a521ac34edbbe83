"""The journal's account of an attempt: the lead, the template, every candidate.

Live push journals it with each decision; what-if, which needs only the
decision, does not build it.
"""

from __future__ import annotations

from typing import Any

from services.assigner.engine.reasons import Standing
from services.assigner.engine.rotation import Pick, Seat
from services.assigner.engine.situation import Situation
from services.scheduler.templates import Template


def lead(s: Situation) -> dict[str, Any]:
    return {
        "trigger": str(s.trigger),
        "lead": {
            "channel": s.lead.channel,
            "pipeline": s.lead.pipeline,
            "stage": s.lead.stage,
            "tags": list(s.lead.tags),
            "responsible": s.lead.responsible,
        },
    }


def no_template(s: Situation) -> dict[str, Any]:
    out = lead(s)
    opening = s.next_opening
    out["next_opening"] = opening.isoformat() if opening else None
    out["why"] = "no template takes this lead now" + (
        f"; the next opens {opening.isoformat()}" if opening else ""
    )
    return out


def base(
    s: Situation, t: Template, pool: tuple[Seat, ...], allowed: frozenset[str]
) -> dict[str, Any]:
    """The lead, the template in force and where each participant stands."""
    out = lead(s)
    out["template"] = {
        "id": t.id,
        "algorithm": t.algorithm,
        "fallback_algorithm": t.fallback_algorithm,
        "respect_limits": t.respect_limits,
        "target_stage": t.target_stage,
        "when_nobody": {"user": t.fallback_user} if t.fallback_user else "hold",
        "reassign_after_minutes": t.reassign_after_minutes,
    }
    out["limits_group"] = s.group.id if s.group else None
    if t.respect_limits and s.group is None:
        out["limits_note"] = (
            f"no group takes leads in {s.lead.stage}: limits not checked"
        )
    if s.holder:
        out["previous"] = s.holder
    out["candidates"] = candidates(s, t, pool, allowed)
    if t.algorithm == "linked":
        out["links"] = [{"user": x.user, "via": x.via} for x in s.links]
    return out


def candidates(
    s: Situation, t: Template, pool: tuple[Seat, ...], allowed: frozenset[str]
) -> list[dict[str, Any]]:
    """Every participant as the journal shows it; the pick fills in the rest."""
    seated = {x.user for x in pool}
    out: list[dict[str, Any]] = []
    for p in t.participants:
        v = s.verdicts.get(p.user)
        d = s.duty.get(p.user)
        entry: dict[str, Any] = {
            "user": p.user,
            "weight": p.weight,
            "working": d.working if d else False,
            "online": d.online if d else False,
            "on_duty": d.on_duty if d else False,
            "membership": str(v.membership) if v else None,
            "limits": [dict(x) for x in v.limits] if v else None,
        }
        if d is None or not d.on_duty:
            entry["result"] = Standing.OFF_DUTY
            entry["why"] = (
                "not working now per schedule"
                if d is None or not d.working
                else "working per schedule but OFFLINE"
            )
        elif p.user not in seated:
            failing = [
                x["limit"] for x in (v.limits if v else ()) if not x.get("passed")
            ]
            entry["result"] = Standing.LIMIT
            entry["why"] = "blocked by limits: " + ", ".join(failing)
        elif p.user not in allowed:
            entry["result"] = Standing.SKIPPED
            entry["why"] = "skipped for this lead (it already had it)"
        else:
            entry["result"] = Standing.LOST
            entry["why"] = ""
        out.append(entry)
    return out


def standings(entries: list[dict[str, Any]], chosen: Pick) -> None:
    """The pick's winner and each loser's reason, onto the candidates."""
    for c in entries:
        if c["user"] == chosen.user:
            c["result"], c["why"] = Standing.WON, chosen.why
        elif c["user"] in chosen.losses:
            loss = chosen.losses[c["user"]]
            c["result"], c["why"] = loss.code, loss.text
