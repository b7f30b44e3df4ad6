"""Python environments of a machine: the running interpreter's sys.path, then the
system-wide and per-user install locations other interpreters and tools use, then the
folders where applications live (walked as a tree is, within caps). The same places
are searched inside an OS image (--root), through its View."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from auditor.collect.tree import SKIP_DIRS, Environment, WalkLimits, group_site_dirs
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record

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


# Where applications and their virtualenvs, lockfiles and vendored copies live (globs from /), besides every home.
APPLICATION_GLOBS = ("/app", "/srv/*", "/opt/*", "/usr/src/app", "/var/www", "/workspace",
                     # products that vendor botocore/boto outside any site directory (PRODUCT_FOLDERS)
                     "/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/snap/google-cloud-cli/current",
                     "/snap/google-cloud-sdk/current")
# Programs that vendor AWS SDKs in their own tree: searched for installs and vendored copies, but their code
# is theirs, not this machine's settings.
PRODUCT_FOLDERS = frozenset({"google-cloud-sdk"})
# A place the user did not name is walked this far: levels below it, and entries listed in it.
APPLICATION_LIMITS = WalkLimits(depth=12, entries=200_000)
# Caches and other tools' stores in homes: other projects' files, not this machine's applications.
APPLICATION_SKIP = SKIP_DIRS | {".cache", ".m2", ".gradle", ".npm", ".cargo", ".rustup", ".nvm", ".pyenv", ".conda",
                                ".vscode-server"}


def running_interpreter_path() -> list[str]:
    """The running interpreter's sys.path: .pth files already applied by site.py."""
    return [os.path.abspath(p) for p in sys.path if p and os.path.exists(p)]


def _expand(view: View, patterns, homes: list[str], errors: list[ScanError]) -> list[str]:
    found = []
    for pattern in patterns:
        for expanded in ([pattern.replace("~", home, 1) for home in homes] if pattern.startswith("~") else [pattern]):
            found.extend(sorted(view.glob(expanded, errors=errors)))
    return found


@mutable_record
class Installs:
    environments: list[Environment] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)


@mutable_record
class Folders:
    folders: list[str] = field(default_factory=list)  # host paths
    errors: list[ScanError] = field(default_factory=list)


def other_environments(view: View, skip: set[str], homes: list[str], run: Sequence[str] = ()) -> Installs:
    """Install locations outside the running interpreter's path, grouped per interpreter, and the virtualenvs the
    system's services and `run` (host paths: those a container image's own process runs) run. One that exists but
    cannot be used (no permission, a symlink loop) is an error entry."""
    errors: list[ScanError] = []

    def fresh(paths):
        usable = []
        for path in paths:
            kind = view.kind(path)
            if kind == "other":
                try:
                    view.list_dir(path)
                except FsError as exc:
                    errors.append(ScanError(view.display(path), f"cannot list directory: {exc}"))
            elif kind == "dir" and view.link_text(path) is None and _real(view, path) not in skip:
                usable.append(path)
        return usable

    site_dirs = fresh(_expand(view, SYSTEM_SITE_GLOBS + USER_SITE_GLOBS, homes, errors))
    environments = group_site_dirs(site_dirs, lambda prefix: "system")
    environments += [Environment("virtualenv", venv) for venv in fresh(_expand(view, VENV_GLOBS, homes, errors))]
    from auditor.collect.platform.services import service_virtualenvs  # the virtualenvs systemd units and cron jobs run

    environments += [Environment("virtualenv", venv) for venv in fresh(list(dict.fromkeys([*run, *service_virtualenvs(view)])))
                     if all(e.prefix != venv for e in environments)]
    environments += [Environment("aws-cli-v2", dist) for dist in fresh(_expand(view, CLI_V2_GLOBS, homes, errors))]
    return Installs(environments, errors)


def application_folders(view: View, homes: list[str], also: Sequence[str] = ()) -> Folders:
    """Host paths of the application folders, homes and `also` (folders as the system names them: a container
    image's WorkingDir) that exist, each once (a folder reached by two names, or inside another one listed, is
    walked once); not the symlinks among them, which lead to a folder listed or outside it."""
    errors: list[ScanError] = []
    candidates = []
    for pattern in APPLICATION_GLOBS + tuple(homes) + tuple(also):
        for path in view.glob(pattern, errors=errors):
            if view.kind(path) == "dir" and view.link_text(path) is None:
                try:
                    candidates.append((view.resolve(path), path))
                except FsError as exc:
                    errors.append(ScanError(view.display(path), f"cannot use: {exc}"))
    folders: list[str] = []
    seen: list[str] = []
    for real, path in sorted(set(candidates)):
        if any(real == done or real.startswith(done.rstrip(os.sep) + os.sep) for done in seen):
            continue
        seen.append(real)
        folders.append(path)
    return Folders(folders, errors)


def _real(view: View, path: str) -> str | None:
    """The path with its links resolved inside the view (an image's links never lead out of it), or None."""
    try:
        return view.resolve(path)
    except FsError:
        return None
