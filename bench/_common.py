"""Shared by the benchmarks: time whole commands, best of several runs, in this process's interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import time

PYTHON = sys.executable
AUDITOR = [PYTHON, "-m", "auditor"]


def best_of(command: list[str], runs: int = 5, ok_codes=(0, 1)) -> float:
    """Fastest wall time of `runs` executions (the least disturbed by other load)."""
    best = float("inf")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
        if done.returncode not in ok_codes:
            raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
        best = min(best, elapsed)
    return best


def best_in_process(function, runs: int = 5) -> float:
    """Fastest wall time of `runs` calls of `function` in this process."""
    fastest = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def report(title: str, measured: float, baseline_name: str, baseline: float, target: str) -> float:
    ratio = measured / baseline
    print(f"{title}: {measured * 1000:.1f} ms; baseline '{baseline_name}': {baseline * 1000:.1f} ms; "
          f"ratio {ratio:.2f}x (target {target})")
    return ratio
