"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer), over the targets of every fuzz/targets_*.py.

    python fuzz/run.py --list
    python fuzz/run.py NAME [libFuzzer options and corpus folders, e.g. -max_total_time=600 -rss_limit_mb=2048]
    python fuzz/run.py --all --seconds 60

A target module maps names to callables taking bytes (TARGETS) and may offer seeds() -> {name: [bytes]}, real
inputs the first corpus starts from. NAME is a target's name, or AREA.NAME when two modules use the same one
(AREA is the module's name without targets_). An empty corpus folder is filled with the seeds first; without
one, a temporary folder is (and named). Crash, timeout and out-of-memory inputs go to fuzz/artifacts/ unless
-artifact_prefix= says otherwise, and `python fuzz/run.py NAME fuzz/artifacts/FILE` replays one.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(HERE, "artifacts")
DEFAULTS = ["-rss_limit_mb=2048", "-timeout=20"]  # an input running 20 s is a hang; over 2 GB, a leak
MAX_RESTARTS = 20  # --all: libFuzzer stops at a crash; the target is started again until its time is spent


def load_modules() -> dict[str, object]:
    """Every fuzz/targets_*.py, by area ("trust" for targets_trust.py)."""
    sys.path.insert(0, HERE)
    modules = {}
    for path in sorted(glob.glob(os.path.join(HERE, "targets_*.py"))):
        area = os.path.basename(path)[len("targets_"):-len(".py")]
        spec = importlib.util.spec_from_file_location(f"targets_{area}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[area] = module
    return modules


def all_targets(modules: dict[str, object]) -> dict[str, tuple[str, str]]:
    """name -> (area, name in its module): the bare name where one module alone uses it, else AREA.NAME."""
    counts = Counter(name for module in modules.values() for name in module.TARGETS)
    return {(name if counts[name] == 1 else f"{area}.{name}"): (area, name)
            for area, module in modules.items() for name in module.TARGETS}


def fuzz(name: str, libfuzzer_args: list[str]) -> int:
    try:
        import atheris
    except ImportError:
        print("fuzz/run.py: atheris is not installed: pip install '.[fuzz]' (Linux and macOS)", file=sys.stderr)
        return 2
    with atheris.instrument_imports():
        modules = load_modules()
    targets = all_targets(modules)
    targets.update({f"{area}.{key}": (area, key) for area, key in list(targets.values())})
    if name not in targets:
        print(f"fuzz/run.py: no target {name!r}; python fuzz/run.py --list names them", file=sys.stderr)
        return 2
    area, key = targets[name]
    module = modules[area]
    args = list(libfuzzer_args)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        os.makedirs(ARTIFACTS, exist_ok=True)
        args.append(f"-artifact_prefix={os.path.join(ARTIFACTS, name)}-")
    args = [a for a in DEFAULTS if not any(g.startswith(a.split("=")[0] + "=") for g in args)] + args
    corpus = next((a for a in args if not a.startswith("-")), None)  # a corpus folder, or an input to replay
    if corpus is None:
        corpus = tempfile.mkdtemp(prefix=f"auditor-corpus-{name}-")
        args.append(corpus)
        print(f"fuzz/run.py: the corpus is kept in {corpus}", file=sys.stderr)
    if os.path.isdir(corpus) and not os.listdir(corpus) and hasattr(module, "seeds"):
        for number, seed in enumerate(module.seeds().get(key, [])):
            with open(os.path.join(corpus, f"seed-{number}"), "wb") as file:
                file.write(seed)
    atheris.Setup([sys.argv[0], *args], module.TARGETS[key])
    atheris.Fuzz()
    return 0


def run_all(seconds: int, extra: list[str]) -> int:
    """Each target for `seconds` in its own process; one summary line per target, then its crash inputs."""
    failed = 0
    print(f"{'target':36} {'executions':>12} {'crashes':>8}")
    for name in sorted(all_targets(load_modules())):
        executions, crashes, reasons, artifacts = 0, 0, [], []
        deadline = time.monotonic() + seconds
        with tempfile.TemporaryDirectory(prefix=f"auditor-corpus-{name}-") as corpus:  # kept across restarts
            for _ in range(MAX_RESTARTS):
                left = int(deadline - time.monotonic())
                if left < 1:
                    break
                done = subprocess.run([sys.executable, os.path.abspath(__file__), name, f"-max_total_time={left}",
                                       "-print_final_stats=1", *extra, corpus],
                                      capture_output=True, text=True, errors="replace")
                log = done.stdout + done.stderr
                executions += sum(int(n) for n in re.findall(r"stat::number_of_executed_units:\s*(\d+)", log))
                if done.returncode == 0:
                    break
                crashes += 1
                reasons.append(_reason(log, done.returncode))
                artifacts += re.findall(r"Test unit written to (\S+)", log)
        failed += bool(crashes)
        print(f"{name:36} {executions:>12} {crashes:>8}  {'; '.join(dict.fromkeys(reasons))}", flush=True)
        for artifact in dict.fromkeys(artifacts):
            print(f"    {artifact}")
    return 1 if failed else 0


def _reason(log: str, code: int) -> str:
    """The exception a target raised, or what libFuzzer reported (a timeout, out of memory)."""
    exception = re.search(r"Uncaught Python exception: ===\n(.*?)\n\s*\n", log, re.S)
    if exception:
        return exception.group(1).strip().splitlines()[-1]
    error = re.search(r"ERROR: libFuzzer: ([^\n]*)", log)
    return error.group(1) if error else f"exit status {code}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Coverage-guided fuzzing of the auditor's parsers (atheris).",
                                     allow_abbrev=False,
                                     usage="%(prog)s --list | NAME [libFuzzer args] | --all --seconds N")
    parser.add_argument("--list", action="store_true", help="name every target")
    parser.add_argument("--all", action="store_true", help="run every target, each in its own process")
    parser.add_argument("--seconds", type=int, default=60, help="with --all: time per target (default 60)")
    parser.add_argument("name", nargs="?", help="the target to fuzz")
    args, rest = parser.parse_known_args(argv)
    if args.list:
        print("\n".join(sorted(all_targets(load_modules()))))
        return 0
    if args.all:
        try:
            import atheris  # noqa: F401  (checked here once, not in each target's process)
        except ImportError:
            print("fuzz/run.py: atheris is not installed: pip install '.[fuzz]' (Linux and macOS)", file=sys.stderr)
            return 2
        return run_all(args.seconds, rest)
    if not args.name:
        parser.print_usage(sys.stderr)
        return 2
    return fuzz(args.name, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
