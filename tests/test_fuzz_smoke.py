"""The coverage-guided campaign as CI runs it: every atheris target of fuzz/ for a few seconds, from its seeds,
with a fixed libFuzzer seed. A crash, a hang past -timeout or a run over -rss_limit_mb fails the test, which
prints the target, the reason and the command that replays the input. Where atheris is not installed the tests
skip; CI sets AUDITOR_REQUIRE_FUZZ=1 so that they must run there."""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz_targets import MODULES, fuzz_run

RUN_PY = Path(fuzz_run.__file__)
SECONDS = int(os.environ.get("AUDITOR_FUZZ_SECONDS", "4"))  # per target; CI gives 2 (.ci/run): 70+ targets, 2 at a time
JOBS = max(1, min(4, os.cpu_count() or 1))
SUMMARY = re.compile(r"^(\S+) +(\d+) +(\d+) +(\d+) +(\d+)  (ok|FAILED.*)$", re.M)


@pytest.fixture
def atheris_installed():
    if importlib.util.find_spec("atheris") is None:
        if os.environ.get("AUDITOR_REQUIRE_FUZZ") == "1":
            pytest.fail("AUDITOR_REQUIRE_FUZZ=1 but atheris is not installed (pip install '.[test]' on Linux x86-64)")
        pytest.skip("atheris is not installed")


def run_all(run_py: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(run_py), "--all", *args], cwd=cwd, capture_output=True, text=True)


def summary(output: str) -> dict[str, tuple[int, int, str]]:
    """target -> (runs, executions, result) from the runner's summary lines."""
    return {m[1]: (int(m[2]), int(m[3]), m[6]) for m in SUMMARY.finditer(output)}


def test_every_target_survives_a_smoke_run(atheris_installed, capsys):
    # A per-input timeout and a memory limit far above what any input needs: a loaded machine slows the run
    # down (fewer executions) but never fails it.
    done = run_all(RUN_PY, RUN_PY.parents[1], "--seconds", str(SECONDS), "--jobs", str(JOBS), "--seed", "1",
                   "-timeout=60", "-rss_limit_mb=2048")
    print(done.stdout)
    assert done.returncode == 0, f"the fuzz smoke run failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    results = summary(done.stdout)
    assert set(results) == set(fuzz_run.all_targets(MODULES)), done.stdout
    assert all(result == "ok" and executions > 0 for _, executions, result in results.values()), done.stdout
    total = re.search(rf"^{len(results)} targets, \d+ s, [\d,]+ executions, no crash.*$", done.stdout, re.M)
    assert total
    with capsys.disabled():  # the CI log keeps the run's figures (docs/reliability.md quotes them)
        print(f"\nfuzz smoke run: {total.group(0)}")


CANARIES = '''
import time

SEED = b"a seed"


def fine(data: bytes) -> None:
    data.decode("latin-1")


def crash(data: bytes) -> None:
    if data and data != SEED:  # libFuzzer tries the empty input first: fail on a mutation
        raise RuntimeError("a deliberate crash")


def hang(data: bytes) -> None:
    if data and data != SEED:  # libFuzzer tries the empty input first: fail on a mutation
        time.sleep(30)


def memory(data: bytes) -> None:
    if data and data != SEED:  # libFuzzer tries the empty input first: fail on a mutation
        held = b"x" * (400 << 20)
        time.sleep(5)
        del held


TARGETS = {"fine": fine, "crash": crash, "hang": hang, "memory": memory}


def seeds():
    return {name: [SEED] for name in TARGETS}
'''


def test_a_crash_a_hang_and_a_memory_blowup_turn_the_run_red(atheris_installed, tmp_path):
    """The real runner, copied beside a targets module of its own, on targets that fail on purpose."""
    fuzz = tmp_path / "fuzz"
    fuzz.mkdir()
    shutil.copy(RUN_PY, fuzz / "run.py")
    (fuzz / "targets_canary.py").write_text(CANARIES)
    done = run_all(fuzz / "run.py", tmp_path, "--seconds", "3", "--jobs", "2", "--seed", "1",
                   "-timeout=2", "-rss_limit_mb=200")
    assert done.returncode == 1, done.stdout + done.stderr
    results = summary(done.stdout)
    assert set(results) == {"fine", "crash", "hang", "memory"}, done.stdout
    assert results["fine"][2] == "ok" and results["fine"][1] > 0
    assert "RuntimeError: a deliberate crash" in results["crash"][2]
    assert "timeout" in results["hang"][2]
    assert "out-of-memory" in results["memory"][2]
    assert re.search(r"^4 targets, \d+ s, [\d,]+ executions, 3 failed: crash, hang, memory$", done.stdout, re.M)
    assert "raise RuntimeError(\"a deliberate crash\")" in done.stdout  # the traceback, for the CI log

    artifacts = {path.name.split("-")[1] for path in (fuzz / "artifacts").iterdir()}
    assert artifacts == {"crash", "timeout", "oom"}
    replays = re.findall(r"^    replay: (python fuzz/run\.py (\S+) (fuzz/artifacts/\S+))$", done.stdout, re.M)
    assert {name for _, name, _ in replays} == {"crash", "hang", "memory"}
    command, name, artifact = next(r for r in replays if r[1] == "crash")
    assert (tmp_path / artifact).is_file()
    printed = re.search(rf"^    replay: {re.escape(command)}\n    base64: (\S+)$", done.stdout, re.M)
    assert base64.b64decode(printed[1]) == (tmp_path / artifact).read_bytes()  # the CI log alone replays it
    replayed = subprocess.run([sys.executable, *command.split()[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert replayed.returncode != 0 and "RuntimeError: a deliberate crash" in replayed.stdout + replayed.stderr
