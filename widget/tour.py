"""Renders the widget's tour images: `python widget/tour.py` (run it by hand).

amoCRM shows the tour when the widget is installed: 1188×616 pictures, one
set per language, whose texts must be in that language. This starts the
product with its demo account on free loopback ports, opens the same web UI
the widget shows (`embed=amocrm`) in Chromium at exactly that size, and
saves one screenshot per screen and language as widget/images/tour_N_LANG.png.
The images are committed; widget/build.py packs them and the tests check
their size. Needs Playwright and Chromium (`apt-get install chromium`), as
the browser tests do.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGES = HERE / "images"
SIZE = {"width": 1188, "height": 616}
LOCALES = ("ru", "en")
CHROMIUM = Path(os.environ.get("LEADROUTER_TEST_CHROMIUM", "/usr/bin/chromium"))
# (user, role, route): what a manager sees, why a press is refused, and the
# head of sales' limits table.
SCREENS = (
    ("ursula", "manager", "lead"),
    ("marina", "manager", "lead"),
    ("head", "admin", "settings"),
)


def tour_images(locale: str) -> list[str]:
    """The archive paths of one language's tour, as the manifest lists them."""
    return [f"/images/tour_{n}_{locale}.png" for n in range(1, len(SCREENS) + 1)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def render(out: Path = IMAGES) -> list[Path]:
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from leadrouter.auth import issue_token
    from leadrouter.config import SERVICES, Settings
    from leadrouter.up import load_demo_if_empty, start_processes, stop_processes
    from leadrouter.up import wait_ready as ready

    data = Path(tempfile.mkdtemp(prefix="leadrouter-tour-"))
    os.environ.update(
        {
            "LEADROUTER_DATA_DIR": str(data),
            "LEADROUTER_ACCOUNT": "demo",
            "LEADROUTER_GATEWAY_PORT": str(_free_port()),
            "LEADROUTER_METRICS_PORT": "0",
            **{
                f"LEADROUTER_{name.upper()}_ADDR": f"127.0.0.1:{_free_port()}"
                for name in SERVICES
            },
        }
    )
    settings = Settings()
    procs = start_processes(settings)
    saved: list[Path] = []
    try:
        asyncio.run(ready(settings, timeout=120))
        asyncio.run(load_demo_if_empty(settings))
        base = f"http://127.0.0.1:{settings.gateway_port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            for locale in LOCALES:
                context = browser.new_context(viewport=SIZE, locale=locale)
                page = context.new_page()
                for n, (user, role, route) in enumerate(SCREENS, start=1):
                    token = issue_token(
                        settings.signing_secret,
                        account=settings.account,
                        user_id=user,
                        role=role,
                        now=datetime.now(UTC),
                        ttl=timedelta(hours=1),
                    )
                    page.goto(
                        f"{base}/?embed=amocrm&lang={locale}#token={token}&route={route}"
                    )
                    page.wait_for_selector("main h1")
                    page.wait_for_load_state("networkidle")
                    path = out / f"tour_{n}_{locale}.png"
                    page.screenshot(path=str(path))
                    saved.append(path)
                    # The next screen signs in afresh, as another person.
                    page.goto("about:blank")
                context.close()
            browser.close()
    finally:
        stop_processes(procs)
    return saved


if __name__ == "__main__":
    for path in render():
        print(path.relative_to(ROOT))
