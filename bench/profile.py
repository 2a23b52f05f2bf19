"""Optional profiling of a benchmark's worker with py-spy (the `bench` extra), and a flat summary of it."""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def profiled(pid: int, out: str | None) -> Iterator[None]:
    """py-spy samples `pid` (all threads, idle excluded) while the block runs; collapsed stacks go to `out`."""
    if not out:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    cmd = [spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--output", out, "--nonblocking"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        print(f"profile: {out}\n" + summary(Path(out)))


def summary(path: Path, top: int = 25) -> str:
    """Share of samples in which each function is on the stack (inclusive), most first."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        for frame in {re.sub(r":\d+\)$", ")", f) for f in stack.split(";")}:
            inclusive[frame] += n
    return "\n".join(f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top))
