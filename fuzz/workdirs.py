"""The work folders of the fuzz targets: one temporary folder per process, removed at exit, and one folder
per target below it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_top: list[str] = []


def workdir(name: str, empty: bool = False) -> str:
    """The folder of target `name`. Targets that write the same files every time keep it (removing a folder
    costs milliseconds, more than most parsers take); `empty`: start from an empty one."""
    if not _top:
        _top.append(tempfile.mkdtemp(prefix="auditor-fuzz-"))
        atexit.register(shutil.rmtree, _top[0], True)
    path = os.path.join(_top[0], name)
    if empty:
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    return path
