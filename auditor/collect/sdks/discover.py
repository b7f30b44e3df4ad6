"""A bounded breadth-first listing of the files below some folders (a Ruby project's code, for its settings).

A few levels below each folder, a budget of directories in all, never into the named folders nor hidden
ones, never through a directory symlink. The folders where a machine's applications live are walked by
the tree walk (auditor.collect.tree), not here.
"""

from __future__ import annotations

from collections import deque

from auditor.fs import FsError, View


def files_below(view: View, roots: list[str], max_depth: int, budget: int, skip: frozenset, unvisited: list | None = None):
    """Files (Listed entries) below the roots, breadth first, at most `max_depth` levels and `budget` directories listed;
    skipped: the `skip` names, hidden folders, directory symlinks. Directories left when the budget ran out, and
    those that could not be listed, go to `unvisited`."""
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
            if unvisited is not None:
                unvisited.append(directory)
            continue
        for entry in entries:
            if entry.is_dir():
                if depth < max_depth and entry.name not in skip and not entry.name.startswith("."):
                    queue.append((entry.path, depth + 1))
            else:
                yield entry
