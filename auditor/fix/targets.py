"""The targets of `auditor fix`, as the scan reads them, and the file of the target a finding's location means:
every file fix reads or writes is resolved through the target's View, so it stays inside the target and no
symlink leads out of it."""

from __future__ import annotations

import os

from auditor.fs import FsError, View
from auditor.records import record


@record
class FixTarget:
    view: View
    shown_top: str  # the target's folder as the report's locations begin


class Outside(Exception):
    """A location that is no file of a target (or leaves it through a symlink); the message says why."""


def fix_targets(paths: list[str]) -> list[FixTarget]:
    """A View per target: a folder's own; a file's folder's, as the scan reads a lockfile and its includes."""
    targets = []
    for path in paths:
        if os.path.isdir(path):
            trimmed = path.rstrip("/") or "/"
            targets.append(FixTarget(View(path, display_top=trimmed), trimmed))
        else:
            real = os.path.realpath(path)
            shown_dir = os.path.dirname(path) if real == os.path.abspath(path) else os.path.dirname(real)
            targets.append(FixTarget(View(os.path.dirname(real), display_top=shown_dir), shown_dir))
    return targets


def locate(targets: list[FixTarget], location: str) -> tuple[View, str]:
    """(the View, the real path) of the regular file of a target that a report's `location` names."""
    for target in targets:
        for top in dict.fromkeys((target.shown_top, os.path.abspath(target.shown_top), target.view.top)):
            prefix = top.rstrip("/") + "/"
            if not location.startswith(prefix):
                continue
            host = os.path.join(target.view.top, location[len(prefix):])
            try:
                real = target.view.resolve(host)
            except FsError as exc:
                raise Outside(f"{exc}: not edited") from None
            if target.view.kind(real) != "file":
                raise Outside("not a regular file of the target: not edited")
            return target.view, real
    raise Outside("outside the targets: only reported, never edited")
