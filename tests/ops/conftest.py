"""Operations tests run with the tracing SDK installed, as every process runs."""

from __future__ import annotations

import pytest

from tests.ops.spans import install_sdk


@pytest.fixture(autouse=True)
def tracing_sdk() -> None:
    install_sdk()
