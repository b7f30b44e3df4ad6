"""The edits written: each file through the one atomic writer (auditor.output: a temporary file in the same
folder, synced, renamed over it), after its backup, and only while it still holds the bytes the plan was made
from."""

from __future__ import annotations

import os

from auditor.fix.changes import APPLIED, FAILED, REFUSED, FileEdit
from auditor.fs import FsError, View


def apply_edit(view: View, edit: FileEdit, backup_suffix: str) -> None:
    """Write one file's edits; each of its changes gets its status (applied, or refused/failed with why)."""
    from auditor.output import write_atomically

    def settle(status: str, why: str = "") -> None:
        for change in edit.changes:
            change.status = status
            if why:
                change.reason += f"; not written: {why}"

    backup = edit.host + backup_suffix
    try:
        if os.path.lexists(backup):
            settle(REFUSED, f"{edit.shown}{backup_suffix} already exists (an earlier backup is never overwritten: "
                            "move it away, or give --backup-suffix)")
            return
        if _changed(view, edit):
            settle(REFUSED, "the file changed since it was read")
            return
        original = os.stat(edit.host, follow_symlinks=False)  # resolved inside the target: no link here
        write_atomically(backup, edit.original, like=original)
        new = edit.content()
        if _changed(view, edit):  # as late as can be, before the rename
            settle(REFUSED, f"the file changed since it was read (its backup {edit.shown}{backup_suffix} was kept)")
            return
        write_atomically(edit.host, new, like=original)
    except (FsError, OSError) as exc:
        settle(FAILED, getattr(exc, "strerror", None) or str(exc))
        return
    settle(APPLIED)


def _changed(view: View, edit: FileEdit) -> bool:
    """The file no longer holds the bytes the plan was made from (one byte more is enough to tell)."""
    return view.read_bytes(edit.host, len(edit.original) + 1, head=True) != edit.original
