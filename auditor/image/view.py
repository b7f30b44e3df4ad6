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
from auditor.image.layers import Layer, Node, Tree

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
    """The View of an image's layers applied in order (auditor.image.layers.Tree)."""

    def __init__(self, layers: list[Layer]):
        self.top = TOP
        self.image = True
        self.display_top = "/"
        self._plain_dirs: set[str] = set()
        self._number = -1  # keeps no folder of this machine open
        self.layers = layers
        self.tree = Tree()
        for layer in layers:
            self.tree.apply(layer)

    def close(self) -> None:
        for layer in self.layers:
            layer.close()

    # -- names ----------------------------------------------------------------------------------------
    def _key(self, host_path: str) -> str:
        return host_path[len(self.top) + 1:]

    def resolve(self, host_path: str) -> str:
        if not self.inside(host_path):
            raise FsError("outside the scanned image")
        nodes = self.tree.nodes
        pending = host_path[len(self.top):].split("/")
        pending.reverse()
        parts: list[str] = []
        hops = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if parts:
                    parts.pop()
                continue  # the image's / has no parent
            parts.append(name)
            node = nodes.get("/".join(parts))
            if node is None or node.kind != "link":
                continue
            if node.leaves:
                raise FsError(f"symlink to {shown(node.text)} leaves the image; not followed")
            hops += 1
            if hops > MAX_SYMLINKS:
                raise FsError("too many levels of symbolic links (a symlink loop?)")
            parts.pop()
            if node.text.startswith("/"):
                parts = []
            pending.extend(reversed(node.text.split("/")))
        return self.top + "".join("/" + p for p in parts)

    def _node(self, host_path: str) -> Node | None:
        return self.tree.nodes.get(self._key(self.resolve(host_path)))

    # -- reading ----------------------------------------------------------------------------------------
    def kind(self, host_path: str) -> str | None:
        try:
            node = self._node(host_path)
        except FsError:
            return "other"  # a loop, a link out of the image: exists, but not usable
        if node is None:
            return None
        return node.kind if node.kind in ("file", "dir") else "other"

    def link_text(self, host_path: str) -> str | None:
        folder, _, name = host_path.rpartition("/")
        try:
            real = self.resolve(folder)
        except FsError:
            return None
        node = self.tree.nodes.get(self._key(f"{real}/{name}"))
        return shown(node.text) if node is not None and node.kind == "link" else None

    def read_bytes(self, host_path: str, cap: int = 8 * 1024 * 1024, head: bool = False) -> bytes:
        node = self._node(host_path)
        if node is None:
            raise FsError("No such file or directory")
        if node.kind == "dir":
            raise FsError("not a regular file (a directory); not read")
        if node.kind != "file" or node.layer is None:
            raise FsError("not a regular file (a device or FIFO of the image); not read")
        if node.size > cap and not head:
            raise FsError(f"file is {node.size} bytes, over the {cap}-byte limit; not read")
        return node.layer.read(node.offset, min(node.size, cap))

    def open_file(self, host_path: str, cap: int) -> BinaryIO:
        return io.BytesIO(self.read_bytes(host_path, cap))

    def listing(self, host_dir: str) -> tuple[str, list[Any]]:
        real = self.resolve(host_dir)
        node = self.tree.nodes.get(self._key(real))
        if node is None:
            raise FsError("No such file or directory")
        if node.children is None:
            raise FsError("Not a directory")
        key = self._key(real)
        prefix = key + "/" if key else ""
        nodes = self.tree.nodes
        return real, [_Entry(name, nodes[prefix + name].kind) for name in sorted(node.children)]

    def problems(self) -> list[tuple[str, str]]:
        """(path in the image, message) of each thing its layers hold that could not be applied."""
        return [(p.path, p.message) for p in self.tree.problems]

