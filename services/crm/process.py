"""The crm process: the built-in CRM or the amoCRM connector, as settings say.

Both stand on the servicer of services/crm/server.py, and the amoCRM one
extends it, so the choice between them sits above both.
"""

from __future__ import annotations

from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.db import Database
from leadrouter.rpc import ServiceRunner
from services.crm import server
from services.crm.amocrm.service import build_amocrm
from services.crm.tables import metadata


def build(
    settings: Settings, clock: Clock, clients: Clients
) -> tuple[ServiceRunner, Database]:
    if settings.crm == "amocrm":
        db = Database(settings.database_url_for("crm"), "crm", metadata)
        return build_amocrm(settings, clock, db), db
    return server.build(settings, clock, clients)
