"""The bench's profile folds py-spy's raw stacks into what RESULTS.md shows."""

from __future__ import annotations

from pathlib import Path

from bench.profile import Profiler, section


def test_samples_fold_into_the_function_on_cpu_and_the_products_own_caller(
    tmp_path: Path,
) -> None:
    site = "/srv/.venv/lib/python3.11/site-packages"
    serve = "<module> (/srv/services/crm/server.py:1)"
    take = "take (/srv/services/crm/pool.py:9)"
    (tmp_path / "crm.txt").write_text(
        f"{serve};{take};execute ({site}/sqlalchemy/engine/base.py:1977) 30\n"
        f"{serve};{take} 10\n"
    )
    (tmp_path / "gateway.txt").write_text(
        f"run ({site}/uvicorn/main.py:1);"
        f"parse ({site}/graphql/language/parser.py:5) 60\n"
    )
    profiler = Profiler({"crm": 1, "gateway": 2, "limits": 3}, folder=tmp_path)

    summary = profiler.summary()

    assert summary["samples"] == {"crm": 40, "gateway": 60}
    assert summary["self"] == [
        ["gateway", "parse (graphql/language/parser.py)", 60.0],
        ["crm", "execute (sqlalchemy/engine/base.py)", 30.0],
        ["crm", "take (services/crm/pool.py)", 10.0],
    ]
    # The product's own frame nearest the CPU: the take, for both crm stacks.
    assert summary["own"] == [["crm", "take (services/crm/pool.py)", 40.0]]
    shown = "\n".join(section(summary))
    assert "| gateway | `parse (graphql/language/parser.py)` | 60.0 % |" in shown
    assert "100 samples on CPU (gateway 60 %, crm 40 %)" in shown
