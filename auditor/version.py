"""The release: its one source (pyproject.toml reads it from here; `auditor --version` prints it)."""

__version__ = "0.1.0"
