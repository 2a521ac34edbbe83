"""Issue 24, point 1: one message catalogue for every message a person reads.

The code's messages are English inside `_()` / `ngettext()`; the catalogue
(leadrouter/locale/ru/LC_MESSAGES/leadrouter.po) holds the Russian. Every
message of the code is in it, translated, with the same placeholders, and
it holds nothing the code no longer says.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from leadrouter import i18n

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("leadrouter", "services", "gateway")
KEYWORDS = {"_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def _code_messages() -> dict[str, str]:
    """Every message id the code says, with where it says it first."""
    found: dict[str, str] = {}
    for folder in SOURCES:
        for name, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            method_map=[("**/v1/**.py", "ignore"), ("**.py", "python")],
            keywords=KEYWORDS,
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for text in ids:
                found.setdefault(text, f"{folder}/{name}")
    return found


def _catalogue(language: str) -> dict[str, tuple[str, ...]]:
    with i18n.po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    out: dict[str, tuple[str, ...]] = {}
    for m in catalog:
        if not m.id:
            continue
        assert not m.fuzzy, f"{language}: a fuzzy translation of {m.id!r}"
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for text in ids:
            out[text] = strings
    return out


def test_every_message_of_the_code_is_in_both_languages() -> None:
    code = _code_messages()
    assert len(code) > 90, "the extraction found too few messages to be reading"
    russian = _catalogue("ru")
    untranslated = {
        text: where
        for text, where in code.items()
        if text not in russian or not all(russian[text])
    }
    assert not untranslated, (
        "messages without a Russian translation (run `make messages`, then "
        "translate them in leadrouter/locale/ru/LC_MESSAGES/leadrouter.po):\n"
        + "\n".join(f"  {where}: {text!r}" for text, where in untranslated.items())
    )
    # English is the code's own language: its text is the message id.
    assert i18n.translations("en").gettext(next(iter(code))) == next(iter(code))
    stale = sorted(set(russian) - set(code))
    assert not stale, f"the catalogue holds messages the code no longer says: {stale}"


def test_a_translation_keeps_every_placeholder_and_speaks_russian() -> None:
    for text, strings in _catalogue("ru").items():
        wanted = set(PLACEHOLDER.findall(text))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (text, string)
            assert CYRILLIC.search(string), (text, string)


def _untranslatable_calls(path: Path) -> list[str]:
    """`_()` calls the extraction cannot read: an argument that is no literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in KEYWORDS
        ):
            literal = all(
                isinstance(a, ast.Constant) and isinstance(a.value, str)
                for a in node.args[: 2 if node.func.id == "ngettext" else 1]
            )
            if not literal:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return bad


def test_every_message_is_a_literal_the_extraction_reads() -> None:
    bad = [
        where
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "/v1/" not in path.as_posix()
        for where in _untranslatable_calls(path)
    ]
    assert not bad, "messages built at run time cannot be translated: " + str(bad)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE,de;q=0.9,ru;q=0.5", "ru"),
        ("de", "en"),
        ("ru;q=0, en", "en"),
        ("*", "en"),
    ],
)
def test_accept_language_chooses_a_language_there_is_a_catalogue_of(
    header: str | None, language: str
) -> None:
    assert i18n.from_accept_language(header) == language


@pytest.mark.parametrize(
    ("env", "language"),
    [
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "ru_RU.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LEADROUTER_LANGUAGE": "ru"}, "ru"),
    ],
)
def test_the_command_line_speaks_leadrouter_language_or_the_shells_locale(
    env: dict[str, str], language: str
) -> None:
    assert i18n.from_environment(env) == language
