"""An image's layers applied virtually, in order, into one tree of names: each file is where its bytes are (which
layer, at which offset of that layer's uncompressed tar), never a copy on disk.

A layer is applied as a container runtime applies it: its whiteouts first (`.wh.NAME` deletes NAME of the layers
below, `.wh..wh..opq` hides everything below in its folder), then its entries in order, a later entry replacing an
earlier one. What a runtime would refuse or could be abused is an error entry and has no place in the tree: a name
with a `..` part, a whiteout of the image's root, a device, FIFO or sparse file (kept as a special entry, never
read), a hard link to a name not in the image, a symlink whose text climbs out of the image's root. A layer whose
digest does not match, or whose tar cannot be read to its end, is not applied at all.

The tree is kept small, as an image may hold hundreds of thousands of names: folders are dicts of their names, a
file is one int (its layer, offset and size packed), and no path is kept whole.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass
from typing import Dict, Iterator, Union

from auditor.fs import FsError
from auditor.image.layers import Layer
from auditor.image.tar import KINDS, Member

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_ENTRIES = 2_000_000  # names in the whole image, over all its layers
_SIZE_BITS = 64  # a member's size is below 2**63 (auditor.image.tar.MAX_SIZE)
_LAYER_BITS = 16
MAX_LAYERS = (1 << _LAYER_BITS) - 1
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}


class TooManyNames(FsError):
    """The image holds more names than MAX_ENTRIES: it is not read at all."""


class Link:
    """A symlink: its text, and whether that text climbs out of the image's root (then it is never followed)."""

    __slots__ = ("text", "leaves")

    def __init__(self, text: str, leaves: bool):
        self.text, self.leaves = text, leaves


class Special:
    """A device, FIFO, sparse file or entry of an unknown type: listed, never read."""

    __slots__ = ()


SPECIAL = Special()
Folder = Dict[str, "Entry"]
Entry = Union[Folder, int, Link, Special]  # an int is a file: see file_entry


def file_entry(layer: int, offset: int, size: int) -> int:
    """A file's place packed in one int: the index of its layer in Tree.layers, its data's offset and size."""
    return (((offset << _SIZE_BITS) | size) << _LAYER_BITS) | layer


def file_place(entry: int) -> tuple[int, int, int]:
    """(layer index, offset, size) of a file_entry."""
    return entry & MAX_LAYERS, entry >> (_SIZE_BITS + _LAYER_BITS), (entry >> _LAYER_BITS) & ((1 << _SIZE_BITS) - 1)


def kind_of(entry: Entry) -> str:
    return "dir" if isinstance(entry, dict) else "file" if isinstance(entry, int) else \
        "link" if isinstance(entry, Link) else "other"


@dataclass(frozen=True)
class Problem:
    """What could not be applied: the path in the image it is about, and why."""

    path: str
    message: str


class _Staged:
    """A layer's members as its listing gave them, kept compactly (no object per member) until the whole layer was
    read and its digest checked."""

    __slots__ = ("names", "kinds", "offsets", "sizes", "links")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.kinds = bytearray()
        self.offsets = array("Q")
        self.sizes = array("Q")
        self.links: dict[int, str] = {}

    def add(self, name: str, member: Member) -> None:
        if member.link:
            self.links[len(self.names)] = member.link
        self.names.append(name)
        self.kinds.append(_KIND_CODES[member.kind])
        self.offsets.append(member.offset)
        self.sizes.append(member.size)

    def __iter__(self) -> Iterator[Member]:
        links = self.links
        for number, name in enumerate(self.names):
            yield Member(name, KINDS[self.kinds[number]], self.offsets[number], self.sizes[number], links.get(number, ""))


class Tree:
    """The image's names below its root: `root` is the top folder; `layers` those applied, in order."""

    def __init__(self) -> None:
        self.root: Folder = {}
        self.layers: list[Layer] = []
        self.problems: list[Problem] = []
        self.names = 0  # members of the layers applied
        self._last: tuple[str, Folder] | None = None  # the folder the last member went into, by its name

    def apply(self, layer: Layer) -> None:
        """Apply the layer on top of those applied before; what cannot be applied is a Problem."""
        if len(self.layers) >= MAX_LAYERS:
            raise FsError(f"the image has over {MAX_LAYERS:,} layers; not read")
        whiteouts: list[str] = []
        staged = _Staged()
        problems: list[Problem] = []
        names = self.names
        try:
            for member in layer.listing():
                names += 1
                if names > MAX_ENTRIES:  # before a layer of millions of members is held
                    raise TooManyNames(f"the image holds over {MAX_ENTRIES:,} names; not read")
                name = _normal(member.name)
                if name is None:
                    problems.append(Problem(_shown_climbing(member.name), f"{layer.label}: the entry {member.name!r} "
                                            "climbs out of the image with '..'; not placed in the image"))
                elif name.rpartition("/")[2].startswith(WHITEOUT):
                    whiteouts.append(name)
                elif name:
                    staged.add(name, member)
        except TooManyNames:
            raise
        except FsError as exc:
            self.problems.append(Problem("/", f"{layer.label} not applied: {exc}; none of its files are used"))
            return
        self.names = names
        index = len(self.layers)
        self.layers.append(layer)
        self.problems += problems
        self._last = None
        for name in whiteouts:  # first: they hide the layers below, never this layer's own entries
            self._whiteout(layer, name)
        for member in staged:
            self._add(layer, index, member)

    def _whiteout(self, layer: Layer, name: str) -> None:
        folder_name, _, leaf = name.rpartition("/")
        if leaf == OPAQUE:
            if folder_name == "":
                self.problems.append(Problem("/", f"{layer.label}: an opaque marker at the image's root would hide "
                                                  "every layer below; not applied"))
            elif (folder := self.folder(folder_name)) is not None:
                folder.clear()
            return
        hidden = leaf[len(WHITEOUT):]
        if hidden in ("", ".", ".."):
            where, what = ("/", "the image's root") if folder_name == "" else ("/" + folder_name, f"'{hidden}'")
            self.problems.append(Problem(where, f"{layer.label}: a whiteout of {what} ({name}); not applied"))
        elif (folder := self.folder(folder_name)) is not None:
            folder.pop(hidden, None)

    def _add(self, layer: Layer, index: int, member: Member) -> None:
        folder_name, _, leaf = member.name.rpartition("/")
        folder = self._folder_made(folder_name)
        shown = "/" + member.name
        kind = member.kind
        entry: Entry
        if kind == "dir":
            if isinstance(folder.get(leaf), dict):
                return
            entry = {}
        elif kind == "file":
            entry = file_entry(index, member.offset, member.size)
        elif kind == "symlink":
            entry = Link(member.link, _climbs_out(member.name, member.link))
            if entry.leaves:
                self.problems.append(Problem(shown, f"{layer.label}: symlink to {member.link} leaves the image; "
                                                    "not followed"))
        elif kind == "hardlink":
            target = _normal(member.link)
            found = self.entry(target) if target else None
            if not isinstance(found, int):
                self.problems.append(Problem(shown, f"{layer.label}: hard link to {member.link}, which is no file of "
                                                    "the image; not placed in the image"))
                return
            entry = found
        else:
            entry = SPECIAL
            self.problems.append(Problem(shown, f"{layer.label}: {kind} in the image; not read"))
        if isinstance(folder.get(leaf), dict):
            self._last = None  # a folder replaced: the one remembered may have been below it
        folder[sys.intern(leaf)] = entry  # a name many folders hold (__init__.py, METADATA, index.js) kept once

    def _folder_made(self, name: str) -> Folder:
        """The folder `name`, made (as an unpacker makes the folders a member's name implies) where missing, and
        in place of a file or link of a layer below."""
        if self._last is not None and self._last[0] == name:
            return self._last[1]
        folder = self.root
        if name:
            for part in name.split("/"):
                child = folder.get(part)
                if not isinstance(child, dict):
                    if child is not None:
                        self._last = None
                    child = folder[part] = {}
                folder = child
        self._last = (name, folder)
        return folder

    def folder(self, name: str) -> Folder | None:
        """The folder `name` (no link followed), if the tree has one there."""
        found = self.entry(name)
        return found if isinstance(found, dict) else None

    def entry(self, name: str) -> Entry | None:
        """What the tree holds at `name` (no link followed)."""
        found: Entry | None = self.root
        if name:
            for part in name.split("/"):
                if not isinstance(found, dict):
                    return None
                found = found.get(part)
        return found

    def read(self, entry: int, cap: int) -> bytes:
        """The first `cap` bytes of a file entry."""
        layer, offset, size = file_place(entry)
        return self.layers[layer].read(offset, min(size, cap))

    def close(self) -> None:
        for layer in self.layers:
            layer.close()


def _normal(name: str) -> str | None:
    """A member's name as a path below the image's root, without a leading '/', './', empty or '.' parts; None
    when a part is '..'."""
    if name.startswith(("./", "/")) or name.endswith(("/", "/.")) or "//" in name or "/./" in name or \
            ".." in name or name == ".":
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if ".." in parts:
            return None
        return "/".join(parts)
    return name


def _shown_climbing(name: str) -> str:
    return "/" + "/".join(p for p in name.split("/") if p not in ("", ".", ".."))


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
