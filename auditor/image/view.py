"""An image's layered tree read through auditor.fs.View's interface, so that every collector reads an image as
`--root` reads an unpacked root: absolute symlinks resolve inside the image, a symlink whose text climbs out of it
is not followed, devices and FIFOs are never read, every read has its cap.

Its paths are host-path-shaped: `top` (a name that is no folder of this machine) joined with the path in the image;
it displays them as the image knows them (`/etc/ssl/certs/ca-certificates.crt`). Nothing of this machine is read
through it: every answer comes from the layers' tars.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from auditor.fs import MAX_SYMLINKS, FsError, View, shown
from auditor.image.layers import Layer
from auditor.image.tree import Entry, File, Folder, Link, Tree, kind_of

TOP = "/.image-layers"  # the host-path-shaped prefix of the image's paths; never read on this machine


class _Entry:
    """A name in a listed folder, answering as the os.DirEntry of a folder's listing does (links not followed)."""

    __slots__ = ("name", "path", "_kind")

    def __init__(self, name: str, kind: str):
        self.name, self.path, self._kind = name, name, kind

    def is_dir(self, *, follow_symlinks: bool = False) -> bool:
        return self._kind == "dir"

    def is_file(self, *, follow_symlinks: bool = False) -> bool:
        return self._kind == "file"

    def is_symlink(self) -> bool:
        return self._kind == "link"


class LayeredView(View):
    """The View of an image's layers applied in order (auditor.image.tree.Tree)."""

    def __init__(self, layers: list[Layer]):
        self.top = TOP
        self.image = True
        self.display_top = "/"
        self._plain_dirs: set[str] = set()
        self._number = -1  # keeps no folder of this machine open
        self.tree = Tree()
        try:
            for layer in layers:
                self.tree.apply(layer)
        except BaseException:
            self.tree.close()  # its temporary names removed, whatever stopped the layers being applied
            raise

    def close(self) -> None:
        """Close the layers and remove the temporary index of the image's names."""
        self.tree.close()

    # -- names ----------------------------------------------------------------------------------------
    def _walk(self, host_path: str) -> tuple[list[str], Entry | None]:
        """The parts of the path in the image with every symlink resolved, and what the tree holds there."""
        if not self.inside(host_path):
            raise FsError("outside the scanned image")
        pending = host_path[len(self.top):].split("/")
        pending.reverse()
        parts: list[str] = []
        trail: list[Entry | None] = [self.tree.root]  # what the tree holds at each prefix of parts
        hops = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if parts:  # the image's / has no parent
                    parts.pop()
                    trail.pop()
                continue
            here = trail[-1]
            found = self.tree.child(here, name) if isinstance(here, Folder) else None
            if isinstance(found, Link):
                if found.leaves:
                    raise FsError(f"symlink to {shown(found.text)} leaves the image; not followed")
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise FsError("too many levels of symbolic links (a symlink loop?)")
                if found.text.startswith("/"):
                    parts, trail = [], [self.tree.root]
                pending.extend(reversed(found.text.split("/")))
                continue
            parts.append(name)
            trail.append(found)
        return parts, trail[-1]

    def resolve(self, host_path: str) -> str:
        return self.top + "".join("/" + p for p in self._walk(host_path)[0])

    def unreachable(self, host_path: str) -> str | None:
        try:
            return "no such file or directory" if self._walk(host_path)[1] is None else None
        except FsError as exc:
            return str(exc)

    # -- reading ----------------------------------------------------------------------------------------
    def kind(self, host_path: str) -> str | None:
        try:
            entry = self._walk(host_path)[1]
        except FsError:
            return "other"  # a loop, a link out of the image: exists, but not usable
        return None if entry is None else kind_of(entry)

    def link_text(self, host_path: str) -> str | None:
        folder, _, name = host_path.rpartition("/")
        try:
            here = self._walk(folder)[1]
        except FsError:
            return None
        found = self.tree.child(here, name) if isinstance(here, Folder) else None
        return shown(found.text) if isinstance(found, Link) else None

    def read_bytes(self, host_path: str, cap: int = 8 * 1024 * 1024, head: bool = False) -> bytes:
        entry = self._walk(host_path)[1]
        if entry is None:
            raise FsError("No such file or directory")
        if isinstance(entry, Folder):
            raise FsError("not a regular file (a directory); not read")
        if not isinstance(entry, File):
            raise FsError("not a regular file (a device, FIFO or sparse file of the image); not read")
        if entry.size > cap and not head:
            raise FsError(f"file is {entry.size} bytes, over the {cap}-byte limit; not read")
        return self.tree.read(entry, cap)

    def open_file(self, host_path: str, cap: int) -> BinaryIO:
        return io.BytesIO(self.read_bytes(host_path, cap))

    def listing(self, host_dir: str) -> tuple[str, list[Any]]:
        parts, entry = self._walk(host_dir)
        if entry is None:
            raise FsError("No such file or directory")
        if not isinstance(entry, Folder):
            raise FsError("Not a directory")
        real = self.top + "".join("/" + p for p in parts)
        return real, [_Entry(name, kind) for name, kind in self.tree.children(entry)]

    def problems(self) -> list[tuple[str, str]]:
        """(path in the image, message) of each thing its layers hold that could not be applied."""
        return [(p.path, p.message) for p in self.tree.problems]
