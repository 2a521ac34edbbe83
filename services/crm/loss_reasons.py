"""Loss reasons of a lost stage (seed 002, "Причины отказа").

Seed 002: "в финальном статусе проигранной сделки есть чекбокс «Причины
отказа». Если этот чекбокс включен, то у пользователя появляется
возможность указать список причин. Когда менеджер будет переводить сделку
в проваленный статус он должен будет выбрать одну из причин отказа".
"""

from __future__ import annotations

from dataclasses import dataclass

OTHER = "other: "
MAX_REASON = 200


class ReasonRefused(ValueError):
    """A move into a lost stage without a reason the stage accepts."""


@dataclass(frozen=True)
class StageReasons:
    """What a stage says about loss reasons."""

    kind: str  # open | won | lost
    reasons: tuple[str, ...] = ()
    required: bool = False


def kept_reason(stage: StageReasons, given: str | None) -> str:
    """The reason a lead moved into `stage` keeps, as reports count it.

    A listed reason is kept in the list's spelling. Any other text is free
    text: on a stage with a list it is kept as "other: <text>" (seed 002's
    reports count by the listed reasons), on a stage without one as written.
    Only a lost stage keeps a reason.
    """
    text = " ".join((given or "").split())
    if stage.kind != "lost" or not text:
        return ""
    for reason in stage.reasons:
        if reason.casefold() == text.casefold():
            return reason
    if not stage.reasons or text.casefold().startswith(OTHER.strip().casefold()):
        return text[:MAX_REASON]
    return f"{OTHER}{text}"[:MAX_REASON]


def checked_reason(stage_key: str, stage: StageReasons, given: str | None) -> str:
    """The reason of a move made in the built-in CRM, or why it is refused.

    A stage that requires a reason takes one of its listed reasons and no
    other ("должен будет выбрать одну из причин отказа"); a stage that does
    not takes a listed reason, free text, or none. A reason on a stage that
    is not lost is a mistake of the caller, not something to drop unseen.
    """
    text = " ".join((given or "").split())
    if stage.kind != "lost":
        if text:
            raise ReasonRefused(
                f"'{stage_key}' is not a lost stage; only a lost lead has a loss reason"
            )
        return ""
    if len(text) > MAX_REASON:
        raise ReasonRefused(f"a loss reason has at most {MAX_REASON} characters")
    kept = kept_reason(stage, text)
    if stage.required and kept not in stage.reasons:
        listed = ", ".join(f"'{r}'" for r in stage.reasons)
        what = f"'{text}' is not one of them" if text else "none was given"
        raise ReasonRefused(
            f"a lead moved to '{stage_key}' needs one of its loss reasons "
            f"({listed}); {what}"
        )
    return kept
