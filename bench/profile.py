"""Where the product's CPU goes in a claim burst: py-spy over every process at once.

Each process of the stack is sampled by its own `py-spy record` while one
32-manager burst runs (not a measured one: sampling costs a little CPU). The
raw stacks are folded into the functions that were on CPU (self time) and the
product's functions they were called from, so RESULTS.md shows the profile of
the code it measured, not a page written by hand.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

# Frames of our own code: the first of them up a stack is where the time is
# spent from the product's point of view (library frames above it are its cost).
OWN = ("/services/", "/gateway/", "/leadrouter/")
TOP = 15
# The installation's part of a library's path: '…/site-packages/', '…/lib/python3.11/'.
_LIBRARY = re.compile(r"^.*/(site-packages|lib/python3\.\d+)/")


def _py_spy() -> str | None:
    """py-spy of this environment (make runs .venv/bin/python, not on PATH)."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def available() -> bool:
    return _py_spy() is not None


@dataclass
class Profiler:
    """`with Profiler({name: pid}) as p:` samples those processes for the block."""

    pids: dict[str, int]
    rate: int = 50
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp("-pyspy")))
    _spies: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __enter__(self) -> Profiler:
        for name, pid in self.pids.items():
            self._spies[name] = subprocess.Popen(
                [
                    str(_py_spy()),
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    str(self.rate),
                    "--nonblocking",
                    "--full-filenames",
                    "--output",
                    str(self.folder / f"{name}.txt"),
                    "--pid",
                    str(pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for spy in self._spies.values():
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        for spy in self._spies.values():
            try:
                spy.wait(60)
            except subprocess.TimeoutExpired:
                spy.kill()

    def summary(self) -> dict[str, Any]:
        """Samples per process, and the top functions by self and by own caller."""
        samples: Counter[str] = Counter()
        leaf: Counter[tuple[str, str]] = Counter()
        own: Counter[tuple[str, str]] = Counter()
        for name in self.pids:
            path = self.folder / f"{name}.txt"
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                stack, _, count = line.rpartition(" ")
                if not stack or not count.isdigit():
                    continue
                frames = [f for f in stack.split(";") if f.strip()]
                # py-spy leaves out idle threads itself (no --idle).
                if not frames:
                    continue
                n = int(count)
                samples[name] += n
                leaf[(name, _short(frames[-1]))] += n
                mine = next((f for f in reversed(frames) if _is_own(f)), None)
                if mine is not None:
                    own[(name, _short(mine))] += n
        total = sum(samples.values()) or 1
        return {
            "rate": self.rate,
            "samples": dict(samples),
            "self": [
                [process, where, round(100 * n / total, 1)]
                for (process, where), n in leaf.most_common(TOP)
            ],
            "own": [
                [process, where, round(100 * n / total, 1)]
                for (process, where), n in own.most_common(TOP)
            ],
        }


def _is_own(frame: str) -> bool:
    return any(part in frame for part in OWN) and "/.venv/" not in frame


def _short(frame: str) -> str:
    """'take (/…/services/crm/pool.py:91)' -> 'take (services/crm/pool.py)'."""
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    path = _LIBRARY.sub("", path)
    for marker in OWN:
        if marker in path:
            path = marker.strip("/") + "/" + path.partition(marker)[2]
            break
    return f"{function.strip()} ({path})"


def section(profile: dict[str, Any] | None) -> list[str]:
    """The profile's part of RESULTS.md."""
    if not profile or not profile.get("samples"):
        return []
    total = sum(profile["samples"].values())
    per = ", ".join(
        f"{name} {100 * n / total:.0f} %"
        for name, n in sorted(profile["samples"].items(), key=lambda kv: -kv[1])
    )
    lines = [
        "## Profile of this run",
        "",
        f"py-spy at {profile['rate']} Hz on every process of the stack during one "
        f"extra 32-manager claim burst; {total:,} samples on CPU ({per}). Shares "
        "are of all samples of all processes.",
        "",
        "Where the CPU was (the function on CPU):",
        "",
        "| process | function | share |",
        "| --- | --- | ---: |",
    ]
    lines += [f"| {p} | `{w}` | {s:.1f} % |" for p, w, s in profile["self"]]
    lines += [
        "",
        "Which of the product's functions it was spent for (the nearest own frame):",
        "",
        "| process | function | share |",
        "| --- | --- | ---: |",
    ]
    lines += [f"| {p} | `{w}` | {s:.1f} % |" for p, w, s in profile["own"]]
    return [*lines, ""]
