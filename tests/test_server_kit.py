"""One server kit and one client kit: no service builds its own server or channel.

Every service's gRPC server is built by leadrouter.rpc.ServiceRunner (its
interceptors, tracing, health, reflection, options and graceful stop), and
every channel is dialled by the client kit (deadlines, retries, one channel
per target). A module that calls grpc's server or channel constructors
itself fails here; so does a servicer's method left without the error
mapping of handles_errors. And a service's database work is called by named
arguments (`db.run(store.take, account=..., lead_id=...)`), never by a
tuple of positions that a reordered signature would silently shift.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "leadrouter", "services")
# grpc's constructors, and the one module of the kit allowed each.
BUILDERS = {
    "server": {"leadrouter/rpc.py"},
    "add_insecure_port": {"leadrouter/rpc.py"},
    "add_secure_port": {"leadrouter/rpc.py"},
    # The kit's health wait dials a server of its own; clients use the client kit.
    "insecure_channel": {"leadrouter/rpc.py", "leadrouter/clients/base.py"},
    "secure_channel": {"leadrouter/clients/base.py"},
}
SERVICERS = {
    "services.assigner.server": ["AssignerServicer"],
    "services.crm.server": ["CrmServicer"],
    "services.crm.amocrm.service": ["AmoCrmServicer"],
    "services.limits.server": ["LimitsServicer"],
    "services.reports.server": ["ReportsServicer"],
    "services.scheduler.server": ["SchedulerServicer"],
}


def builders_called(source: str) -> set[str]:
    """The grpc constructors a module calls (`grpc.aio.server(...)` and kin)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in BUILDERS:
            base = ast.unparse(func.value)
            if func.attr.startswith("add_") or base.split(".")[0] in ("grpc", "aio"):
                found.add(func.attr)
    return found


def offenders(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = path.relative_to(root).as_posix()
            for name in builders_called(path.read_text(encoding="utf-8")):
                if module not in BUILDERS[name]:
                    found.append(f"{module} calls {name}")
    return found


def test_only_the_kit_builds_grpc_servers_and_channels() -> None:
    assert offenders(ROOT) == []


def test_a_service_building_its_own_server_is_caught(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "services" / "server.py").write_text(
        "import grpc\n"
        "server = grpc.aio.server()\n"
        "server.add_insecure_port('[::]:50051')\n"
        "channel = grpc.aio.insecure_channel('crm:50051')\n"
    )
    assert sorted(offenders(tmp_path)) == [
        "services/server.py calls add_insecure_port",
        "services/server.py calls insecure_channel",
        "services/server.py calls server",
    ]


@pytest.mark.parametrize("module", sorted(SERVICERS))
def test_every_unary_method_of_a_servicer_maps_errors(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in SERVICERS[module]:
        servicer = getattr(loaded, name)
        base = next(b for b in servicer.__mro__ if b.__module__.endswith("_pb2_grpc"))
        for method in (m for m in vars(base) if not m.startswith("_")):
            handler = getattr(servicer, method)
            streaming = "Stream" in method
            assert streaming or hasattr(handler, "__wrapped__"), (
                f"{name}.{method} is not wrapped in handles_errors"
            )


def positional_database_calls(source: str) -> list[int]:
    """Lines of `<...>db.run(work, a, b)`: the work's arguments by position."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run"
            and len(node.args) > 1
            and ast.unparse(node.func.value).split(".")[-1].endswith("db")
        ):
            found.append(node.lineno)
    return found


def test_database_work_is_called_by_named_arguments() -> None:
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in positional_database_calls(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_a_positional_database_call_is_caught() -> None:
    source = (
        "async def f(self):\n    await self.store.db.run(self.store.take, 'acme')\n"
    )
    assert positional_database_calls(source) == [2]
    named = "async def f(self):\n    await self.db.run(self.take, account='acme')\n"
    assert positional_database_calls(named) == []
