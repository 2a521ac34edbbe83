"""The account's users and pipelines as the crm's directory, and which stages
leads enter by: amoCRM's Unsorted and each pipeline's first. Pure functions."""

from __future__ import annotations

from typing import Any

from services.crm.amocrm.mapping import UNSORTED, stage_kind
from services.crm.directory_store import PipelineSpec, StageSpec, UserSpec


def users_from_api(
    users: list[dict[str, Any]], technical: frozenset[str] = frozenset()
) -> tuple[UserSpec, ...]:
    """amoCRM has no technical users; the deployment names them (lead exchanges)."""
    return tuple(
        UserSpec(
            id=str(u["id"]),
            name=str(u.get("name") or u["id"]),
            technical=str(u["id"]) in technical,
            active=bool((u.get("rights") or {}).get("is_active", True)),
        )
        for u in users
    )


def pipelines_from_api(pipelines: list[dict[str, Any]]) -> tuple[PipelineSpec, ...]:
    """Pipelines with stages: 142 won, 143 lost, every other (Unsorted too) open."""
    specs = []
    for p in sorted(pipelines, key=lambda p: (p.get("sort", 0), p["id"])):
        statuses = sorted(
            (p.get("_embedded") or {}).get("statuses") or [],
            key=lambda s: (s.get("sort", 0), s["id"]),
        )
        specs.append(
            PipelineSpec(
                id=str(p["id"]),
                name=str(p.get("name") or ""),
                archived=bool(p.get("is_archive")),
                stages=tuple(
                    StageSpec(
                        str(s["id"]), str(s.get("name") or ""), stage_kind(s["id"])
                    )
                    for s in statuses
                ),
            )
        )
    return tuple(specs)


def unsorted_stages(pipelines: list[dict[str, Any]]) -> frozenset[str]:
    """ "pipeline/status" of each Unsorted stage: "Тип статуса (1 – неразобранное,
    0 – обычный статус)"."""
    return frozenset(
        f"{p['id']}/{s['id']}"
        for p in pipelines
        for s in (p.get("_embedded") or {}).get("statuses") or []
        if s.get("type") == UNSORTED
    )


def entry_stages(pipelines: list[dict[str, Any]]) -> dict[str, str]:
    """Per pipeline, the first open stage after Unsorted: where a lead begins."""
    entry: dict[str, str] = {}
    for p in pipelines:
        statuses = sorted(
            (p.get("_embedded") or {}).get("statuses") or [],
            key=lambda s: (s.get("sort", 0), s["id"]),
        )
        open_ = [s for s in statuses if stage_kind(s["id"]) == "open"]
        proper = [s for s in open_ if s.get("type") != UNSORTED]
        if open_:
            entry[str(p["id"])] = str((proper or open_)[0]["id"])
    return entry
