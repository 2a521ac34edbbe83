"""axe-core, pinned and served from the repository, run in a page or a frame.

The file is the npm package's own (tests/ui/vendor/axe-core/README.md); a
file with another hash is refused, so a changed copy cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
VERSION = "4.14.1"
# From the package's sri-history.json for this version.
SRI = "sha256-KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw="
BLOCKING = ("serious", "critical")


@cache
def script() -> str:
    data = AXE.read_bytes()
    found = "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    if found != SRI:
        raise AssertionError(f"{AXE} is not axe-core {VERSION}: {found}")
    return data.decode("utf-8")


async def findings(where: Any, include: str | None = None) -> list[str]:
    """The serious and critical findings in a Playwright page or frame.

    `include` narrows the run to a part of the page (the widget's own area of
    the fake amoCRM page, whose own markup is not the product's). Frames are
    checked on their own, so the run does not wait on them.
    """
    if not await where.evaluate("() => typeof window.axe === 'object'"):
        await where.add_script_tag(content=script())
    version = await where.evaluate("() => axe.version")
    assert version == VERSION, version
    result = await where.evaluate(
        """async (include) => {
             const context = include ? {include: [include]} : document;
             return await axe.run(context, {iframes: false,
                                            resultTypes: ["violations"]});
           }""",
        include,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
