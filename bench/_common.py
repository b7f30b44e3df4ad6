"""Shared by the benchmarks: time whole commands, best of several runs, in this process's interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import time

PYTHON = sys.executable
AUDITOR = [PYTHON, "-m", "auditor"]

# Spawns the command (its output to /dev/null), waits for it with wait4 and prints its peak RSS (KiB on
# Linux, bytes on macOS), exit code and wall time.
LAUNCHER = """\
import os, sys, time
quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status), time.perf_counter() - started)
"""


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


def best_of_each(commands: list[list[str]], runs: int = 5, ok_codes=(0, 1)) -> list[float]:
    """Fastest wall time of each command, the commands run in turn `runs` times (load that comes and goes then
    falls on each alike: for figures that are subtracted from one another)."""
    best = [float("inf")] * len(commands)
    for _ in range(runs):
        for index, command in enumerate(commands):
            best[index] = min(best[index], best_of(command, 1, ok_codes))
    return best


def best_in_process(function, runs: int = 5) -> float:
    """Fastest wall time of `runs` calls of `function` in this process."""
    fastest = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def peak_rss_and_seconds(command: list[str], runs: int, ok_codes=(0, 1)) -> tuple[float, float]:
    """Lowest peak RSS (MB) and lowest wall time (s) of `runs` executions."""
    unit = 1 if sys.platform == "darwin" else 1024
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    best, fastest = float("inf"), float("inf")
    for _ in range(runs):
        done = subprocess.run([PYTHON, "-c", LAUNCHER, *command], capture_output=True, text=True, env=env)
        peak, code, seconds = done.stdout.split()
        if done.returncode or int(code) not in ok_codes:
            raise SystemExit(f"{command} failed ({code}): {done.stderr[-2000:]}")
        best, fastest = min(best, int(peak) * unit / 2**20), min(fastest, float(seconds))
    return best, fastest


def report(title: str, measured: float, baseline_name: str, baseline: float, target: str) -> float:
    ratio = measured / baseline
    print(f"{title}: {measured * 1000:.1f} ms; baseline '{baseline_name}': {baseline * 1000:.1f} ms; "
          f"ratio {ratio:.2f}x (target {target})")
    return ratio
