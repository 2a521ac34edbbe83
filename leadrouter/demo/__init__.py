"""The demo account that `make run` loads into an empty database."""

from __future__ import annotations

from pathlib import Path

WORKSPACE = Path(__file__).with_name("workspace.yaml")
