"""The one capped reader of zip archives (.zip, .whl, .egg): read from an open file or from bytes in memory
(an archive inside an archive), never extracted to disk. From a file only the directory and the members
needed are read: a 50 MB Lambda package costs little more than listing it.

Every limit broken is an ArchiveError whose message names the member and the limit:
- entries: an upper bound is counted in the central directory's bytes before zipfile makes an object per
  entry, so a directory of millions of tiny entries is refused without building them;
- a member's size: the uncompressed size its directory entry declares is checked before inflating, and
  the member is never read past it (`read(declared + 1)`; one that inflates to more fails its CRC check);
- the compression ratio of a member over RATIO_FLOOR bytes (a zip bomb);
- the bytes inflated from one archive, the archives nested in it included (a Budget they share);
- encrypted members, and compression methods the reader (or zipimport, for eggs) cannot read.

`ArchiveView` shows an archive's members through the part of auditor.fs.View's interface that the
Python collectors and the trust-store book use, so an archive is read by the same code as a folder.
Its paths are `/<archive file name>/<member>`; it displays them as `<archive as displayed>!/<member>`.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import stat
import struct
import zipfile
import zlib
from typing import BinaryIO, NamedTuple

from auditor.fs import FsError
from auditor.records import mutable_record

MAX_ENTRIES = 100_000
TOTAL_CAP = 1 << 30  # bytes inflated from one archive and the archives inside it
MAX_RATIO = 100
RATIO_FLOOR = 1 << 20  # a smaller member cannot hurt, whatever its ratio
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
ZIPIMPORT_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
METHOD_NAMES = {0: "stored", 8: "deflate", 9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "XZ",
                98: "PPMd", 99: "WinZip AES"}
# What zipfile raises depends on where an archive is broken: a bad directory (BadZipFile, ValueError for a
# bad name or offset), a bad compressed stream (zlib.error, lzma.LZMAError, OSError from bz2, EOFError), a
# member flagged encrypted (RuntimeError), a method it does not know (NotImplementedError) …
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
               ValueError, KeyError, IndexError, OverflowError, struct.error, zlib.error, lzma.LZMAError)

_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_FILE_TYPE = 0o170000  # the type bits of the Unix mode a member's external attributes carry (S_IFMT)


class ArchiveError(Exception):
    """An archive, or one of its members, could not be read; the message says why."""


@mutable_record
class Budget:
    """Bytes inflated so far from one archive and those nested in it."""

    cap: int = TOTAL_CAP
    used: int = 0


class ZipArchive:
    """An archive's directory, and its members read under the caps."""

    def __init__(self, source: bytes | BinaryIO, *, budget: Budget | None = None,
                 methods: tuple[int, ...] = READABLE_METHODS, reader: str = "this scanner", max_entries: int = MAX_ENTRIES):
        """`source`: the archive's bytes, or its file open for reading (kept open while members are read)."""
        self.budget = budget or Budget()
        self.methods, self.reader = methods, reader
        file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        try:
            bound = entry_bound(file)
        except OSError as exc:
            raise ArchiveError(_reason(exc)) from exc
        if bound > max_entries:
            raise ArchiveError(f"its directory holds up to {bound} entries, over the {max_entries}-entry limit; not read")
        try:
            self._zip = zipfile.ZipFile(file)
            self.infos = self._zip.infolist()
        except READ_ERRORS as exc:
            raise ArchiveError(_reason(exc)) from exc
        if len(self.infos) > max_entries:  # entry_bound counts what zipfile reads; this is the last guard
            raise ArchiveError(f"{len(self.infos)} entries, over the {max_entries}-entry limit; not read")

    def getinfo(self, name: str) -> zipfile.ZipInfo | None:
        return self._zip.NameToInfo.get(name)  # the last of a repeated name wins, as zipfile reads it

    def read(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        """A member's bytes, at most `cap`; ArchiveError when a limit or the member's data forbid it."""
        name = shown_name(info.filename)
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{name} is encrypted; not read")
        if info.compress_type not in self.methods:
            method = METHOD_NAMES.get(info.compress_type, "unknown")
            raise ArchiveError(f"{name} uses compression method {info.compress_type} ({method}), which "
                               f"{self.reader} cannot read")
        if info.file_size > cap:
            raise ArchiveError(f"{name} is {info.file_size} bytes, over the {cap}-byte limit")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveError(f"{name} declares {info.file_size} bytes from {info.compress_size} compressed, a ratio "
                               f"over the {MAX_RATIO}:1 limit (a zip bomb?); not read")
        budget = self.budget
        if budget.used + info.file_size > budget.cap:
            raise ArchiveError(f"{name} ({info.file_size} bytes) would take the bytes inflated from this archive "
                               f"past the {budget.cap}-byte limit; not read")
        try:
            with self._zip.open(info) as member:
                data = member.read(info.file_size + 1)  # read() without a size inflates up to 1 GiB at once
        except READ_ERRORS as exc:
            raise ArchiveError(_reason(exc)) from exc
        budget.used += len(data)
        return data


def entry_bound(source: bytes | BinaryIO) -> int:
    """At most how many entries zipfile would read from the archive: the central-directory signatures in the
    bytes it would take for the directory, found as zipfile finds them (0 when there is no end record). Only
    the archive's tail and its directory are read."""
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source

    def read_at(offset: int, length: int) -> bytes:
        file.seek(max(offset, 0))
        return file.read(max(length, 0))

    size = file.seek(0, io.SEEK_END)
    tail_start = max(size - (1 << 16) - 22, 0)
    tail = read_at(tail_start, size - tail_start)
    end = len(tail) - 22
    if not (end >= 0 and tail[end:end + 4] == _END and tail[-2:] == b"\0\0"):
        end = tail.rfind(_END)
        if end < 0 or end + 22 > len(tail):
            return 0
    (directory_size,) = struct.unpack_from("<L", tail, end + 12)
    end += tail_start
    regions = [(end - directory_size, directory_size)]
    locator = read_at(end - 20, 20) if end >= 20 else b""
    if locator[:4] == _END64_LOCATOR and end - 76 >= 0:
        record = read_at(end - 76, 56)
        if record[:4] == _END64:
            (directory_size,) = struct.unpack_from("<Q", record, 40)
            regions.append((end - 76 - directory_size, min(directory_size, size)))
    return max(read_at(start, length).count(_CENTRAL) for start, length in regions)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())  # one line, whatever the library put in it


def shown_name(name: str) -> str:
    """A member name as a message shows it: on one line, its control characters escaped."""
    return name if name.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)


class Member(NamedTuple):
    """A child in an ArchiveView listing, shaped like the os.DirEntry fields the collectors use."""

    name: str
    path: str


class ArchiveView:
    """An archive's members as a read-only, View-like tree: kind, list_dir, read_bytes, display …

    Member names are read as an unpacker would: backslashes are separators and leading slashes are dropped;
    a name with a '..' part is not placed in the tree but listed in `unsafe` for an error entry. A member
    stored as a symbolic link is of kind 'other' and never read."""

    image = False

    def __init__(self, archive: ZipArchive, display: str, name: str):
        self.archive = archive
        self.display_top = display
        self.top = "/" + (name.replace("/", "_") or "archive")
        self.unsafe: list[str] = []
        names, infos = self._members(archive.infos)
        prefix = self.top + "/"
        # Built in C (the last of a repeated name wins, in the place of its first, as a dict comprehension would):
        # a Lambda package lists thousands of members.
        self._files: dict[str, zipfile.ZipInfo] = dict(zip([prefix + name for name in names], infos))
        folders = [path for path in self._files if path[-1:] == "/"]
        for path in folders:
            del self._files[path]
        self._children = _tree(self.top, self._files, [path[:-1] for path in folders])

    def _members(self, infos: list[zipfile.ZipInfo]) -> tuple[list[str], list[zipfile.ZipInfo]]:
        """(names as an unpacker reads them, their entries) of the members that have a place in the tree. A Lambda
        package lists thousands of members, nearly always plainly named: those are taken as they are, in one pass."""
        names = [info.filename for info in infos]
        listed = "\n" + "\n".join(names)
        if not any(odd in listed for odd in ("\\", "//", "/.", "\n.", "\n/")) and "" not in names:
            return names, infos
        members = []
        for info in infos:
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
            if ".." in parts:
                self.unsafe.append(info.filename)
            elif parts:
                members.append(("/".join(parts) + ("/" if info.is_dir() else ""), info))
        return [name for name, _ in members], [info for _, info in members]

    # -- paths: the View interface ---------------------------------------------------------------------
    def inside(self, path: str) -> bool:
        return path == self.top or path.startswith(self.top + "/")

    def display(self, path: str) -> str:
        if path == self.top:
            return self.display_top
        if self.inside(path):
            return f"{self.display_top}!{path[len(self.top):]}"
        return path

    def locate(self, base: str, text: str) -> str:
        return posixpath.normpath(posixpath.join(base, text))

    def resolve(self, path: str) -> str:
        if not self.inside(path):
            raise FsError("outside the archive")
        return path

    def kind(self, path: str) -> str | None:
        info = self._files.get(path)
        if info is not None:
            return "other" if _is_link(info) else "file"
        return "dir" if path in self._children else None

    def is_file(self, path: str) -> bool:
        return self.kind(path) == "file"

    def is_dir(self, path: str) -> bool:
        return self.kind(path) == "dir"

    def link_text(self, path: str) -> str | None:
        """None: a path the archive does not hold is no link (a member stored as a link exists, of kind 'other')."""
        return None

    def list_dir(self, path: str) -> list[Member]:
        children = self._children.get(path)
        if children is None:
            raise FsError("not a folder in the archive")
        return [Member(name, path + "/" + name) for name in sorted(children)]

    def files(self) -> list[str]:
        """Every file member's path, in directory order."""
        return list(self._files)

    def read_bytes(self, path: str, cap: int) -> bytes:
        info = self._files.get(path)
        if info is None:
            raise FsError("a folder, not a file" if path in self._children else "no such member in the archive")
        if _is_link(info):
            raise FsError("a symbolic link in the archive; not followed")
        try:
            return self.archive.read(info, cap)
        except ArchiveError as exc:
            raise FsError(str(exc)) from exc


def _is_link(info: zipfile.ZipInfo) -> bool:
    """A member stored as a symbolic link (the Unix mode in its external attributes says so)."""
    return (info.external_attr >> 16) & _FILE_TYPE == stat.S_IFLNK


def _tree(top: str, files: dict, folders: list[str]) -> dict[str, set[str]]:
    """Each folder's children, from the files' paths and the folders the archive lists (a wheel lists none:
    a folder is known by what is in it)."""
    children: dict[str, set[str]] = {top: set()}
    for folder in folders:
        children.setdefault(folder, set())
    pending = [*files, *folders]
    while pending:
        new = []
        last, siblings = None, set()
        for path in pending:
            parent, _, leaf = path.rpartition("/")
            if parent != last:  # an archive lists a folder's files together: most paths share the last one's parent
                last, known = parent, children.get(parent)
                if known is None:
                    children[parent] = known = set()
                    new.append(parent)
                siblings = known
            siblings.add(leaf)
        pending = new
    return children
