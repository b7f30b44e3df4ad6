"""An image's layers applied virtually, in order, into one tree of names: each file is where its bytes are (which
layer, at which offset of that layer's uncompressed tar), never a copy on disk.

A layer is applied as a container runtime applies it: its whiteouts first (`.wh.NAME` deletes NAME of the layers
below, `.wh..wh..opq` hides everything below in its folder), then its entries in order, a later entry replacing an
earlier one. What a runtime would refuse or could be abused is an error entry and has no place in the tree: a name
with a `..` part, a whiteout of the image's root, a device or FIFO (kept as an entry of kind 'other', never read),
a hard link to a name not in the image, a symlink whose text climbs out of the image's root.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple, cast

from auditor.fs import FsError

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_ENTRIES = 2_000_000  # names in the whole image, over all its layers
MAX_RATIO = 100  # bytes a compressed layer's members declare, per compressed byte (a gzip bomb)
RATIO_FLOOR = 64 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
TAR_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, ValueError, UnicodeError)


@dataclass(frozen=True)
class Region:
    """Bytes of a file on the host: a layer's blob, or a member of the archive that holds the image."""

    path: str
    offset: int
    size: int

    def open(self) -> BinaryIO:
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return io.BufferedReader(_RegionFile(os.fdopen(fd, "rb", buffering=0), self.offset, self.size), 1 << 16)


class _RegionFile(io.RawIOBase):
    """A seekable window of `size` bytes from `offset` of an open file."""

    def __init__(self, file: BinaryIO, offset: int, size: int):
        self._file, self._offset, self._size, self._position = file, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        self._file.seek(self._offset + self._position)
        data = self._file.read(wanted)
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


class Layer:
    """One layer's tar, compressed or not, read in place: its members are read at their offsets in the uncompressed
    stream (a gzip layer is inflated up to the member, the open stream kept for the reads that follow it)."""

    def __init__(self, number: int, digest: str, region: Region):
        self.number, self.digest, self.region = number, digest, region
        with region.open() as file:
            magic = file.read(4)
        self.compression = ("gzip" if magic[:2] == _GZIP_MAGIC else "zstd" if magic == _ZSTD_MAGIC else None)
        self._stream: BinaryIO | None = None

    @property
    def label(self) -> str:
        return f"layer {self.number} ({self.digest[:19]})" if self.digest else f"layer {self.number}"

    def open(self) -> BinaryIO:
        if self.compression == "zstd":
            raise FsError("zstd layer: not supported yet")
        file = self.region.open()
        return cast(BinaryIO, gzip.GzipFile(fileobj=file, mode="rb")) if self.compression == "gzip" else file

    def read(self, offset: int, size: int) -> bytes:
        try:
            stream = self._stream
            if stream is None or (self.compression == "gzip" and stream.tell() > offset):
                self.close()
                stream = self._stream = self.open()
            stream.seek(offset)
            data = stream.read(size)
        except TAR_ERRORS as exc:
            raise FsError(f"{self.label}: {exc}") from exc
        if len(data) != size:
            raise FsError(f"{self.label} ends inside the member")
        return data

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class Node:
    """A name in the tree: 'dir' (with its children's names), 'file' (where its bytes are), 'link' (its text), or
    'other' (a device, a FIFO: never read). `leaves`: a symlink whose text climbs out of the image's root."""

    __slots__ = ("kind", "layer", "offset", "size", "text", "children", "leaves")

    def __init__(self, kind: str, layer: Layer | None = None, offset: int = 0, size: int = 0, text: str = "",
                 leaves: bool = False):
        self.kind, self.layer, self.offset, self.size, self.text, self.leaves = kind, layer, offset, size, text, leaves
        self.children: dict[str, None] | None = {} if kind == "dir" else None


class Member(NamedTuple):
    """What the tree keeps of a layer's tar header while the layer is applied (a TarInfo is many times larger)."""

    kind: str  # 'dir', 'file', 'symlink', 'hardlink', or how a runtime would refuse it: 'a device', 'a FIFO' …
    offset: int
    size: int
    link: str


def _member(info: tarfile.TarInfo) -> Member:
    if info.isdir():
        kind = "dir"
    elif info.isreg():
        kind = "file"
    elif info.issym():
        kind = "symlink"
    elif info.islnk():
        kind = "hardlink"
    else:
        kind = "a device" if info.ischr() or info.isblk() else "a FIFO" if info.isfifo() else "an entry of an unknown type"
    return Member(kind, info.offset_data, info.size, info.linkname)


@dataclass(frozen=True)
class Problem:
    """What could not be applied: the path in the image it is about, and why."""

    path: str
    message: str


class Tree:
    """The image's names, keyed by their path below its root without a leading slash ("" is the root)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {"": Node("dir")}
        self.problems: list[Problem] = []

    def apply(self, layer: Layer) -> None:
        """Apply the layer on top of those applied before; what cannot be applied is a Problem."""
        try:
            entries = self._entries(layer)
        except FsError as exc:
            self.problems.append(Problem("/", f"{layer.label} not applied: {exc}; the image's files are those of the layers below it"))
            return
        for name, _info in entries:  # whiteouts first: they hide the layers below, never this layer's own entries
            folder, _, leaf = name.rpartition("/")
            if leaf == OPAQUE:
                if folder == "":
                    self.problems.append(Problem("/", f"{layer.label}: an opaque marker at the image's root would hide every layer below; not applied"))
                elif (node := self.nodes.get(folder)) is not None and node.children is not None:
                    for child in list(node.children):
                        self._remove(f"{folder}/{child}")
            elif leaf.startswith(WHITEOUT):
                hidden = leaf[len(WHITEOUT):]
                if hidden in ("", ".", "..") and folder == "":
                    self.problems.append(Problem("/", f"{layer.label}: a whiteout of the image's root ({name}); not applied"))
                elif hidden in ("", ".", ".."):
                    self.problems.append(Problem("/" + folder, f"{layer.label}: a whiteout of '{hidden}' ({name}); not applied"))
                else:
                    self._remove(f"{folder}/{hidden}" if folder else hidden)
        for name, info in entries:
            if posixpath.basename(name).startswith(WHITEOUT):
                continue
            self._add(layer, name, info)
        if len(self.nodes) > MAX_ENTRIES:
            raise FsError(f"the image holds over {MAX_ENTRIES:,} names; not read")

    def _entries(self, layer: Layer) -> list[tuple[str, Member]]:
        """The layer's members as (name below the root, header); a name with a '..' part is a Problem instead."""
        found: list[tuple[str, Member]] = []
        declared, bound = 0, max(MAX_RATIO * layer.region.size, RATIO_FLOOR) if layer.compression else None
        try:
            with layer.open() as stream, tarfile.open(fileobj=stream, mode="r:") as tar:
                while (info := tar.next()) is not None:
                    forget_headers(tar)
                    parts = [p for p in info.name.split("/") if p not in ("", ".")]
                    if ".." in parts:
                        self.problems.append(Problem("/" + "/".join(p for p in parts if p != ".."),
                                                     f"{layer.label}: the entry {info.name!r} climbs out of the image "
                                                     "with '..'; not placed in the image"))
                        continue
                    declared += info.size
                    if bound is not None and declared > bound:
                        raise FsError(f"its members declare over {declared:,} bytes from {layer.region.size:,} compressed, "
                                      f"a ratio over the {MAX_RATIO}:1 limit")
                    found.append(("/".join(parts), _member(info)))
        except TAR_ERRORS as exc:
            raise FsError(f"not a readable tar ({exc})") from exc
        return found

    def _add(self, layer: Layer, name: str, member: Member) -> None:
        if name == "":
            return  # the root itself ("./"): always a folder
        shown = "/" + name
        kind, link = member.kind, member.link
        if kind == "dir":
            existing = self.nodes.get(name)
            if existing is None or existing.kind != "dir":
                self._put(name, Node("dir"))
        elif kind == "file":
            self._put(name, Node("file", layer, member.offset, member.size))
        elif kind == "symlink":
            leaves = _climbs_out(name, link)
            self._put(name, Node("link", text=link, leaves=leaves))
            if leaves:
                self.problems.append(Problem(shown, f"{layer.label}: symlink to {link} leaves the image; not followed"))
        elif kind == "hardlink":
            target = "/".join(p for p in link.split("/") if p not in ("", "."))
            node = self.nodes.get(target)
            if ".." in target.split("/") or node is None or node.kind != "file":
                self.problems.append(Problem(shown, f"{layer.label}: hard link to {link}, which is no file of the "
                                                    "image; not placed in the image"))
                return
            self._put(name, Node("file", node.layer, node.offset, node.size))
        else:
            self._put(name, Node("other"))
            self.problems.append(Problem(shown, f"{layer.label}: {kind} in the image; not read"))

    def _put(self, name: str, node: Node) -> None:
        folder, _, leaf = name.rpartition("/")
        parent = self._folder(folder)
        if name in self.nodes:
            self._remove(name)
        self.nodes[name] = node
        assert parent.children is not None
        parent.children[leaf] = None

    def _folder(self, name: str) -> Node:
        """The folder `name`, made (as an unpacker makes the folders a member's name implies) when missing, and
        in place of a file or link of a layer below."""
        node = self.nodes.get(name)
        if node is not None and node.kind == "dir":
            return node
        folder, _, leaf = name.rpartition("/")
        parent = self._folder(folder)
        if node is not None:
            self._remove(name)
        node = self.nodes[name] = Node("dir")
        assert parent.children is not None
        parent.children[leaf] = None
        return node

    def _remove(self, name: str) -> None:
        node = self.nodes.pop(name, None)
        if node is None:
            return
        folder, _, leaf = name.rpartition("/")
        parent = self.nodes.get(folder)
        if parent is not None and parent.children is not None:
            parent.children.pop(leaf, None)
        pending = [(name, node)]
        while pending:
            path, below = pending.pop()
            for child in below.children or ():
                grand = self.nodes.pop(f"{path}/{child}", None)
                if grand is not None:
                    pending.append((f"{path}/{child}", grand))


def forget_headers(tar: tarfile.TarFile) -> None:
    """Drop the headers tarfile keeps of the members read so far: a layer's are kept once, in the tree."""
    cast(Any, tar).members.clear()


def _climbs_out(name: str, text: str) -> bool:
    """A symlink's text that, read from the link's folder, goes above the image's root."""
    depth = 0 if text.startswith("/") else name.count("/")
    for part in text.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False
