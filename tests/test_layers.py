"""The layers of the house hold: import-linter's contracts in pyproject.toml.

`make lint` runs them too; here they run with the suite, so CI checks them.
The second test breaks each contract once in a copy of the code and sees
every one of them fail, so a contract that stopped matching anything (a
renamed package, say) cannot pass unnoticed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "leadrouter", "services")
CONTRACTS = {
    "edges": "The edges (gateway, leadrouter) reach the services over gRPC only",
    "kit": "A service stands on the kit, never on an edge",
    "services": "A service imports no other service's modules, only their pure rules",
    "pure-rules": "The pure rules other services share do no I/O",
    "no-circles": "No circles between the modules or packages of one package",
}
# One import that breaks each contract, added at the end of a module.
BREAKS = {
    "edges": ("gateway/app.py", "import services.crm.store"),
    "kit": ("services/reports/store.py", "import leadrouter.cli"),
    "services": ("services/limits/server.py", "import services.crm.store"),
    "pure-rules": ("services/limits/domain.py", "import sqlalchemy"),
    "no-circles": ("services/crm/server.py", "import services.crm.process"),
}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--no-cache", "--no-logo"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def verdicts(output: str) -> dict[str, str]:
    """Each contract's KEPT or BROKEN, by its id."""
    found = {}
    for key, name in CONTRACTS.items():
        verdict = re.search(rf"^{re.escape(name)} (KEPT|BROKEN)\b", output, re.M)
        found[key] = verdict.group(1) if verdict else "missing"
    return found


def test_the_code_keeps_every_layer_contract() -> None:
    run = lint_imports(ROOT)
    assert verdicts(run.stdout) == dict.fromkeys(CONTRACTS, "KEPT"), run.stdout
    assert run.returncode == 0


def test_each_contract_breaks_on_the_import_it_forbids(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "static", "locale"),
        )
    for module, line in BREAKS.values():
        with (tmp_path / module).open("a", encoding="utf-8") as source:
            source.write(f"\n{line}  # noqa\n")
    run = lint_imports(tmp_path)
    assert verdicts(run.stdout) == dict.fromkeys(CONTRACTS, "BROKEN"), run.stdout
    assert run.returncode == 1
