"""Where reopening a closed lead returns it (seed 002, "Отозвать сделку")."""

from __future__ import annotations

from collections.abc import Sequence


def reopening_stage(
    *,
    pipeline: str,
    stage: str,
    kind: str,
    last_open_stage: str,
    stages: Sequence[tuple[str, str]],
) -> str | None:
    """The "pipeline/stage" a closed lead returns to, or None when there is none.

    `stages` are the (id, kind) of the lead's pipeline in the pipeline's order.
    From lost: the stage it was lost from ("она вернется в статус, из которого
    была отправлена в закрыто"). From won: "the previous intermediate stage
    configured in the CRM", the last open stage before the won stage in the
    pipeline's order, wherever the lead was before and also when it was created
    won. A lead created lost was lost from no stage and is read like a won one.
    """
    if kind == "lost" and last_open_stage:
        return last_open_stage
    ids = [id_ for id_, _ in stages]
    before = stages[: ids.index(stage)] if stage in ids else stages
    earlier = [id_ for id_, k in before if k == "open"]
    if earlier:
        return f"{pipeline}/{earlier[-1]}"
    # A closed stage ordered before every open one: the stage it was last
    # open in, else the pipeline's first open stage.
    if last_open_stage:
        return last_open_stage
    opened = [id_ for id_, k in stages if k == "open"]
    return f"{pipeline}/{opened[0]}" if opened else None
