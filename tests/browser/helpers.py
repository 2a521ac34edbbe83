"""Helpers of the browser tests: screenshots for a person to review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Saves a screenshot for a person to review under test-results/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
