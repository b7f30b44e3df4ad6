"""The confined, size-capped view of a target's files.

Every collector reads through a View, never with a bare open(): here symlinks are
resolved without leaving the view's top directory, FIFOs and devices are refused
(opening a FIFO would block the scan), and every read has a size cap.

Two ways to treat an absolute symlink:
- an image (``--root``): ``/etc/ssl/cert.pem`` means top + that path;
- a plain target (a venv, a repository): a link that leaves the top directory
  points at something that is not part of the target, so it is not followed.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import itertools
import os
import stat
from collections import OrderedDict
from collections.abc import Sequence

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import BinaryIO, Protocol

MAX_SYMLINKS = 40
DEFAULT_CAP = 8 * 1024 * 1024
PLAIN_DIRS_KEPT = 4096  # enough for the install folders a scan resolves again and again; a tree walk's are forgotten
# Folders kept open, in the whole process (a scan of 300 targets holds 300 Views): a walk's current folder and its
# parents, far below any limit on open files.
FOLDERS_KEPT_OPEN = 64
# O_PATH (Linux) opens a folder that may be searched but not listed (a 0711 home) as a place to open names below.
_FOLDER_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_LISTING_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


# (View's number, resolved folder) -> descriptor, least recently used first, for every View of the process.
_open_folders: OrderedDict[tuple[int, str], int] = OrderedDict()
_view_numbers = itertools.count()


class FsError(Exception):
    """A file or directory of the target could not be used; the message says why."""


class View:
    """Resolve() works out, by name, which file of the target a path means; every read then opens that file one
    folder at a time from the top through descriptors, never following a link, so what is read is what resolve()
    checked: a folder swapped for a symlink while the scan runs is an FsError, never a read outside the target.
    A View is used by one thread."""

    def __init__(self, top: str, *, image: bool = False, display_top: str | None = None):
        self.top = os.path.realpath(top)
        self.image = image
        self.display_top = self.top if display_top is None else display_top
        # Folders seen not to be symlinks: a scan resolves the same install folders again and again,
        # and reads a target as it is when the scan starts.
        self._plain_dirs: set[str] = set()
        self._number = next(_view_numbers)  # its folders' key in _open_folders (an id() may be reused)

    def close(self) -> None:
        """Close the folders it keeps open; the View opens them again if used after."""
        for key in [key for key in _open_folders if key[0] == self._number]:
            os.close(_open_folders.pop(key))

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- paths --------------------------------------------------------------
    def inside(self, host_path: str) -> bool:
        return host_path == self.top or host_path.startswith(self.top.rstrip(os.sep) + os.sep)

    def display(self, host_path: str) -> str:
        """The path as a user of the target knows it."""
        normal = os.path.normpath(host_path)
        # the part below the top (relpath is slow, and a scan shows a path per file it reads)
        rel = (normal[len(self.top.rstrip(os.sep)) + 1:] or ".") if self.inside(normal) else host_path
        if rel == ".":
            return shown(self.display_top) if self.display_top else "/"
        if self.image:
            return shown("/" + rel.replace(os.sep, "/"))
        return shown(os.path.join(self.display_top, rel))

    def locate(self, base_dir: str, path_text: str) -> str:
        """The host path a path written in the target (a .pth line, an -r include) refers to."""
        if os.path.isabs(path_text) and self.image:
            return os.path.join(self.top, path_text.lstrip("/"))
        return os.path.normpath(os.path.join(base_dir, path_text))

    def resolve(self, host_path: str) -> str:
        """Resolve every symlink in host_path, staying inside the view (FsError if not)."""
        if not self.inside(host_path):
            raise FsError("outside the scanned target")
        if "\0" in host_path:  # from a file's text: no name holds one, and os calls raise ValueError
            raise FsError("the path has a NUL byte")
        normal = os.path.normpath(host_path)
        rel = normal[len(self.top):] if self.inside(normal) else os.path.relpath(host_path, self.top)
        pending = rel.split(os.sep)
        pending.reverse()
        parts: list[str] = []
        current = self.top  # the top joined with parts, kept as one string: a path is resolved often
        hops, missing, followed = 0, False, None  # followed: the text of the last link, for the error
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if not parts:
                    if not self.image:
                        raise FsError(f"symlink to {shown(followed)} leaves the scanned target; not followed" if followed
                                      else "'..' climbs out of the scanned target")
                    continue  # an image's / has no parent
                parts.pop()
                current, missing = os.path.join(self.top, *parts), False
                continue
            candidate = os.path.join(current, name)
            if candidate in self._plain_dirs or missing:
                parts.append(name)  # a folder already seen not to be a link, or below a missing one
                current = candidate
                continue
            try:
                mode = os.lstat(name, dir_fd=self._folder(current)).st_mode
            except (FileNotFoundError, NotADirectoryError):  # nothing there, or a file where a folder would be
                mode, missing = 0, True
            except OSError as exc:
                raise FsError(_reason(exc)) from exc
            if not stat.S_ISLNK(mode):
                if stat.S_ISDIR(mode):
                    if len(self._plain_dirs) >= PLAIN_DIRS_KEPT:
                        self._plain_dirs.clear()
                    self._plain_dirs.add(candidate)
                parts.append(name)
                current = candidate
                continue
            hops += 1
            if hops > MAX_SYMLINKS:
                raise FsError("too many levels of symbolic links (a symlink loop?)")
            try:
                link = followed = os.readlink(name, dir_fd=self._folder(current))
            except OSError as exc:
                raise FsError(_reason(exc)) from exc
            if os.path.isabs(link):
                if self.image:
                    link = link.lstrip("/")
                else:
                    real = os.path.normpath(link)
                    if not self.inside(real):
                        raise FsError(f"symlink to {shown(link)} leaves the scanned target; not followed")
                    link = os.path.relpath(real, self.top)
                parts, current = [], self.top
            pending.extend(reversed(link.split("/")))
        return current

    # -- descriptors ---------------------------------------------------------
    def _folder(self, real_dir: str) -> int:
        """A descriptor of the folder at real_dir (a path resolve() gave), opened one name at a time from the top
        without following a link; the most recently used are kept open."""
        if not self.inside(real_dir):
            raise FsError("outside the scanned target")
        path, below = real_dir, []
        while (fd := _open_folders.get((self._number, path))) is None and path != self.top:
            path, name = os.path.split(path)
            below.append(name)
        if fd is None:
            fd = self._keep(path, os.open(path, _FOLDER_FLAGS))
        else:
            _open_folders.move_to_end((self._number, path))
        for name in reversed(below):
            parent, path = fd, os.path.join(path, name)
            try:
                fd = os.open(name, _FOLDER_FLAGS, dir_fd=parent)
            except OSError as exc:
                changed = self._changed(parent, name, path)
                if changed:
                    raise changed from exc
                raise
            fd = self._keep(path, fd)
        return fd

    def _keep(self, real_dir: str, fd: int) -> int:
        _open_folders[(self._number, real_dir)] = fd
        if len(_open_folders) > FOLDERS_KEPT_OPEN:
            os.close(_open_folders.popitem(last=False)[1])
        return fd

    def _leaf(self, real: str) -> tuple[int, str]:
        """The open folder holding the resolved path `real`, and its name there ("." for the top itself)."""
        if real == self.top:
            return self._folder(real), "."
        folder, name = os.path.split(real)
        return self._folder(folder), name

    def _changed(self, folder_fd: int, name: str, real: str) -> FsError | None:
        """The error for a name that resolve() saw as a file or folder and that is now a symlink: the target changed
        while it was scanned (a folder swapped for a link to elsewhere). None when it is not a link."""
        try:
            if not stat.S_ISLNK(os.lstat(name, dir_fd=folder_fd).st_mode):
                return None
        except OSError:
            return None
        self._plain_dirs.clear()
        return FsError(f"{self.display(real)} became a symlink while the scan read it; not followed")

    def _open(self, real: str, flags: int) -> int:
        folder, name = self._leaf(real)
        try:
            return os.open(name, flags | getattr(os, "O_NOFOLLOW", 0), dir_fd=folder)
        except OSError as exc:
            changed = self._changed(folder, name, real)
            if changed:
                raise changed from exc
            raise

    # -- reading --------------------------------------------------------------
    def unreachable(self, host_path: str) -> str | None:
        """Why the path cannot be read at all (missing, a link out of the view, no permission), or None."""
        try:
            os.stat(self.resolve(host_path))
        except FsError as exc:
            return str(exc)
        except FileNotFoundError:
            return "no such file or directory"
        except OSError as exc:
            return exc.strerror or str(exc)
        return None

    def kind(self, host_path: str) -> str | None:
        """'file', 'dir', 'other' or None (missing), after resolving symlinks."""
        try:
            folder, name = self._leaf(self.resolve(host_path))
            mode = os.lstat(name, dir_fd=folder).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (FsError, OSError):
            return "other"  # a loop, a link out of the target, no permission: exists, but not usable
        if stat.S_ISREG(mode):
            return "file"
        if stat.S_ISDIR(mode):
            return "dir"
        return "other"  # a device, a FIFO, or a link that appeared since resolve() looked

    def link_text(self, host_path: str) -> str | None:
        """What the symlink at host_path says (itself not followed, its folders resolved inside the view),
        as written: "/etc/ssl/certs/java/cacerts". None when it is not a symlink."""
        try:
            folder = self._folder(self.resolve(os.path.dirname(host_path)))
            return shown(os.readlink(os.path.basename(host_path), dir_fd=folder))
        except (FsError, OSError):  # EINVAL: not a link; nothing there; a folder that cannot be searched
            return None

    def is_file(self, host_path: str) -> bool:
        return self.kind(host_path) == "file"

    def is_dir(self, host_path: str) -> bool:
        return self.kind(host_path) == "dir"

    def read_bytes(self, host_path: str, cap: int = DEFAULT_CAP, head: bool = False) -> bytes:
        """The file's bytes, at most `cap`: over it an FsError, or with `head` its first `cap` bytes (for
        formats whose start says enough: a jar's first entries)."""
        with _as_fs_error(cap):
            return _read_open(self._open(self.resolve(host_path), _READ_FLAGS), cap, head)

    def open_file(self, host_path: str, cap: int) -> BinaryIO:
        """The regular file, open for reading, for formats read in parts (an archive's directory, then the
        members needed); FsError as for read_bytes. The caller closes it."""
        with _as_fs_error(cap):
            return os.fdopen(_checked(self._open(self.resolve(host_path), _READ_FLAGS), cap)[0], "rb")

    def read_if_present(self, host_path: str, cap: int, errors: list) -> bytes | None:
        """A file that may be absent: None when it is; when it cannot be read, None and a ScanError
        ("cannot read: …") appended to `errors`."""
        if self.kind(host_path) is None:
            return None
        try:
            return self.read_bytes(host_path, cap)
        except FsError as exc:
            from auditor.model import ScanError

            errors.append(ScanError(self.display(host_path), f"cannot read: {exc}"))
            return None

    def read_text(self, host_path: str, cap: int = DEFAULT_CAP) -> str:
        data = self.read_bytes(host_path, cap)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FsError(f"not valid UTF-8 (byte {exc.start})") from exc

    def glob(self, pattern: str, base: str | None = None, errors: list | None = None) -> list[str]:
        """Host paths matching a glob written as the target knows paths ("/usr/lib/python*/dist-packages"),
        or relative to the host directory `base`; each directory is resolved inside the view, so a link
        that leaves it is not followed. A directory that exists but cannot be listed is a ScanError in
        `errors`, when given."""
        found = [base if base is not None else self.locate(self.top, "/")]
        parts = [p for p in pattern.split("/") if p]
        for index, part in enumerate(parts):
            if not any(c in part for c in "*?["):
                found = [os.path.join(d, part) for d in found]
                continue
            folders_only = index < len(parts) - 1  # a site directory of 100,000 files has few folders to look in
            matched = []
            for directory in found:
                try:
                    matched += [os.path.join(directory, e.name) for e in self.list_dir(directory)
                                if fnmatch.fnmatchcase(e.name, part) and (part[0] == "." or e.name[0] != ".")
                                and not (folders_only and _plain_file(e))]
                except FsError as exc:
                    if errors is not None and self.kind(directory) is not None:
                        from auditor.model import ScanError

                        errors.append(ScanError(self.display(directory), f"cannot list directory: {exc}"))
                    continue
            found = matched
        return [p for p in found if self.kind(p) is not None]

    def list_dir(self, host_dir: str) -> list[Listed]:
        """Entries of a directory, sorted by name; symlinks are not followed here."""
        real, entries = self.listing(host_dir)
        prefix = os.path.join(real, "")
        return [Listed(entry, prefix) for entry in entries]

    def listing(self, host_dir: str) -> tuple[str, list[os.DirEntry]]:
        """The directory's resolved path and its entries sorted by name, for a walk that joins the names it keeps
        itself (a wrapper per entry costs a walk of 200,000 files a fifth of its time). The folder was listed
        through a descriptor, closed since: an entry's `path` is its name alone, and it answers is_dir, is_file
        and is_symlink with follow_symlinks=False only."""
        try:
            real = self.resolve(host_dir)
            fd = self._open(real, _LISTING_FLAGS)
            try:
                with os.scandir(fd) as listing:
                    entries = sorted(listing, key=_name)
                for entry in entries:
                    entry.is_symlink()  # where the listing gives no type, the entry's lstat is made now, while open
            finally:
                os.close(fd)
        except OSError as exc:
            raise FsError(_reason(exc)) from exc
        return real, entries


class Listed:
    """A name in a listed folder of the target: its host path, and its type as the listing gave it (a symlink is
    not followed)."""

    __slots__ = ("name", "path", "_entry")

    def __init__(self, entry: os.DirEntry, folder_prefix: str):
        self.name = entry.name
        self.path = folder_prefix + entry.name
        self._entry = entry  # listed through a descriptor since closed: asked only what the listing already holds

    def is_dir(self) -> bool:
        return self._entry.is_dir(follow_symlinks=False)

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()


if TYPE_CHECKING:  # for annotations only: a Protocol needs typing at run time
    class Named(Protocol):
        """A name in a folder's listing, as the trust-store code reads it: a View's `Listed`, an archive's `Member`."""

        @property
        def name(self) -> str: ...


    class StoreView(Protocol):
        """What the trust-store code reads a store and a client's files through: a View, or the view of an archive's
        members (auditor.collect.python.ziparchive.ArchiveView), whose stores are checked by the same code. Exactly
        the part of View's interface that code calls; a reader that needs more takes a View."""

        @property
        def top(self) -> str: ...

        @property
        def image(self) -> bool: ...

        def inside(self, path: str, /) -> bool: ...

        def display(self, path: str, /) -> str: ...

        def locate(self, base_dir: str, path_text: str, /) -> str: ...

        def resolve(self, path: str, /) -> str: ...

        def kind(self, path: str, /) -> str | None: ...

        def is_file(self, path: str, /) -> bool: ...

        def is_dir(self, path: str, /) -> bool: ...

        def link_text(self, path: str, /) -> str | None: ...

        def list_dir(self, path: str, /) -> Sequence[Named]: ...

        def read_bytes(self, path: str, cap: int, /) -> bytes: ...


class NotRegular(Exception):
    """A FIFO, device, socket or directory where a file was to be read."""

    def __init__(self, mode: int):
        super().__init__(_file_type(mode))
        self.mode = mode


class TooLarge(Exception):
    """A file over the size cap: `size` as it was opened, or None when it grew past the cap while read."""

    def __init__(self, size: int | None):
        super().__init__(f"{size} bytes")
        self.size = size


@contextlib.contextmanager
def _as_fs_error(cap: int):
    """The reasons a file of the target cannot be read, as the FsError a collector reports."""
    try:
        yield
    except NotRegular as exc:
        raise FsError(f"not a regular file ({_file_type(exc.mode)}); not read") from exc
    except TooLarge as exc:
        raise FsError(f"file grew over the {cap}-byte limit while being read" if exc.size is None
                      else f"file is {exc.size} bytes, over the {cap}-byte limit; not read") from exc
    except OSError as exc:
        raise FsError(_reason(exc)) from exc


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)  # a FIFO's open never waits


def read_regular(path: str, cap: int) -> bytes:
    """The bytes of the regular file at `path` (a path the user gave, not a target's file), as View.read_bytes
    reads: NotRegular, TooLarge, or the OSError of opening or reading it."""
    return _read_open(os.open(path, _READ_FLAGS), cap)


def _read_open(fd: int, cap: int, head: bool = False) -> bytes:
    """The bytes of the open regular file, at most `cap`, never read past the cap; the descriptor is closed.
    NotRegular, TooLarge (never with `head`: then the first `cap` bytes), or the OSError of reading it."""
    fd, info = _checked(fd, cap, head)
    try:
        limit = cap if head else cap + 1  # one byte over the cap tells a file that grew while read
        chunks, size = [], 0
        request = min(info.st_size + 1, limit)  # the whole file in one read, so no copy joins it (an archive is large)
        while size < limit and (chunk := os.read(fd, min(request, limit - size))):
            chunks.append(chunk)
            size += len(chunk)
            request = 1 << 20  # it grew, or reports no size (procfs): read on in chunks
        if size > cap:
            raise TooLarge(None)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _checked(fd: int, cap: int, head: bool = False) -> tuple[int, os.stat_result]:
    """The descriptor, once what it opened is seen to be a regular file of at most `cap` bytes (unless only its
    `head` is wanted): checked on what was opened, so no race. NotRegular or TooLarge, the descriptor closed."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(info.st_mode)
        if info.st_size > cap and not head:
            raise TooLarge(info.st_size)
        return fd, info
    except BaseException:
        os.close(fd)
        raise


def shown(name: str) -> str:
    """A file name or link text as a report shows it: bytes that are not UTF-8 (which Python holds as lone
    surrogates) as \\xNN, so every report stays valid UTF-8 and still says which file it was."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte (from a JSON "\ud800"): \ud800
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _name(entry: os.DirEntry) -> str:
    return entry.name


def _plain_file(entry: Listed) -> bool:
    """An entry that is not a folder nor a link (which may lead to one), from the listing alone."""
    try:
        return not entry.is_symlink() and not entry.is_dir()
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links (a symlink loop?)"
    return exc.strerror or str(exc)


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"
