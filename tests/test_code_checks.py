"""The code's own checks, configured in pyproject.toml: lint (ruff), the import contract (import-linter: no import
circle between the modules of any package) and types (mypy). They run with the tests, so the README's test command,
and CI with it, fails when one does."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest

TOP = Path(__file__).parents[1]


@pytest.mark.parametrize("tool, arguments", [("ruff", ["check", "--no-cache"]), ("lint-imports", ["--no-cache"]),
                                             ("mypy", ["--no-incremental"])])
def test_the_code_passes_its_checks(tool, arguments):
    program = Path(sysconfig.get_path("scripts")) / tool
    if not program.exists():
        pytest.fail(f"{tool} is not installed beside this Python: pip install '.[test]'")
    done = subprocess.run([str(program), *arguments], cwd=TOP, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, NO_COLOR="1"))
    assert done.returncode == 0, f"{tool} {' '.join(arguments)}:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
