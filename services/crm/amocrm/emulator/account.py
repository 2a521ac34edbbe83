"""The account, its users and departments, and the pipelines with their stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import (
    LOST,
    WON,
    EmulatorState,
    Lead,
    Pipeline,
    User,
    base_url,
    hal,
    values,
)


class AccountApi(EmulatorState):
    api_filters_enabled: bool

    # -- reading the account, for tests ------------------------------------------
    def main_pipeline(self) -> Pipeline:
        return next(p for p in self.pipelines.values() if p.is_main)

    def first_open_status(self, pipeline_id: int) -> int:
        """The first open stage after Unsorted: where new leads land."""
        statuses = sorted(self.pipelines[pipeline_id].statuses, key=lambda s: s.sort)
        return next(s.id for s in statuses if s.type == 0 and s.id not in (WON, LOST))

    def pool(self) -> list[Lead]:
        """Leads the exchange user holds in the main pipeline's first open stage."""
        main = self.main_pipeline()
        stage = self.first_open_status(main.id)
        return sorted(
            (
                x
                for x in self.leads.values()
                if x.pipeline_id == main.id
                and x.status_id == stage
                and x.responsible_user_id == self.exchange_user
            ),
            key=lambda x: (x.created_at, x.id),
        )

    def open_leads(self) -> list[Lead]:
        """Every lead not won or lost, Unsorted ones too."""
        return [x for x in self.leads.values() if x.status_id not in (WON, LOST)]

    # -- GET /api/v4/account --------------------------------------------------------
    async def _account(self, request: Request) -> Response:
        wanted = set(values(request, "with"))
        base = base_url(request)
        body: dict[str, Any] = {
            "id": self.account_id,
            "name": "Emulated account",
            "subdomain": self.subdomain,
            "current_user_id": self.integration_user,
            "country": "RU",
            "customers_mode": "disabled",
            "is_unsorted_on": True,
            "is_loss_reason_enabled": True,
            "is_helpbot_enabled": False,
            "is_technical_account": False,
            "contact_name_display_order": 1,
            "_links": {"self": {"href": f"{base}/api/v4/account"}},
        }
        embedded: dict[str, Any] = {}
        if "users_groups" in wanted:
            # "_embedded[users_groups] | array | **Требуется GET параметр with.**"
            embedded["users_groups"] = [
                {"id": gid, "name": name, "uuid": None}
                for gid, name in sorted(self.groups.items())
            ]
        if "datetime_settings" in wanted:
            offset = datetime.now(ZoneInfo(self.timezone)).strftime("%z")
            embedded["datetime_settings"] = {
                "date_pattern": "d.m.Y H:i",
                "short_date_pattern": "d.m.Y",
                "short_time_pattern": "H:i",
                "date_format": "d.m.Y",
                "time_format": "H:i:s",
                "timezone": self.timezone,
                "timezone_offset": f"{offset[:3]}:{offset[3:]}",
            }
        if "is_api_filter_enabled" in wanted:
            # "is_api_filter_enabled | bool | ... Включена ли API фильтрация"
            body["is_api_filter_enabled"] = self.api_filters_enabled
        if embedded:
            body["_embedded"] = embedded
        return hal(body)

    # -- GET /api/v4/users ----------------------------------------------------------
    async def _users(self, request: Request) -> Response:
        base = base_url(request)

        def render(u: User) -> dict[str, Any]:
            return {
                "id": u.id,
                "name": u.name,
                "email": u.email,
                "lang": "ru",
                "rights": {
                    "leads": {"view": "A", "edit": "A", "add": "A", "delete": "A"},
                    "mail_access": True,
                    "catalog_access": True,
                    # "rights[is_admin] | bool | Является ли пользователь
                    # администратором"
                    "is_admin": u.is_admin,
                    "is_free": False,
                    "is_active": u.is_active,
                    "group_id": u.group_id,
                    "role_id": None,
                },
                "_links": {"self": {"href": f"{base}/api/v4/users/{u.id}"}},
            }

        return self.page(
            request, sorted(self.users.values(), key=lambda u: u.id), "users", render
        )

    # -- GET /api/v4/leads/pipelines --------------------------------------------
    async def _pipelines(self, request: Request) -> Response:
        base = base_url(request)
        items = []
        for p in sorted(self.pipelines.values(), key=lambda p: p.sort):
            items.append(
                {
                    "id": p.id,
                    "name": p.name,
                    "sort": p.sort,
                    "is_main": p.is_main,
                    "is_unsorted_on": True,
                    "is_archive": p.is_archive,
                    "account_id": self.account_id,
                    "_links": {
                        "self": {"href": f"{base}/api/v4/leads/pipelines/{p.id}"}
                    },
                    "_embedded": {
                        "statuses": [
                            {
                                "id": s.id,
                                "name": s.name,
                                "sort": s.sort,
                                "is_editable": s.is_editable,
                                "pipeline_id": p.id,
                                "color": "#fffeb2",
                                # "Тип статуса (1 – неразобранное, 0 – обычный
                                # статус)"
                                "type": s.type,
                                "account_id": self.account_id,
                            }
                            for s in sorted(p.statuses, key=lambda s: s.sort)
                        ]
                    },
                }
            )
        return hal(
            {
                "_total_items": len(items),
                "_links": {"self": {"href": f"{base}/api/v4/leads/pipelines"}},
                "_embedded": {"pipelines": items},
            }
        )
