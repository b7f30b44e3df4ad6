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
import os
import stat
from typing import BinaryIO

MAX_SYMLINKS = 40
DEFAULT_CAP = 8 * 1024 * 1024
PLAIN_DIRS_KEPT = 4096  # enough for the install folders a scan resolves again and again; a tree walk's are forgotten


class FsError(Exception):
    """A file or directory of the target could not be used; the message says why."""


class View:
    def __init__(self, top: str, *, image: bool = False, display_top: str | None = None):
        self.top = os.path.realpath(top)
        self.image = image
        self.display_top = self.top if display_top is None else display_top
        # Folders seen not to be symlinks: a scan resolves the same install folders again and again,
        # and reads a target as it is when the scan starts.
        self._plain_dirs: set[str] = set()

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
                mode = os.lstat(candidate).st_mode
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
                link = followed = os.readlink(candidate)
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

    # -- reading --------------------------------------------------------------
    def kind(self, host_path: str) -> str | None:
        """'file', 'dir', 'other' or None (missing), after resolving symlinks."""
        try:
            mode = os.stat(self.resolve(host_path)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (FsError, OSError):
            return "other"  # a loop, a link out of the target, no permission: exists, but not usable
        if stat.S_ISREG(mode):
            return "file"
        if stat.S_ISDIR(mode):
            return "dir"
        return "other"

    def link_text(self, host_path: str) -> str | None:
        """What the symlink at host_path says (itself not followed, its folders resolved inside the view),
        as written: "/etc/ssl/certs/java/cacerts". None when it is not a symlink."""
        try:
            folder = self.resolve(os.path.dirname(host_path))
            return shown(os.readlink(os.path.join(folder, os.path.basename(host_path))))
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
            return read_regular(self.resolve(host_path), cap, getattr(os, "O_NOFOLLOW", 0), head)

    def open_file(self, host_path: str, cap: int) -> BinaryIO:
        """The regular file, open for reading, for formats read in parts (an archive's directory, then the
        members needed); FsError as for read_bytes. The caller closes it."""
        with _as_fs_error(cap):
            return open_regular(self.resolve(host_path), cap, getattr(os, "O_NOFOLLOW", 0))

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

    def list_dir(self, host_dir: str) -> list[os.DirEntry]:
        """Entries of a directory, sorted by name; symlinks are not followed here."""
        try:
            with os.scandir(self.resolve(host_dir)) as entries:
                return sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            raise FsError(_reason(exc)) from exc


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


def open_regular(path: str, cap: int, flags: int = 0) -> BinaryIO:
    """The regular file at `path` open for reading, checked as _open_checked checks it."""
    fd, _ = _open_checked(path, cap, flags)
    return os.fdopen(fd, "rb")


def read_regular(path: str, cap: int, flags: int = 0, head: bool = False) -> bytes:
    """The bytes of the regular file at `path`, at most `cap`, never read past the cap. NotRegular, TooLarge
    (never with `head`: then the first `cap` bytes), or the OSError of opening or reading it."""
    fd, info = _open_checked(path, cap, flags, head)
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


def _open_checked(path: str, cap: int, flags: int, head: bool = False) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file at `path`: opened without waiting for a FIFO's writer, its type and size
    (at most `cap`, unless only its `head` is wanted) checked on what was opened, so no race. NotRegular,
    TooLarge, or the OSError of opening it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | flags)
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


def _plain_file(entry: os.DirEntry) -> bool:
    """An entry that is not a folder nor a link (which may lead to one), from the listing alone."""
    try:
        return not entry.is_symlink() and not entry.is_dir(follow_symlinks=False)
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
