"""The fuzz target modules of fuzz/ (targets_*.py), loaded once, the way the atheris runner loads them, so the
property tests check outcomes with the same code the long campaign uses."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("fuzz_run", Path(__file__).parents[1] / "fuzz" / "run.py")
fuzz_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_run)
MODULES = fuzz_run.load_modules()  # area ("config" for targets_config.py) -> module
