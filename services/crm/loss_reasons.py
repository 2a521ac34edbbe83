"""Loss reasons of a lost stage (seed 002, "Причины отказа").

Seed 002: "в финальном статусе проигранной сделки есть чекбокс «Причины
отказа». Если этот чекбокс включен, то у пользователя появляется
возможность указать список причин. Когда менеджер будет переводить сделку
в проваленный статус он должен будет выбрать одну из причин отказа".
"""

from __future__ import annotations

from dataclasses import dataclass

from leadrouter.i18n import _

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
                _(
                    "'{stage}' is not a lost stage; only a lost lead has a loss reason"
                ).format(stage=stage_key)
            )
        return ""
    if len(text) > MAX_REASON:
        raise ReasonRefused(
            _("a loss reason has at most {limit} characters").format(limit=MAX_REASON)
        )
    kept = kept_reason(stage, text)
    if stage.required and kept not in stage.reasons:
        listed = ", ".join(f"'{r}'" for r in stage.reasons)
        if text:
            refusal = _(
                "a lead moved to '{stage}' needs one of its loss reasons "
                "({listed}); '{given}' is not one of them"
            )
        else:
            refusal = _(
                "a lead moved to '{stage}' needs one of its loss reasons "
                "({listed}); none was given"
            )
        raise ReasonRefused(refusal.format(stage=stage_key, listed=listed, given=text))
    return kept
