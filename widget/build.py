"""Builds the amoCRM widget archive: `python widget/build.py [--out dist/widget.zip]`.

The archive holds manifest.json, script.js, i18n/{ru,en}.json, the logos
amoCRM asks for, drawn here at the sizes of its widget docs, and the tour
images the manifest names (widget/images/, rendered by widget/tour.py).
Nothing else: amoCRM's moderation asks for no file the widget does not use.
Each i18n file gets the integrator's contacts (`support` of the manifest),
which the widget shows whenever it cannot do its work.
"""

from __future__ import annotations

import argparse
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "dist" / "widget.zip"
LOCALES = ("ru", "en")
IMAGES_DIR = HERE / "images"
# name: (width, height), as amoCRM's widget structure docs require.
IMAGES = {
    "logo_main.png": (400, 272),
    "logo_small.png": (108, 108),
    "logo.png": (130, 100),
    "logo_medium.png": (240, 84),
    "logo_min.png": (84, 84),
}
# Only a widget working in the digital pipeline shows this one.
DIGITAL_PIPELINE_LOGO = ("logo_dp.png", (174, 109))
BLUE = (11, 92, 173)
WHITE = (255, 255, 255)
AMBER = (255, 176, 0)


def png(width: int, height: int) -> bytes:
    """The product's mark: three white bars (a queue) and an amber dot, on blue."""
    unit = min(width, height) / 64
    left = (width - 64 * unit) / 2
    top = (height - 64 * unit) / 2
    bars = [(16, 20, 48), (16, 32, 38), (16, 44, 28)]  # (x0, y, x1) in a 64 grid
    rows = []
    for y in range(height):
        gy = (y - top) / unit
        row = bytearray([0])
        for x in range(width):
            gx = (x - left) / unit
            colour = BLUE
            for x0, by, x1 in bars:
                if x0 - 3 <= gx <= x1 + 3 and abs(gy - by) <= 3:
                    colour = WHITE
            if (gx - 46) ** 2 + (gy - 44) ** 2 <= 49:
                colour = AMBER
            row.extend(colour)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def lookup(texts: dict[str, object], key: str) -> object:
    node: object = texts
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check(manifest: dict[str, object], i18n: dict[str, dict[str, object]]) -> None:
    """Every text the manifest names exists in every locale."""
    widget = manifest["widget"]
    assert isinstance(widget, dict)
    keys = [widget[k] for k in ("name", "description", "short_description")]
    settings = manifest.get("settings", {})
    assert isinstance(settings, dict)
    keys += [field["name"] for field in settings.values()]
    advanced = manifest.get("advanced", {})
    assert isinstance(advanced, dict)
    keys += [advanced["title"]] if "title" in advanced else []
    tour = manifest.get("tour", {})
    assert isinstance(tour, dict)
    keys += [tour["tour_description"]] if "tour_description" in tour else []
    for locale in widget["locale"]:
        for key in keys:
            if not isinstance(lookup(i18n[locale], str(key)), str):
                raise SystemExit(f"i18n/{locale}.json has no text for '{key}'")


def logos(manifest: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """The logos this widget's locations use."""
    wanted = dict(IMAGES)
    if "digital_pipeline" in manifest.get("locations", []):
        name, size = DIGITAL_PIPELINE_LOGO
        wanted[name] = size
    return wanted


def tour_files(manifest: dict[str, Any]) -> dict[str, bytes]:
    """The tour images the manifest lists, from widget/images/."""
    files = {}
    for paths in manifest.get("tour", {}).get("tour_images", {}).values():
        for path in paths:
            name = path.lstrip("/")
            source = HERE / name
            if not name.startswith("images/") or not source.is_file():
                raise SystemExit(f"no tour image {path}: run widget/tour.py")
            files[name] = source.read_bytes()
    return files


def with_support(text: str, manifest: dict[str, Any]) -> bytes:
    """An i18n file with the manifest's support contacts added under `support`."""
    texts = json.loads(text)
    texts["support"] = dict(manifest["widget"]["support"])
    return (json.dumps(texts, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build(out: Path = DEFAULT_OUT) -> Path:
    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    i18n = {
        locale: json.loads((HERE / "i18n" / f"{locale}.json").read_text("utf-8"))
        for locale in LOCALES
    }
    check(manifest, i18n)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {
        "manifest.json": (HERE / "manifest.json").read_bytes(),
        "script.js": (HERE / "script.js").read_bytes(),
        **{
            f"i18n/{loc}.json": with_support(
                (HERE / "i18n" / f"{loc}.json").read_text("utf-8"), manifest
            )
            for loc in LOCALES
        },
        **{f"images/{name}": png(w, h) for name, (w, h) in logos(manifest).items()},
        **tour_files(manifest),
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            # A fixed date makes the same sources give the same archive.
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    main()
