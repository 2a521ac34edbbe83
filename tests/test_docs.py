"""The documents hold: every relative link of README.md and docs/ leads somewhere.

A link is a Markdown link or image (`[text](target)`, `[id]: target`), and
also a document named in the prose (`see contract.md`): a reader follows
that name as they would a link. Each must name a file or folder of this
repository, and a `#fragment` a heading of the file it points into (GitHub's
anchors). Links to other sites are not fetched.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from gateway.errors import CODES

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^[ \t]{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
# A document's name in running text: word characters, dots, slashes, ending .md.
NAMED = re.compile(r"(?<![\w/.(#-])((?:[\w.-]+/)*[\w.-]+\.md)(?![\w/-])")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def prose(text: str) -> str:
    """The text without code: names inside code are examples, not links."""
    text = FENCE.sub("", text)
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to '-'."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1))
        slug = "".join(
            c for c in title.lower() if c in " -_" or unicodedata.category(c)[0] in "LN"
        ).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link and named document in the file's prose."""
    text = path.read_text(encoding="utf-8")
    plain = prose(text)
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    for pattern in (INLINE, REFERENCE):
        for m in pattern.finditer(plain):
            found.append((plain.count("\n", 0, m.start()) + 1, m.group(1)))
            spans.append(m.span())
    for m in NAMED.finditer(plain):
        if any(a <= m.start() < b for a, b in spans):
            continue  # the target or text of a link seen above
        found.append((plain.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def broken(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for line, target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, fragment = target.partition("#")
        where = (path.parent / file_part).resolve() if file_part else path
        if not where.exists():
            problems.append(f"{path.relative_to(root)}:{line}: no {file_part}")
            continue
        markdown = where.is_file() and where.suffix == ".md"
        if fragment and markdown and fragment.lower() not in anchors(where):
            problems.append(
                f"{path.relative_to(root)}:{line}: no heading #{fragment} "
                f"in {where.relative_to(root)}"
            )
    return problems


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken(path) == []


def test_the_link_check_finds_what_a_reader_would_stumble_on(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# Error codes\n\n## Error codes\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "See [there](there.md#error-codes-1), [gone](gone.md), the codes of\n"
        "contract.md, [bad anchor](there.md#nope) and [ok](#intro).\n"
        "In code, `example.md` is not a link.\n\n# Intro\n\n"
        "[ref]: missing/file.txt\n"
    )
    assert broken(doc, tmp_path) == [
        "doc.md:1: no gone.md",
        "doc.md:2: no heading #nope in there.md",
        "doc.md:7: no missing/file.txt",
        "doc.md:2: no contract.md",
    ]


def test_the_error_codes_in_docs_security_are_the_gateways() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.M))
    assert documented == {code for _, code in CODES} | {"INTERNAL_SERVER_ERROR"}
