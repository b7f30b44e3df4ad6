"""An image's layers applied virtually, in order, into one tree of names: each file is where its bytes are (which
layer, at which offset of that layer's uncompressed tar), never a copy on disk.

A layer is applied as a container runtime applies it: its whiteouts first (`.wh.NAME` deletes NAME of the layers
below, `.wh..wh..opq` hides everything below in its folder), then its entries in order, a later entry replacing an
earlier one. What a runtime would refuse or could be abused is an error entry and has no place in the tree: a name
with a `..` part, a whiteout of the image's root, a device, FIFO or sparse file (kept as a special entry, never
read), a hard link to a name not in the image, a symlink whose text climbs out of the image's root. A layer whose
digest does not match, or whose tar cannot be read to its end, is not applied at all.

The names are kept on disk, not in memory, so that memory stays flat however many names an image holds: an SQLite
database in a private temporary folder (made 0700, removed by close()), one row a name keyed by (its folder's
number, its name's bytes). A layer's listing is staged in files next to it until its digest was checked. What is
held in memory is bounded: SQLite's page cache, the folders last made (while layers are applied), the entries last
looked up (while they are read), and the layers' gzip restart points (auditor.image.streams.RestartPoints).
"""

from __future__ import annotations

import marshal
import os
import shutil
import tempfile
import weakref
from typing import Any, BinaryIO, Iterator, List, NamedTuple, Optional, Tuple, Union

from auditor.fs import FsError
from auditor.image.layers import Layer
from auditor.image.streams import MOST_IMAGE_POINTS
from auditor.image.tar import KINDS
from auditor.records import record

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_ENTRIES = 2_000_000  # names in the whole image, over all its layers
MAX_LAYERS = (1 << 16) - 1
STAGE_BATCH = 2048  # a layer's members written to the staging table at a time
CACHED = 4096  # folders (while applying) and looked-up entries (while reading) kept in memory, each
PAGE_CACHE_KIB = 2048  # SQLite's own page cache

# How a row's kind is stored (a staged member keeps the index of its kind in tar.KINDS).
_DIR, _FILE, _LINK, _SPECIAL = range(4)
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
_SCHEMA = """
CREATE TABLE entries (folder INTEGER NOT NULL, name BLOB NOT NULL, kind INTEGER NOT NULL, ref INTEGER,
                      offset INTEGER, size INTEGER, text BLOB, PRIMARY KEY (folder, name)) WITHOUT ROWID;
"""


class TooManyNames(FsError):
    """The image holds more names than MAX_ENTRIES: it is not read at all."""


class Folder(NamedTuple):
    """A folder: its number in the database (the root's is 0)."""

    number: int


class File(NamedTuple):
    """A regular file: the index of its layer in Tree.layers, its data's offset in that layer's tar, its size."""

    layer: int
    offset: int
    size: int


class Link(NamedTuple):
    """A symlink: its text, and whether that text climbs out of the image's root (then it is never followed)."""

    text: str
    leaves: bool


class Special(NamedTuple):
    """A device, FIFO, sparse file or entry of an unknown type: listed, never read."""


SPECIAL = Special()
ROOT = Folder(0)
Entry = Union[Folder, File, Link, Special]
_INSERT_NEW = "INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)"
_REPLACE = "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)"
_KIND_NAMES = {_DIR: "dir", _FILE: "file", _LINK: "link", _SPECIAL: "other"}


def kind_of(entry: Entry) -> str:
    return "dir" if isinstance(entry, Folder) else "file" if isinstance(entry, File) else \
        "link" if isinstance(entry, Link) else "other"


@record
class Problem:
    """What could not be applied: the path in the image it is about, and why."""

    path: str
    message: str


def _key(name: str) -> bytes:
    """A name as stored: its bytes (a tar's names are bytes; one not UTF-8 is kept exactly, as surrogateescape)."""
    return name.encode("utf-8", "surrogateescape")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _batches(path: str) -> Iterator[Any]:
    """The items of a staging file, read back a batch at a time."""
    with open(path, "rb") as file:
        while header := file.read(8):
            yield from marshal.loads(file.read(int.from_bytes(header, "big")))


def _dump(batch: list[Any], file: BinaryIO) -> None:
    data = marshal.dumps(batch)
    file.write(len(data).to_bytes(8, "big"))
    file.write(data)
    batch.clear()


def _entry(kind: int, ref: Any, offset: Any, size: Any, text: Any) -> Entry:
    if kind == _DIR:
        return Folder(ref)
    if kind == _FILE:
        return File(ref, offset, size)
    if kind == _LINK:
        return Link(_text(text), bool(ref))
    return SPECIAL


class Tree:
    """The image's names below its root (`root`, the top folder); `layers` those applied, in order."""

    root = ROOT

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.problems: list[Problem] = []
        self.names = 0  # members of the layers applied
        self._folders: dict[str, int] = {"": 0}  # while applying: folders made or found, by their path
        self._looked_up: dict[tuple[int, str], Optional[Entry]] = {}  # while reading: (folder, name) -> entry
        self._next_folder = 1
        try:
            import sqlite3  # only for an image
        except ImportError as exc:
            raise FsError(f"this Python has no sqlite3 module ({exc}), in which an image's names are kept") from exc
        self._errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
        try:
            self._place = tempfile.mkdtemp(prefix="auditor-image-")  # 0700: the names of the image are private
        except OSError as exc:
            raise FsError(f"no temporary folder for the image's names in {tempfile.gettempdir()}: "
                          f"{exc.strerror or exc}") from exc
        try:
            self._db = sqlite3.connect(os.path.join(self._place, "names.sqlite"), isolation_level=None)
            # A private scratch file, thrown away at the end: no journal, no sync, no other process.
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE",
                           "temp_store = FILE", f"cache_size = -{PAGE_CACHE_KIB}"):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            shutil.rmtree(self._place, ignore_errors=True)
            raise FsError(f"the temporary index of the image's names could not be made: {exc}") from exc
        # Removed by close(); else when the tree is collected or the interpreter exits, whichever comes first.
        self._remove = weakref.finalize(self, _remove, self._db, self._place)

    # -- applying --------------------------------------------------------------------------------------
    def apply(self, layer: Layer) -> None:
        """Apply the layer on top of those applied before; what cannot be applied is a Problem."""
        if len(self.layers) >= MAX_LAYERS:
            raise FsError(f"the image has over {MAX_LAYERS:,} layers; not read")
        self._looked_up.clear()
        try:
            if not self._stage(layer):
                return
            self._db.execute("BEGIN")
            try:
                self._apply_staged(layer)
            finally:
                self._db.execute("COMMIT")
        except self._errors as exc:  # the disk full, the temporary file removed by another program
            raise FsError(f"the temporary index of the image's names failed: {exc}") from exc
        except OSError as exc:
            raise FsError(f"the temporary listing of {layer.label} failed: {exc.strerror or exc}") from exc

    def _stage(self, layer: Layer) -> bool:
        """The layer listed into the staging files (its names counted, its digest checked): its whiteouts into
        one, its other members into the other, in batches; whether it may be applied."""
        names = self.names
        problems: list[Problem] = []
        whiteouts: list[str] = []
        members: list[tuple[str, int, int, int, str]] = []
        with open(self._staged("whiteouts"), "wb") as whiteouts_file, open(self._staged("members"), "wb") as file:
            try:
                for member in layer.listing():
                    names += 1
                    if names > MAX_ENTRIES:  # before a layer of millions of members is staged
                        raise TooManyNames(f"the image holds over {MAX_ENTRIES:,} names; not read")
                    name = _normal(member.name)
                    if name is None:
                        problems.append(Problem(_shown_climbing(member.name), f"{layer.label}: the entry "
                                                f"{member.name!r} climbs out of the image with '..'; not placed in "
                                                "the image"))
                    elif name.rpartition("/")[2].startswith(WHITEOUT):
                        whiteouts.append(name)
                        if len(whiteouts) >= STAGE_BATCH:
                            _dump(whiteouts, whiteouts_file)
                    elif name:
                        members.append((name, _KIND_CODES[member.kind], member.offset, member.size, member.link))
                        if len(members) >= STAGE_BATCH:
                            _dump(members, file)
            except TooManyNames:
                raise
            except FsError as exc:
                self.problems.append(Problem("/", f"{layer.label} not applied: {exc}; none of its files are used"))
                return False
            _dump(whiteouts, whiteouts_file)
            _dump(members, file)
        self.names = names
        self.layers.append(layer)
        self.problems += problems
        self._bound_restart_points()
        return True

    def _bound_restart_points(self) -> None:
        """The gzip restart points of all layers kept within MOST_IMAGE_POINTS, those of the layers with most
        thinned first: memory stays bounded however many layers an image has."""
        total = sum(len(layer.points.points) for layer in self.layers)
        while total > MOST_IMAGE_POINTS:
            points = max((layer.points for layer in self.layers), key=lambda p: len(p.points))
            total -= len(points.points)
            points.thin()
            total += len(points.points)

    def _staged(self, what: str) -> str:
        return os.path.join(self._place, f"staged-{what}")

    def _apply_staged(self, layer: Layer) -> None:
        index = len(self.layers) - 1
        self._forget_folders()
        for name in _batches(self._staged("whiteouts")):  # first: they hide the layers below, not this layer
            self._whiteout(layer, name)
        execute, file_code, dir_code = self._db.execute, _KIND_CODES["file"], _KIND_CODES["dir"]
        for name, kind, offset, size, link in _batches(self._staged("members")):
            # The common cases first, without a call: a file of a name the layers below do not have, a folder
            # already there.
            if kind == file_code:
                folder_name, _, leaf = name.rpartition("/")
                folder = self._folders.get(folder_name)
                if folder is not None and execute(_INSERT_NEW, (folder, leaf.encode("utf-8", "surrogateescape"), _FILE,
                                                                index, offset, size, None)).rowcount:
                    continue
            elif kind == dir_code and name in self._folders:
                continue
            self._add(layer, index, name, KINDS[kind], offset, size, link)

    def _whiteout(self, layer: Layer, name: str) -> None:
        folder_name, _, leaf = name.rpartition("/")
        if leaf == OPAQUE:
            if folder_name == "":
                self.problems.append(Problem("/", f"{layer.label}: an opaque marker at the image's root would hide "
                                                  "every layer below; not applied"))
            elif isinstance(folder := self._applied(folder_name), Folder):
                self._db.execute("DELETE FROM entries WHERE folder = ?", (folder.number,))
                self._forget_folders()
            return
        hidden = leaf[len(WHITEOUT):]
        if hidden in ("", ".", ".."):
            where, what = ("/", "the image's root") if folder_name == "" else ("/" + folder_name, f"'{hidden}'")
            self.problems.append(Problem(where, f"{layer.label}: a whiteout of {what} ({name}); not applied"))
        elif isinstance(folder := self._applied(folder_name), Folder):
            self._db.execute("DELETE FROM entries WHERE folder = ? AND name = ?", (folder.number, _key(hidden)))
            self._forget_folders()

    def _add(self, layer: Layer, index: int, name: str, kind: str, offset: int, size: int, link: str) -> None:
        folder_name, _, leaf = name.rpartition("/")
        if kind == "dir" and name in self._folders:
            return  # a folder already there (a layer lists the folders its files are in) stays as it is
        folder = self._folder_made(folder_name)
        shown = "/" + name
        row: tuple[int, Any, Any, Any, Any]
        if kind == "dir":
            number = self._next_folder
            row = (_DIR, number, None, None, None)
        elif kind == "file":
            row = (_FILE, index, offset, size, None)
        elif kind == "symlink":
            leaves = _climbs_out(name, link)
            row = (_LINK, int(leaves), None, None, _key(link))
            if leaves:
                self.problems.append(Problem(shown, f"{layer.label}: symlink to {link} leaves the image; not followed"))
        elif kind == "hardlink":
            target = _normal(link)
            found = self._applied(target) if target else None
            if not isinstance(found, File):
                self.problems.append(Problem(shown, f"{layer.label}: hard link to {link}, which is no file of the "
                                                    "image; not placed in the image"))
                return
            row = (_FILE, *found, None)
        else:
            row = (_SPECIAL, None, None, None, None)
            self.problems.append(Problem(shown, f"{layer.label}: {kind} in the image; not read"))
        key = _key(leaf)
        if not self._db.execute(_INSERT_NEW, (folder, key, *row)).rowcount:  # a name the layers below have
            old = self._child(folder, leaf)
            if kind == "dir" and isinstance(old, Folder):
                self._remember(name, old.number)
                return
            if isinstance(old, Folder):
                self._forget_folders()  # the folder replaced goes with its names; one remembered may be below it
            self._db.execute(_REPLACE, (folder, key, *row))
        if kind == "dir":
            self._next_folder += 1
            self._remember(name, number)

    def _applied(self, name: str) -> Entry | None:
        """What the tree holds at `name` (no link followed) as applied so far: not from the entries looked up."""
        found: Entry | None = ROOT
        if name:
            for part in name.split("/"):
                if not isinstance(found, Folder):
                    return None
                found = self._child(found.number, part)
        return found

    def _remember(self, path: str, number: int) -> None:
        if len(self._folders) >= CACHED:
            self._forget_folders()
        self._folders[path] = number

    def _forget_folders(self) -> None:
        self._folders = {"": 0}

    def _folder_made(self, name: str) -> int:
        """The folder `name`, made (as an unpacker makes the folders a member's name implies) where missing, and
        in place of a file or link of a layer below."""
        found = self._folders.get(name)
        if found is not None:
            return found
        missing: list[str] = []
        head = name
        while head not in self._folders:  # the nearest folder remembered above it ("" always is)
            head, _, part = head.rpartition("/")
            missing.append(part)
        folder = self._folders[head]
        for part in reversed(missing):
            head = f"{head}/{part}" if head else part
            child = self._child(folder, part)
            if isinstance(child, Folder):
                folder = child.number
            else:  # in place of a file or link of a layer below: no folder, nothing remembered, is replaced
                number, self._next_folder = self._next_folder, self._next_folder + 1
                self._db.execute(_REPLACE, (folder, _key(part), _DIR, number, None, None, None))
                folder = number
            self._remember(head, folder)
        return folder

    # -- reading ---------------------------------------------------------------------------------------
    def _child(self, folder: int, name: str) -> Entry | None:
        row = self._db.execute("SELECT kind, ref, offset, size, text FROM entries WHERE folder = ? AND name = ?",
                               (folder, _key(name))).fetchone()
        return None if row is None else _entry(*row)

    def child(self, folder: Folder, name: str) -> Entry | None:
        """What `folder` holds as `name` (no link followed); the last entries looked up are kept in memory."""
        key = (folder.number, name)
        try:
            return self._looked_up[key]
        except KeyError:
            pass
        try:
            found = self._child(folder.number, name)
        except self._errors as exc:
            raise FsError(f"the temporary index of the image's names failed: {exc}") from exc
        if len(self._looked_up) >= CACHED:
            self._looked_up.clear()
        self._looked_up[key] = found
        return found

    def children(self, folder: Folder) -> List[Tuple[str, str]]:
        """(name, kind) of each entry of `folder`, sorted by name as Python sorts them."""
        try:
            rows = self._db.execute("SELECT name, kind FROM entries WHERE folder = ?", (folder.number,)).fetchall()
        except self._errors as exc:
            raise FsError(f"the temporary index of the image's names failed: {exc}") from exc
        return sorted((_text(name), _KIND_NAMES[kind]) for name, kind in rows)

    def entry(self, name: str) -> Entry | None:
        """What the tree holds at `name` (no link followed)."""
        found: Entry | None = ROOT
        if name:
            for part in name.split("/"):
                if not isinstance(found, Folder):
                    return None
                found = self.child(found, part)
        return found

    def read(self, entry: File, cap: int) -> bytes:
        """The first `cap` bytes of a file entry."""
        return self.layers[entry.layer].read(entry.offset, min(entry.size, cap))

    def close(self) -> None:
        """Close the layers, and remove the names' database and its folder."""
        for layer in self.layers:
            layer.close()
        self._remove()


def _remove(db: Any, place: str) -> None:
    db.close()
    shutil.rmtree(place, ignore_errors=True)


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
