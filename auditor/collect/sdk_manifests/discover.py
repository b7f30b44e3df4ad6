"""Application folders of a machine or image where other languages' manifests usually live.

The walk is bounded: a few levels below each folder, a budget of directories in all, never into
dependency or VCS folders (node_modules, vendor, .git …) nor hidden ones (~/.m2, ~/.gradle, ~/.npm
hold thousands of other projects' manifests), never through a directory symlink.
"""

from __future__ import annotations

import os
from collections import deque

from auditor.collect.sdk_manifests import manifest_format
from auditor.fs import FsError, View
from auditor.model import ScanError

APP_FOLDERS = ("/app", "/srv/*", "/opt/*", "/var/www/*", "/usr/src/app", "/workspace")
MAX_DEPTH = 3  # /srv/shop/services/api/pom.xml is found; deeper trees are scanned as targets
MAX_DIRECTORIES = 2000
SKIP = frozenset({"node_modules", "vendor", "bower_components", ".git", ".hg", ".svn", "__pycache__", "site-packages",
                  "dist-packages", "target", "build", "dist", "pkg", "venv", "lib", "lib64", "share", "include"})


def app_manifests(view: View, homes: list[str]) -> tuple[list[tuple[str, str]], list[ScanError]]:
    """(host path, format label) of every manifest found, and an error entry when the budget ran out."""
    roots, seen = [], set()
    for pattern in APP_FOLDERS + tuple(homes):
        for path in view.glob(pattern):
            real = _real(view, path)
            if real and real not in seen and view.is_dir(path) and not os.path.islink(path):
                seen.add(real)
                roots.append(path)
    unvisited: list[str] = []
    found = sorted((entry.path, label) for entry in files_below(view, roots, MAX_DEPTH, MAX_DIRECTORIES, SKIP, unvisited)
                   if (label := manifest_format(entry.name)) is not None)
    if not unvisited:
        return found, []
    rest = ", ".join(sorted({view.display(d) for d in unvisited})[:5])
    return found, [ScanError(rest, f"application folders: stopped after {MAX_DIRECTORIES} directories; "
                                   "scan deeper trees as targets (auditor scan DIR)")]


def files_below(view: View, roots: list[str], max_depth: int, budget: int, skip: frozenset, unvisited: list | None = None):
    """Files (DirEntry) below the roots, breadth first, at most `max_depth` levels and `budget` directories listed;
    skipped: the `skip` names, hidden folders, directory symlinks. Directories left when the budget ran out go
    to `unvisited`."""
    queue = deque((root, 0) for root in roots)
    listed = 0
    while queue:
        if listed >= budget:
            if unvisited is not None:
                unvisited.extend(directory for directory, _ in queue)
            return
        directory, depth = queue.popleft()
        listed += 1
        try:
            entries = view.list_dir(directory)
        except FsError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if depth < max_depth and entry.name not in skip and not entry.name.startswith("."):
                    queue.append((entry.path, depth + 1))
            else:
                yield entry


def _real(view: View, path: str):
    try:
        return view.resolve(path)
    except FsError:
        return None
