"""Issue 24, point 7: every reason code the API can emit has one spelling and
words in both languages.

The codes are the assigner's enum (a refusal's or a held push's reason, and
a limit's name for a failing limit); the API returns them as `Reason.code`
with `Reason.text` in the caller's language, what-if counts them, and the
widget's journal words them from its texts (`reason.<code>`). No second
spelling of a code (`not_member` beside `not_a_member`) is written anywhere
a reader or a client meets it.
"""

from __future__ import annotations

import re
from pathlib import Path

from leadrouter import i18n
from leadrouter.limit_rules import RULES
from leadrouter.reason_texts import reason_text
from services.assigner.engine.reasons import MEMBERSHIP_REFUSALS, Reason

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "gateway" / "web" / "static" / "app" / "texts"
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
WORD = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
# Where a code is written for a reader or a client to meet it.
PLACES = ("gateway", "leadrouter", "services", "docs", "widget")
FILES = ("schema.graphql", "README.md")
SUFFIXES = (".py", ".js", ".md", ".graphql", ".yaml", ".po")

# Every code the API can emit: the enum's and the limits' names.
CODES = sorted({r.value for r in Reason} | {rule.name for rule in RULES})


def _spoken(code: str) -> str:
    """A code as it sounds: no underscores, no articles."""
    return "".join(w for w in code.split("_") if w not in ("a", "an", "the"))


def _widget_keys(language: str) -> set[str]:
    text = (TEXTS / f"{language}.js").read_text(encoding="utf-8")
    return set(re.findall(r'"(reason\.\w+)":', text))


def test_each_code_has_words_of_its_own_in_english_and_russian() -> None:
    for code in CODES:
        with i18n.speaking("en"):
            english = reason_text(code)
        with i18n.speaking("ru"):
            russian = reason_text(code)
        assert english != code, f"{code}: no English words"
        assert CYRILLIC.search(russian), f"{code}: no Russian words ({russian!r})"


def test_the_widget_words_every_code_it_can_be_shown() -> None:
    wanted = {f"reason.{code}" for code in CODES if code != Reason.LIMIT}
    for language in ("en", "ru"):
        missing = wanted - _widget_keys(language)
        assert not missing, f"{language}.js lacks {sorted(missing)}"


def test_a_refusal_for_who_pressed_is_one_of_the_codes() -> None:
    assert set(MEMBERSHIP_REFUSALS.values()) <= set(Reason)


def test_no_code_is_written_in_a_second_spelling() -> None:
    by_sound = {_spoken(code): code for code in CODES}
    found = [
        f"{path.relative_to(ROOT)}:{n + 1}: {word}"
        for path in _written()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines())
        for word in WORD.findall(line)
        if by_sound.get(_spoken(word), word) != word
    ]
    assert found == []
    assert by_sound[_spoken("not_member")] == "not_a_member"  # what it would catch


def _written() -> list[Path]:
    paths = [ROOT / name for name in FILES]
    for place in PLACES:
        for path in sorted((ROOT / place).rglob("*")):
            if path.suffix not in SUFFIXES or "/v1/" in path.as_posix():
                continue
            if "vendor" not in path.parts and path.is_file():
                paths.append(path)
    return paths
