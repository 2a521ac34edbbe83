"""Issue 24, point 7: the `leadrouter` command with one mistake names it.

These mistakes are caught before any service is asked, so no stack runs:
a token's lifetime that is no positive number of hours, and a file that
cannot be written (export, simulate --csv) answer in words, not with an
expired token or a Python traceback. The mistakes a running stack answers
are in tests/e2e/test_cli.py and tests/e2e/test_one_mistake.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leadrouter import i18n
from leadrouter.cli_setup import write_file


def _cli(*args: str, language: str = "en") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    env["LEADROUTER_LANGUAGE"] = language
    return subprocess.run(
        [sys.executable, "-m", "leadrouter.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("hours", "language", "words"),
    [
        (
            "-1",
            "en",
            "error: argument --hours: '-1' is not a number of hours: give a whole "
            "number from 1",
        ),
        (
            "0",
            "en",
            "error: argument --hours: '0' is not a number of hours: give a whole "
            "number from 1",
        ),
        (
            "x",
            "ru",
            "ошибка: аргумент --hours: «x» — не число часов: укажите целое число от 1",
        ),
    ],
)
def test_a_token_lifetime_that_is_no_hours_is_refused(
    hours: str, language: str, words: str
) -> None:
    done = _cli(
        "token", "--user", "site", "--role", "partner", "--hours", hours,
        language=language,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""  # no token, expired or not
    assert done.stderr.strip().splitlines()[-1] == f"leadrouter token: {words}"


def test_a_file_that_cannot_be_written_is_named_with_why(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "setup.yaml"
    with pytest.raises(SystemExit) as refused:
        write_file(str(missing), "x")
    assert str(refused.value) == f"cannot write {missing}: No such file or directory"
    with i18n.speaking("ru"), pytest.raises(SystemExit) as refused:
        write_file(str(tmp_path), "x")
    assert str(refused.value) == f"не удалось записать {tmp_path}: Is a directory"


@pytest.mark.parametrize(
    ("args", "language", "words"),
    [
        (
            ("token", "--user", "ursula", "--role", "boss"),
            "ru",
            "leadrouter token: ошибка: аргумент --role: нет варианта 'boss'; "
            "выберите из 'admin', 'manager', 'partner', 'viewer'",
        ),
        (
            ("token", "--user", "ursula", "--role", "boss"),
            "en",
            "leadrouter token: error: argument --role: invalid choice: 'boss' "
            "(choose from 'admin', 'manager', 'partner', 'viewer')",
        ),
        (
            ("restore", "abc"),
            "ru",
            "leadrouter restore: ошибка: аргумент version: 'abc' — не целое число",
        ),
        (
            ("simulate", "workspace.yaml", "--from", "2026-11-20"),
            "ru",
            "leadrouter simulate: ошибка: не указаны обязательные аргументы: --to",
        ),
        (
            (
                "simulate",
                "workspace.yaml",
                "--from",
                "2026-11-31",
                "--to",
                "2026-12-01",
            ),
            "ru",
            "leadrouter simulate: ошибка: аргумент --from: «2026-11-31» — это не дата "
            "(2026-11-20) и не время со смещением (2026-11-20T09:00+07:00)",
        ),
        (
            ("history", "--verbose"),
            "ru",
            "leadrouter: ошибка: неизвестные аргументы: --verbose",
        ),
    ],
)
def test_the_parsers_own_refusals_speak_the_shells_language(
    args: tuple[str, ...], language: str, words: str
) -> None:
    done = _cli(*args, language=language)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == words
