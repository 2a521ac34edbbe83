"""What a chat channel reads when leads wait, in English and Russian.

The sentences are the banner's (gateway/web/static/app/i18n.js, `waiting.*`)
with the group named, since a channel hears of every group at once; the
Russian uses the CRM's words (заявка, очередь, смена).
"""

from __future__ import annotations

# The alert names are the Prometheus rules' (deploy/compose/alerts.yaml), so
# a chat message and an Alertmanager notification of one event agree.
ON_DUTY = "LeadrouterLeadsWaitForSomeoneOnDuty"
WINDOW = "LeadrouterLeadsWaitForAWindow"
POOL = "LeadrouterPoolNobodyMayTake"


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def age(seconds: float, language: str) -> str:
    """ "2 h", "1 h 20 min", "40 min", "3 d 4 h", as the banner says it."""
    d, h, m = ("д", "ч", "мин") if language == "ru" else ("d", "h", "min")
    minutes = int(max(0.0, seconds) // 60)
    hours, days = minutes // 60, minutes // 1440
    if days:
        return f"{days} {d} {hours % 24} {h}" if hours % 24 else f"{days} {d}"
    if hours:
        return f"{hours} {h} {minutes % 60} {m}" if minutes % 60 else f"{hours} {h}"
    return f"{minutes} {m}"


def firing(
    alert: str, group: str, leads: int, oldest_seconds: float, language: str
) -> str:
    waited = age(oldest_seconds, language)
    if language == "ru":
        lead = _ru_plural(leads, "заявка", "заявки", "заявок")
        wait = _ru_plural(leads, "ждёт", "ждут", "ждут")
        if alert == WINDOW:
            return (
                f"{leads} {lead} группы «{group}» {wait} окна; самая старая — {waited}"
            )
        if alert == ON_DUTY:
            return (
                f"{leads} {lead} группы «{group}» {wait}, пока кто-то выйдет "
                f"на смену; самая старая — {waited}"
            )
        return (
            f"В очереди группы «{group}» {leads} {lead}, и сейчас никто "
            "не может взять ни одной"
        )
    lead, wait = ("lead", "waits") if leads == 1 else ("leads", "wait")
    if alert == WINDOW:
        return (
            f"{leads} {lead} of group {group} {wait} for a window; "
            f"the oldest for {waited}"
        )
    if alert == ON_DUTY:
        return (
            f"{leads} {lead} of group {group} {wait} for someone on duty; "
            f"the oldest for {waited}"
        )
    return f"{leads} {lead} {wait} in the pool of {group}, and nobody may take one now"


def resolved(alert: str, group: str, language: str) -> str:
    if language == "ru":
        if alert == WINDOW:
            return f"Решено: заявки группы «{group}» больше не ждут окна"
        if alert == ON_DUTY:
            return (
                f"Решено: заявки группы «{group}» больше не ждут, "
                "пока кто-то выйдет на смену"
            )
        return (
            f"Решено: в очереди группы «{group}» больше нет заявок, "
            "которые никто не может взять"
        )
    if alert == WINDOW:
        return f"Resolved: leads of group {group} no longer wait for a window"
    if alert == ON_DUTY:
        return f"Resolved: leads of group {group} no longer wait for someone on duty"
    return f"Resolved: the pool of {group} has no lead left that nobody may take"
