"""Every code of a distribution decision in a person's words.

The assigner's enum (services/assigner/engine/reasons.py) spells each code
once; the journal stores it, the API returns it (`Reason.code`, with its
`text` from here) and what-if counts it. tests/test_reason_codes.py checks
that every code of the enum and every limit has its words here, in both
languages, and in the widget's texts.
"""

from __future__ import annotations

from leadrouter.i18n import _


def reason_text(code: str) -> str:
    """Why a press was refused, or a pushed lead waited: a limit's name or a code."""
    texts = {
        "interval_minutes": _("too soon after their last lead"),
        "max_active": _("too many active deals"),
        "max_new_today": _("today's limit of new deals reached"),
        "max_overdue_tasks": _("too many overdue tasks"),
        "max_overdue_days": _("a task overdue too many days"),
        "days_without_sales": _("too many days without a sale"),
        "max_lost_today": _("too many deals lost today"),
        "max_lost_month": _("too many deals lost this month"),
        "min_sales_last_month": _("last month's sales plan not met"),
        "min_key_stage_last_week": _("last week's key-stage plan not met"),
        "limit": _("a limit was not met"),
        "not_a_member": _("not a member of the group"),
        "disabled": _("the button is switched off for them"),
        "pool_empty": _("no leads were waiting"),
        "off_duty": _("off duty"),
        "no_template": _("no template takes the lead now: it waits for a window"),
        "nobody_on_duty": _("nobody of its template is on duty, or may take it"),
        "nobody_else_on_duty": _("nobody else is on duty: it stays where it is"),
        "taken_meanwhile": _("someone else took it in the CRM meanwhile"),
    }
    return texts.get(code, code)
