"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer), over the targets of every fuzz/targets_*.py.

    python fuzz/run.py --list
    python fuzz/run.py NAME [libFuzzer options and corpus folders, e.g. -max_total_time=600 -rss_limit_mb=2048]
    python fuzz/run.py --all --seconds 60 [--jobs 2] [--seed 1] [libFuzzer options for every target]

A target module maps names to callables taking bytes (TARGETS) and may offer seeds() -> {name: [bytes]}, real
inputs the first corpus starts from. NAME is a target's name, or AREA.NAME when two modules use the same one
(AREA is the module's name without targets_). An empty corpus folder is filled with the seeds first; without
one, a temporary folder is (and named). Crash, timeout and out-of-memory inputs go to fuzz/artifacts/ unless
-artifact_prefix= says otherwise, and `python fuzz/run.py NAME fuzz/artifacts/FILE` replays one. --all exits
with status 1 when any target crashed, hung or ran out of memory, and prints the command that replays each input.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import glob
import importlib.util
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(HERE, "artifacts")
DEFAULTS = ["-rss_limit_mb=2048", "-timeout=20"]  # an input running 20 s is a hang; over 2 GB, a leak
MAX_RESTARTS = 20  # --all: libFuzzer stops at a crash; the target is started again until its time is spent
MAX_PRINTED = 4096  # --all prints each failing input up to this size (bytes), as Base64
NO_ATHERIS = "fuzz/run.py: atheris is not installed: pip install '.[fuzz]' (Linux and macOS)"


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


def instrumented_modules() -> dict[str, object]:
    """load_modules() with every module it imports instrumented for coverage (atheris must be installed)."""
    import atheris
    with atheris.instrument_imports():
        return load_modules()


def resolve(modules: dict[str, object], name: str) -> tuple[str, str] | None:
    """(area, name in its module) of a target named NAME or AREA.NAME; None if there is none."""
    targets = all_targets(modules)
    targets.update({f"{area}.{key}": (area, key) for area, key in list(targets.values())})
    return targets.get(name)


def fuzz(name: str, libfuzzer_args: list[str]) -> int:
    try:
        import atheris  # noqa: F401
    except ImportError:
        print(NO_ATHERIS, file=sys.stderr)
        return 2
    modules = instrumented_modules()
    if resolve(modules, name) is None:
        print(f"fuzz/run.py: no target {name!r}; python fuzz/run.py --list names them", file=sys.stderr)
        return 2
    start(modules, name, libfuzzer_args)
    return 0


def start(modules: dict[str, object], name: str, libfuzzer_args: list[str]) -> None:
    """Fuzz one target in this process; libFuzzer ends the process (status 0 when its time or runs are spent)."""
    import atheris
    area, key = resolve(modules, name)
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


class Campaign:
    """One target's share of --all: its runs (a run ends at the first crash), over one corpus."""

    def __init__(self, name: str, folder: str, deadline: float) -> None:
        self.name = name
        self.folder = folder  # the corpus, each run's log and the target's work folders; removed at the end
        self.deadline = deadline
        self.runs = self.executions = self.coverage = self.features = 0
        self.failures: list[str] = []
        self.artifacts: list[str] = []
        self.tracebacks: list[str] = []

    @property
    def corpus(self) -> str:
        return os.path.join(self.folder, "corpus")

    def log(self) -> str:
        return os.path.join(self.folder, f"run-{self.runs}.log")

    def record(self, log: str, status: int) -> bool:
        """Take in a finished run's log and exit status; True if the run failed."""
        stats = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
        counts = re.findall(r"^#(\d+)\s", log, re.M)  # a crashed run may print no final stats
        self.executions += int(stats[-1]) if stats else int(counts[-1]) if counts else 0
        for coverage, features in re.findall(r"\bcov: (\d+) ft: (\d+)", log):
            self.coverage, self.features = max(self.coverage, int(coverage)), max(self.features, int(features))
        if status != 0:
            self.failures.append(_reason(log, status))
            self.artifacts += re.findall(r"Test unit written to (\S+)", log)
            traceback = re.search(r"=== Uncaught Python exception: ===\n(.*?)\n\s*\n", log, re.S)
            if traceback:
                self.tracebacks.append(traceback.group(1).rstrip())
        return status != 0


def run_all(seconds: int, extra: list[str], jobs: int = 1, seed: int | None = None) -> int:
    """Each target for `seconds`, `jobs` at a time, each run in a process forked from this one once the modules
    are instrumented (instrumenting takes seconds; a fork, none). A run that crashes, hangs past -timeout or
    goes over -rss_limit_mb is started again, with the corpus it grew, until the target's time is spent.
    One summary line per target; the exit status is 1 if any target failed."""
    began = time.monotonic()
    with contextlib.redirect_stderr(io.StringIO()):  # atheris names each module it instruments
        modules = instrumented_modules()
    names = sorted(all_targets(modules))
    timeout = next((int(a.split("=", 1)[1]) for a in reversed(extra) if a.startswith("-timeout=")),
                   int(DEFAULTS[1].split("=", 1)[1]))
    grace = 2 * timeout + 60  # past its time by this much, a run is stopped from here (libFuzzer did not)
    waiting, running, done = list(reversed(names)), {}, []
    print(f"{'target':36} {'runs':>4} {'executions':>11} {'cov':>6} {'ft':>6}  result", flush=True)
    while waiting or running:
        while waiting and len(running) < jobs:
            name = waiting.pop()
            campaign = Campaign(name, tempfile.mkdtemp(prefix=f"auditor-fuzz-{name}-"), time.monotonic() + seconds)
            os.makedirs(campaign.corpus)
            running[_fork(modules, campaign, extra, seed)] = (campaign, time.monotonic() + seconds + grace)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for pid, (campaign, stop_at) in list(running.items()):
                if time.monotonic() > stop_at:
                    os.kill(pid, signal.SIGKILL)
                    campaign.failures.append(f"still running {grace} s past its time: stopped")
                    running[pid] = (campaign, float("inf"))
            time.sleep(0.05)
            continue
        campaign, _ = running.pop(pid)
        try:
            with open(campaign.log(), encoding="utf-8", errors="replace") as file:
                log = file.read()
        except FileNotFoundError:  # the child failed before it could open it (and said so on stderr)
            log = ""
        failed = campaign.record(log, os.waitstatus_to_exitcode(status))
        left = int(campaign.deadline - time.monotonic())
        if failed and left >= 1 and campaign.runs < MAX_RESTARTS:
            running[_fork(modules, campaign, extra, seed)] = (campaign, time.monotonic() + left + grace)
            continue
        shutil.rmtree(campaign.folder, ignore_errors=True)
        done.append(campaign)
        _summary(campaign)
    failed = [c.name for c in done if c.failures]
    print(f"{len(done)} targets, {time.monotonic() - began:.0f} s, "
          f"{sum(c.executions for c in done):,} executions, "
          + (f"{len(failed)} failed: {', '.join(sorted(failed))}" if failed else "no crash, timeout or out-of-memory"),
          flush=True)
    return 1 if failed else 0


def _fork(modules: dict[str, object], campaign: Campaign, extra: list[str], seed: int | None) -> int:
    """Start the next run of a campaign in a child process; its output goes to the run's log."""
    campaign.runs += 1
    left = max(1, int(campaign.deadline - time.monotonic()))
    args = [f"-max_total_time={left}", "-print_final_stats=1",
            *([f"-seed={seed + campaign.runs - 1}"] if seed is not None else []), *extra, campaign.corpus]
    log = campaign.log()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never back into the parent's loop
        output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        tempfile.tempdir = campaign.folder  # the targets' work folders, removed with the campaign
        start(modules, campaign.name, args)
        status = 0
    except SystemExit as stop:
        # atheris ends a run whose target raised so, and libFuzzer writes the input from its C exit handler:
        # end through the C library's exit() (never back into the parent's loop), not os._exit().
        sys.stdout.flush()
        sys.stderr.flush()
        import ctypes
        ctypes.CDLL(None).exit(stop.code if isinstance(stop.code, int) and stop.code else 1)
        status = 1
    except BaseException:  # noqa: B036  (anything else must end here too, in the child)
        import traceback
        traceback.print_exc()
        status = 3
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _summary(campaign: Campaign) -> None:
    reasons = list(dict.fromkeys(campaign.failures))
    result = "ok"
    if reasons:
        first = reasons[0] if len(reasons[0]) <= 160 else reasons[0][:157] + "..."
        others = f" (+{len(reasons) - 1} other)" if reasons[1:] else ""
        result = f"FAILED in {len(campaign.failures)} run(s): {first}{others}"
    print(f"{campaign.name:36} {campaign.runs:>4} {campaign.executions:>11} {campaign.coverage:>6} "
          f"{campaign.features:>6}  {result}", flush=True)
    for traceback in list(dict.fromkeys(campaign.tracebacks))[:1]:
        print("\n".join("    " + line for line in traceback.splitlines()[-12:]))
    for artifact in dict.fromkeys(campaign.artifacts):
        print(f"    replay: python {_shown(os.path.abspath(__file__))} {campaign.name} {_shown(artifact)}")
        if os.path.isfile(artifact) and os.path.getsize(artifact) <= MAX_PRINTED:  # so a CI log alone replays it
            with open(artifact, "rb") as file:
                print(f"    base64: {base64.b64encode(file.read()).decode('ascii')}")
    sys.stdout.flush()


def _shown(path: str) -> str:
    """A path relative to the working folder where it lies below it (so a replay command can be pasted)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


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
                                     usage="%(prog)s --list | NAME [libFuzzer args] | --all --seconds N "
                                           "[--jobs J] [--seed S] [libFuzzer args]")
    parser.add_argument("--list", action="store_true", help="name every target")
    parser.add_argument("--all", action="store_true", help="run every target, each in its own process")
    parser.add_argument("--seconds", type=int, default=60, help="with --all: time per target (default 60)")
    parser.add_argument("--jobs", type=int, default=1, help="with --all: targets run at once (default 1)")
    parser.add_argument("--seed", type=int, help="with --all: libFuzzer's -seed for each target's first run "
                                                 "(S+1 for the next, ...), for a reproducible run; default random")
    parser.add_argument("name", nargs="?", help="the target to fuzz")
    args, rest = parser.parse_known_args(argv)
    if args.list:
        print("\n".join(sorted(all_targets(load_modules()))))
        return 0
    if args.all:
        try:
            import atheris  # noqa: F401
        except ImportError:
            print(NO_ATHERIS, file=sys.stderr)
            return 2
        if args.seconds < 1 or args.jobs < 1:
            parser.error("--seconds and --jobs must be at least 1")
        return run_all(args.seconds, rest, args.jobs, args.seed)
    if not args.name:
        parser.print_usage(sys.stderr)
        return 2
    return fuzz(args.name, rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
