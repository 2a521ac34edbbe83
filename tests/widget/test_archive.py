"""The built widget archive (`make widget`), against amoCRM's rules for widgets.

Each test checks one rule of tests/widget/rules.py, named in its docstring
with the requirement it comes from; the widget's behaviour in a page is
checked by tests/browser/test_widget.py.
"""

from __future__ import annotations

import ast
import json
import re
import runpy
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.widget.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
TOUR_SIZE = (1188, 616)
MAX_IMAGE_BYTES = 300 * 1024
LOGOS = {  # amoCRM's structure docs: name and size
    "images/logo_main.png": (400, 272),
    "images/logo_small.png": (108, 108),
    "images/logo.png": (130, 100),
    "images/logo_medium.png": (240, 84),
    "images/logo_min.png": (84, 84),
}
DIGITAL_PIPELINE_LOGO = "images/logo_dp.png"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The archive as `make widget` builds it: name -> content."""
    out = tmp_path_factory.mktemp("widget") / "widget.zip"
    done = subprocess.run(
        [sys.executable, str(ROOT / "widget" / "build.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        return {name: z.read(name) for name in z.namelist()}


@pytest.fixture(scope="module")
def manifest(archive: dict[str, bytes]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(archive["manifest.json"])
    return loaded


def png(data: bytes) -> tuple[tuple[int, int], list[bytes]]:
    """A PNG's size and the kinds of its chunks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    kinds, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kinds.append(data[at + 4 : at + 8])
        at += 12 + length
    width, height = struct.unpack(">II", data[16:24])
    return (width, height), kinds


def test_each_language_has_its_own_tour_images_of_1188_by_616(
    archive: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    """Rules tour-images and tour-per-language (amoCRM's requirements for public
    integrations, 4.3 and 2.4): 1188×616 px, a set per language."""
    tour = manifest["tour"]
    assert tour["is_tour"] is True
    sets = {}
    for locale in manifest["widget"]["locale"]:
        paths = tour["tour_images"].get(locale, [])
        assert paths, f"no tour images for {locale}"
        sets[locale] = set(paths)
        for path in paths:
            name = path.lstrip("/")
            assert name in archive, f"{path} of the {locale} tour is not in the archive"
            size, _ = png(archive[name])
            assert size == TOUR_SIZE, f"{path} is {size[0]}×{size[1]}, not 1188×616"
    # Their texts are in their own language, so no image serves two of them.
    first, *others = sets.values()
    for other in others:
        assert not first & other
        assert not {archive[p.lstrip("/")] for p in first} & {
            archive[p.lstrip("/")] for p in other
        }


def test_no_image_is_over_300_kb_or_animated(archive: dict[str, bytes]) -> None:
    """Rules image-weight (widget structure docs) and not-animated (requirements
    4.3): an APNG's animation chunk (acTL) is not allowed either."""
    images = {n: d for n, d in archive.items() if n.startswith("images/")}
    assert images
    for name, data in images.items():
        assert len(data) <= MAX_IMAGE_BYTES, f"{name}: {len(data)} bytes"
        _, kinds = png(data)
        assert b"acTL" not in kinds, f"{name} is animated"


def used_files(manifest: dict[str, Any]) -> set[str]:
    """What the widget uses: amoCRM's required files and what the manifest names."""
    used = {"manifest.json", "script.js", *LOGOS}
    used |= {f"i18n/{locale}.json" for locale in manifest["widget"]["locale"]}
    if "digital_pipeline" in manifest["locations"]:
        used.add(DIGITAL_PIPELINE_LOGO)
    for paths in manifest["tour"]["tour_images"].values():
        used |= {p.lstrip("/") for p in paths}
    return used


def test_the_archive_holds_no_file_the_widget_does_not_use(
    archive: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    """Rule no-unused-files (requirements 3.1): nothing but what is used; the
    digital pipeline's logo only with the digital_pipeline location."""
    unused = set(archive) - used_files(manifest)
    assert unused == set(), f"files the widget does not use: {sorted(unused)}"


def test_the_required_files_are_there_at_their_sizes(
    archive: dict[str, bytes],
) -> None:
    """Rule required-files (requirements 3.1; sizes from the structure docs)."""
    assert {"manifest.json", "script.js", "i18n/ru.json", "i18n/en.json"} <= set(
        archive
    )
    for name, size in LOGOS.items():
        assert png(archive[name])[0] == size, name
    assert not any(n.startswith("/") or ".." in n for n in archive)
    # The files lie at the archive's root, not in a folder.
    assert "manifest.json" in archive


def test_text_files_are_utf8_without_bom_with_unix_line_ends(
    archive: dict[str, bytes],
) -> None:
    """Rule text-encoding (requirements 3.1)."""
    texts = {n: d for n, d in archive.items() if n.endswith((".js", ".json"))}
    for name, data in texts.items():
        assert not data.startswith(b"\xef\xbb\xbf"), f"{name} starts with a BOM"
        data.decode("utf-8")
        assert b"\r" not in data, f"{name} has Windows line ends"


def test_the_manifest_has_its_required_fields_and_support_contacts(
    manifest: dict[str, Any],
) -> None:
    """Rule manifest-fields (widget structure docs; requirements 3.1.2)."""
    widget = manifest["widget"]
    for field in ("name", "description", "short_description", "locale"):
        assert widget[field], field
    assert isinstance(widget["installation"], bool)
    assert widget["interface_version"] == 2
    assert manifest["locations"] and manifest["settings"]
    support = widget["support"]
    assert support["link"].startswith("https://")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", support["email"])
    assert manifest["settings"]["backend_url"]["required"] is True


def test_the_manifest_names_only_locations_the_script_works_in(
    archive: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    """Rule only-used-locations (requirements 3.1.2)."""
    script = archive["script.js"].decode()
    handled = {
        "lcard": '"lcard"' in script,
        "llist": '"llist"' in script,
        "settings": re.search(r"\bsettings: function", script) is not None,
        "advanced_settings": "advancedSettings: function" in script,
        "digital_pipeline": "dpSettings: function" in script,
    }
    for location in manifest["locations"]:
        area = location.rsplit("-", 1)[0] if location[-2:] in ("-0", "-1") else location
        assert handled.get(area), f"{location} is in the manifest, unused by script.js"


def test_every_language_file_has_the_same_keys_and_its_own_language(
    archive: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    """Rules i18n-same-structure (widget structure docs) and i18n-language
    (requirements 3.1.3)."""

    def shape(node: Any, at: str = "") -> set[str]:
        if not isinstance(node, dict):
            return {at}
        return {k for key, v in node.items() for k in shape(v, f"{at}.{key}")}

    texts = {
        locale: json.loads(archive[f"i18n/{locale}.json"])
        for locale in manifest["widget"]["locale"]
    }
    shapes = {locale: shape(t) for locale, t in texts.items()}
    assert len({frozenset(s) for s in shapes.values()}) == 1, shapes
    english = archive["i18n/en.json"].decode()
    assert not re.search(r"[А-Яа-яЁё]", english)
    assert not re.search(r"\.ru\b", english)
    assert texts["ru"]["ui"]["button"] == "Получить заявку"
    assert texts["en"]["ui"]["button"] == "Get lead"


def test_the_script_has_no_alert_eval_console_noise_or_script_tags(
    archive: dict[str, bytes],
) -> None:
    """Rule clean-script (requirements 3.1.1 and 3.2)."""
    script = archive["script.js"].decode()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)
    for banned in (
        r"\balert\s*\(",
        r"\bconfirm\s*\(",
        r"\beval\s*\(",
        r"new\s+Function\s*\(",
        r"console\.(log|info|warn|error|dir|table)\b",
        r"createElement\(\s*['\"]script",
        r"\bdebugger\b",
        r"async\s*:\s*false",
    ):
        assert not re.search(banned, code), banned
    assert script.lstrip().startswith("/*") and re.search(r"\bdefine\(\[", script)


def test_every_rule_is_checked_by_a_test_that_names_it() -> None:
    """Each rule's key appears in the docstring of a test that checks it."""
    checked = ""
    for module in (
        ROOT / "tests" / "widget" / "test_archive.py",
        ROOT / "tests" / "browser" / "test_widget.py",
    ):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                checked += " " + (ast.get_docstring(node) or "")
    named = set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", checked))
    assert set(RULES) - named == set()


def test_docs_amocrm_lists_every_widget_rule_with_its_requirement() -> None:
    """docs/amocrm.md lists these rules and quotes each requirement."""
    text = (ROOT / "docs" / "amocrm.md").read_text(encoding="utf-8")
    section = text.split("## The widget and amoCRM's rules", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(section.split())
    for key, rule in RULES.items():
        assert f"`{key}`" in section, key
        assert " ".join(rule.quote.split()) in flat, key
        assert rule.source in section, key


def test_the_build_refuses_a_tour_image_that_is_not_there(tmp_path: Path) -> None:
    """The build names a missing tour image instead of packing a broken tour."""
    build = runpy.run_path(str(ROOT / "widget" / "build.py"))
    manifest = json.loads((ROOT / "widget" / "manifest.json").read_text("utf-8"))
    manifest["tour"]["tour_images"]["en"] = ["/images/tour_9_en.png"]
    with pytest.raises(SystemExit, match=r"tour_9_en\.png"):
        build["tour_files"](manifest)
