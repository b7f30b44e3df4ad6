"""Python environments of this machine: the running interpreter's sys.path, then the
system-wide and per-user install locations other interpreters and tools use."""

from __future__ import annotations

import glob
import os
import sys

from auditor.collect.tree import Environment, group_site_dirs

# Documented install locations of the distributions we inspect (globs from /).
SYSTEM_SITE_GLOBS = (
    "/usr/lib/python*/site-packages",
    "/usr/lib/python*/dist-packages",
    "/usr/lib64/python*/site-packages",
    "/usr/local/lib/python*/site-packages",
    "/usr/local/lib/python*/dist-packages",
    "/usr/local/lib64/python*/site-packages",
    "/opt/homebrew/lib/python*/site-packages",
    "/Library/Python/*/site-packages",
)
USER_SITE_GLOBS = (
    "~/.local/lib/python*/site-packages",
    "~/Library/Python/*/lib/python/site-packages",
    "~/.pyenv/versions/*/lib/python*/site-packages",
    "~/miniconda3/lib/python*/site-packages",
    "~/anaconda3/lib/python*/site-packages",
    "/opt/conda/lib/python*/site-packages",
)
# Tools installed in their own virtualenvs (pipx is a common way to install awscli).
VENV_GLOBS = (
    "~/.local/pipx/venvs/*",
    "~/.local/share/pipx/venvs/*",
    "/opt/pipx/venvs/*",
)
CLI_V2_GLOBS = (
    "/usr/local/aws-cli/v2/*/dist",
    "~/.local/aws-cli/v2/*/dist",
    "/opt/aws-cli/v2/*/dist",
)


def running_interpreter_path() -> list[str]:
    """The running interpreter's sys.path: .pth files already applied by site.py."""
    return [os.path.abspath(p) for p in sys.path if p and os.path.exists(p)]


def _expand(patterns) -> list[str]:
    found = []
    for pattern in patterns:
        found.extend(sorted(glob.glob(os.path.expanduser(pattern))))
    return found


def other_environments(skip: set[str]) -> list[Environment]:
    """Install locations outside the running interpreter's path, grouped per interpreter."""
    def fresh(paths):
        return [p for p in paths if os.path.isdir(p) and os.path.realpath(p) not in skip and not os.path.islink(p)]

    environments = group_site_dirs(fresh(_expand(SYSTEM_SITE_GLOBS + USER_SITE_GLOBS)), lambda prefix: "system")
    environments += [Environment("virtualenv", venv) for venv in fresh(_expand(VENV_GLOBS))]
    environments += [Environment("aws-cli-v2", dist) for dist in fresh(_expand(CLI_V2_GLOBS))]
    return environments
