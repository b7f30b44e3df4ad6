"""The base installation's standard library of a virtualenv whose interpreter cannot find it alone, for --runtime.

A virtualenv made by the classic `virtualenv` tool (before 20) copies the interpreter into bin/, links a few
standard modules into lib/pythonX.Y (os.py among them: the landmark that makes the venv its sys.prefix) and
writes lib/pythonX.Y/orig-prefix.txt naming the base installation; its own site.py then adds the base's
standard library to sys.path. virtualenv 20 and later does the same for Python 2 (which ignores pyvenv.cfg)
from the `base-prefix` and `base-exec-prefix` keys it writes to pyvenv.cfg. --runtime runs the interpreter
with -S, so that site.py never runs: these are the folders it would have added, read from those files.
A venv of `python3 -m venv`, or of virtualenv 20 for Python 3, needs none: the interpreter reads pyvenv.cfg.
"""

from __future__ import annotations

import os
import re

from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record

PREFIX_CAP = 64 * 1024
_PYTHON_DIR = re.compile(r"^python(\d+\.\d+)$")
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")


@mutable_record
class BaseStdlib:
    """The folders to add (target paths, in order; none when the interpreter needs none) and why they cannot be
    known: an error entry means the interpreter must not be run."""

    folders: list[str] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)


def base_stdlib(view: View, interpreter: str) -> BaseStdlib:
    """The standard library folders to add to sys.path of the interpreter at `interpreter` (host path, in
    <venv>/bin or <venv>/Scripts; the view's top is the venv)."""
    found = _base_stdlib(view, interpreter)
    return BaseStdlib(errors=[found]) if isinstance(found, ScanError) else BaseStdlib(found)


def _base_stdlib(view: View, interpreter: str) -> list[str] | ScanError:
    prefix = view.top
    lib = os.path.join(prefix, "lib")
    try:
        versions = [m.group(1) for e in view.list_dir(lib) if (m := _PYTHON_DIR.match(e.name))]
    except FsError:
        versions = []
    named = re.search(r"(\d+\.\d+)", os.path.basename(interpreter))
    if named and named.group(1) in versions:
        versions = [named.group(1)]
    if len(versions) == 1:
        stdlib = f"python{versions[0]}"
        marker = os.path.join(lib, stdlib, "orig-prefix.txt")
        if view.kind(marker) is not None:
            base = _read_prefix(view, marker)
            return base if isinstance(base, ScanError) else [os.path.join(base, "lib", stdlib), os.path.join(base, "lib64", stdlib)]
        if versions[0].startswith("2."):
            return _from_pyvenv_cfg(view, os.path.join(prefix, "pyvenv.cfg"), stdlib)
        return []
    marker = os.path.join(prefix, "Lib", "orig-prefix.txt")  # a classic virtualenv on Windows
    if view.kind(marker) is not None:
        base = _read_prefix(view, marker)
        return base if isinstance(base, ScanError) else [os.path.join(base, "Lib"), os.path.join(base, "DLLs")]
    return []


def _read_prefix(view: View, path: str) -> str | ScanError:
    try:
        text = os.fsdecode(view.read_bytes(path, PREFIX_CAP).strip())
    except FsError as exc:
        return ScanError(view.display(path), f"cannot read: {exc}; without it the interpreter cannot find its standard "
                                             f"library, so it was not run")
    return _checked_prefix(view, path, text)


def _checked_prefix(view: View, path: str, text: str) -> str | ScanError:
    """The base prefix as the file names it; it is given to the interpreter as an argument, so it must be one path."""
    if not text or any(c in text for c in "\0\r\n") or not (os.path.isabs(text) or _WINDOWS_ABSOLUTE.match(text)):
        return ScanError(view.display(path), f"does not name one absolute folder ({text[:100]!r}): the interpreter's "
                                             f"standard library cannot be found, so it was not run")
    return text


def _from_pyvenv_cfg(view: View, path: str, stdlib: str) -> list[str] | ScanError:
    """virtualenv 20 for Python 2: base-prefix (pure modules) and base-exec-prefix (lib-dynload)."""
    if view.kind(path) is None:
        return []
    try:
        text = view.read_text(path, PREFIX_CAP)
    except FsError as exc:
        return ScanError(view.display(path), f"cannot read: {exc}; without it the interpreter cannot find its standard "
                                             f"library, so it was not run")
    keys: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            keys.setdefault(key.strip(), value.strip())
    folders: list[str] = []
    for key in ("base-prefix", "base-exec-prefix"):
        if key not in keys:
            continue
        base = _checked_prefix(view, path, keys[key])
        if isinstance(base, ScanError):
            return base
        folders += [f for f in (os.path.join(base, "lib", stdlib), os.path.join(base, "lib64", stdlib)) if f not in folders]
    return folders
