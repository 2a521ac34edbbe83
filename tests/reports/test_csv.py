"""CSV cells: what a spreadsheet would run as a formula is kept as text."""

from __future__ import annotations

import pytest

from gateway.exports import cell, to_csv


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)"])
def test_a_cell_that_looks_like_a_formula_is_quoted(text: str) -> None:
    assert cell(text) == "'" + text


def test_plain_cells_and_numbers_are_kept() -> None:
    assert cell("too expensive") == "too expensive"
    assert cell(3) == "3"
    assert cell(66.67) == "66.67"


def test_rows_are_quoted_where_csv_needs_it() -> None:
    text = to_csv(["a", "b"], [["x, y", 'say "hi"']])
    assert text == 'a,b\r\n"x, y","say ""hi"""\r\n'
