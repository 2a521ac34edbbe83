"""The `leadrouter` command against the services running as processes."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from leadrouter.auth import verify_token
from tests.fixtures import WORKSPACE, lead_created
from tests.processes import SECRET, process_stack

pytestmark = pytest.mark.slow


def test_cli_applies_imports_issues_tokens_and_services_stop_on_sigterm(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(WORKSPACE)
    bad_workspace = tmp_path / "bad.yaml"
    bad_workspace.write_text(WORKSPACE.replace("max_active: 2", "max_active: -2"))
    history = tmp_path / "history.jsonl"
    at = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    history.write_text(json.dumps(lead_created("L1", at)) + "\n")
    bad_history = tmp_path / "bad.jsonl"
    bad_history.write_text(
        json.dumps(lead_created("L2", at)) + "\n" + '{"type": "nope", "at": "x"}\n'
    )

    with process_stack(tmp_path / "var", None) as stack:
        problems = stack.cli("apply", str(bad_workspace), ok=False)
        assert (
            "bad.yaml:28: groups[0].members[2].limits.max_active: "
            "group main, member Marina: must be >= 0"
        ) in problems
        assert "nothing was changed" in problems

        first = stack.cli("apply", str(workspace))
        assert "user ursula: added" in first and "group main: added" in first
        assert stack.cli("apply", str(workspace)).strip().endswith("no changes")

        refused = stack.cli("import", str(bad_history), ok=False)
        assert "line 2" in refused and "unknown event type 'nope'" in refused
        assert "nothing was imported" in refused
        assert "imported 1 event from" in stack.cli("import", str(history))

        token = stack.cli("token", "--user", "ursula", "--role", "manager").strip()
        caller = verify_token(SECRET, token, datetime.now(UTC))
        assert (caller.account, caller.user_id, caller.role) == (
            "acme",
            "ursula",
            "manager",
        )

        pool = httpx.post(
            f"{stack.url}/graphql",
            json={"query": '{ pool(groupId: "main") { totalCount } }'},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        assert pool == {"data": {"pool": {"totalCount": 1}}}  # L2 was not imported

        for proc in stack.procs.values():
            proc.send_signal(signal.SIGTERM)
        for name, proc in stack.procs.items():
            assert proc.wait(timeout=20) == 0, (
                f"{name} did not stop cleanly: {stack.log(name)}"
            )
