"""What a person does in amoCRM's interface, over HTTP, for someone trying the
product against the emulator: add a lead, move it, delete and restore it.
Each sends the webhooks amoCRM would, so the round trip shows in leadrouter."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.crm.amocrm.emulator.seed import Seeding
from services.crm.amocrm.emulator.trash import TrashApi


class ControlApi(Seeding, TrashApi):
    async def _control_add(self, request: Request) -> Response:
        """A request from the site's form: it lands in Unsorted, as they do."""
        body = json.loads(await request.body() or b"{}")
        lead = await self.add_unsorted_lead(
            str(body.get("name") or "A lead from the emulator"),
            tags=[str(t) for t in body.get("tags") or []],
        )
        return JSONResponse({"id": lead.id, "status_id": lead.status_id}, 201)

    async def _control_move(self, request: Request) -> Response:
        lead_id = int(request.path_params["id"])
        body = json.loads(await request.body() or b"{}")
        if lead_id not in self.leads:
            return JSONResponse({"error": f"no lead {lead_id}"}, 404)
        status = int(body["status_id"])
        if self.unsorted_of(lead_id) is not None:
            # Out of Unsorted a person accepts it; nobody moves it from there.
            await self.accept(lead_id, user_id=self.integration_user, status_id=status)
        else:
            await self.move_lead(lead_id, status)
        return JSONResponse({"id": lead_id, "status_id": self.leads[lead_id].status_id})

    async def _control_delete(self, request: Request) -> Response:
        lead_id = int(request.path_params["id"])
        if lead_id not in self.leads:
            return JSONResponse({"error": f"no lead {lead_id}"}, 404)
        await self.delete_lead(lead_id)
        return Response(status_code=204)

    async def _control_restore(self, request: Request) -> Response:
        lead_id = int(request.path_params["id"])
        if lead_id not in self.deleted_leads:
            return JSONResponse({"error": f"lead {lead_id} is not in the trash"}, 404)
        await self.restore_lead(lead_id)
        return JSONResponse({"id": lead_id})
