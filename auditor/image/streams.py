"""A layer's bytes, read forward: its blob as stored (a region of a file: a blob of a layout, a member of an
archive), and the tar inside it as its compression gives it (gzip, zstd or none), a bounded chunk at a time.

What is read can be hashed on the way (the layer's digest is checked in the same pass that lists it). A gzip stream
leaves restart points as it is inflated (zlib's state every few MB), so that a file read before the stream's
current place is inflated from the nearest point below it, not from the layer's start; a zstd stream has none
(its decoder's state cannot be copied) and starts again from the layer's start.
"""

from __future__ import annotations

import io
import os
import zlib
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

from auditor.records import record


if TYPE_CHECKING:
    from hashlib import _Hash

READ_SIZE = 1 << 16  # compressed bytes read at a time
CHUNK = 1 << 18  # uncompressed bytes made at a time: what one step of a decoder may hold
RESTART_EVERY = 4 << 20  # uncompressed bytes between a gzip stream's restart points, at first
MOST_POINTS = 64  # restart points a layer keeps (about 40 kB each: zlib's window and state)...
MOST_IMAGE_POINTS = 128  # ...and all the layers of an image keep (auditor.image.tree thins the layers with most)
# A zstd frame names the window its decoder must hold; a larger one than zstd's own default limit is refused.
ZSTD_MAX_WINDOW = 1 << 27
ZSTD_STEP = 1 << 10
GZIP = b"\x1f\x8b"
ZSTD = b"\x28\xb5\x2f\xfd"


@record
class Region:
    """Bytes of a file on the host: a layer's blob, or a member of the archive that holds the image."""

    path: str
    offset: int
    size: int

    def open(self) -> BinaryIO:
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return io.BufferedReader(_RegionFile(os.fdopen(fd, "rb", buffering=0), self.offset, self.size), 1 << 16)

    def compression(self) -> str | None:
        """'gzip' or 'zstd' as the blob's first bytes say, None for a plain tar."""
        with self.open() as file:
            magic = file.read(4)
        return "gzip" if magic[:2] == GZIP else "zstd" if magic == ZSTD else None


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


class Blob:
    """A region's bytes read forward from `start`, each read added to `digest` when one is given."""

    def __init__(self, region: Region, start: int = 0, digest: _Hash | None = None):
        self.region, self.position, self.digest = region, start, digest
        fd = os.open(region.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        self._file = os.fdopen(fd, "rb", buffering=0)
        self._file.seek(region.offset + start)

    def read(self, size: int = READ_SIZE) -> bytes:
        """The next `size` bytes (fewer at the region's end)."""
        size = min(size, self.region.size - self.position)
        if size <= 0:
            return b""
        data = self._file.read(size)
        while 0 < len(data) < size:  # a raw file may give fewer bytes than asked
            more = self._file.read(size - len(data))
            if not more:
                break
            data += more
        if len(data) < size:
            raise EOFError(f"{self.region.path} is shorter than the {self.region.size:,} bytes it was listed with")
        self.position += len(data)
        if self.digest is not None:
            self.digest.update(data)
        return data

    def read_to_end(self) -> None:
        """Read what is left (into the digest)."""
        while self.read(1 << 20):
            pass

    def close(self) -> None:
        self._file.close()


@record
class RestartPoint:
    """Where a gzip stream can be inflated again from: the uncompressed offset it gives bytes from, the blob's
    position of the next compressed byte, zlib's state there (all the bytes before it taken in)."""

    offset: int
    position: int
    state: Any  # a zlib decompressor, copied again for each use


class RestartPoints:
    """A gzip stream's restart points, `every` uncompressed bytes apart, at most `most` of them: past that, every
    other one is dropped and the spacing doubles, so that a layer's points take bounded memory whatever its size
    (a read before the last one then inflates a longer way)."""

    def __init__(self) -> None:
        self.every, self.most = RESTART_EVERY, MOST_POINTS
        self.points: list[RestartPoint] = []

    def due(self, offset: int) -> bool:
        return offset >= (self.points[-1].offset if self.points else 0) + self.every

    def add(self, point: RestartPoint) -> None:
        self.points.append(point)
        if len(self.points) > self.most:
            self.thin()

    def thin(self) -> None:
        """Every other point dropped (those at even multiples of the spacing kept): the spacing doubles."""
        self.points = self.points[1::2]
        self.every *= 2


def plain(blob: Blob) -> Iterator[bytes]:
    while data := blob.read(CHUNK):
        yield data


def gunzip(blob: Blob, start: RestartPoint | None = None, points: RestartPoints | None = None) -> Iterator[bytes]:
    """The inflated bytes of a gzip stream (its members one after another, zero padding between them skipped, as
    Python's gzip reads them), from the start or from a restart point; records restart points into `points`."""
    inflater = start.state.copy() if start is not None else zlib.decompressobj(31)
    pending = b""
    offset = start.offset if start is not None else 0
    between_members = False
    while True:
        if not pending:
            pending = blob.read()
            if not pending:
                if not between_members:
                    rest = inflater.flush()
                    if rest:
                        yield rest
                    if not inflater.eof:
                        raise EOFError("the gzip stream ends inside a member")
                return
        if between_members:
            pending = pending.lstrip(b"\0")
            if not pending:
                continue
            inflater, between_members = zlib.decompressobj(31), False
        data = inflater.decompress(pending, CHUNK)
        pending = inflater.unconsumed_tail
        if inflater.eof:
            pending, between_members = inflater.unused_data, True
        if data:
            offset += len(data)
            yield data
        if points is not None and not pending and not between_members and points.due(offset):
            # Only where zlib has taken in all it was given: a copy keeps a reference to the input it has not
            # taken in (up to READ_SIZE bytes), which a point would hold on to.
            points.add(RestartPoint(offset, blob.position, inflater.copy()))


def unzstd(blob: Blob) -> Iterator[bytes]:
    """The decompressed bytes of a zstd stream, frame after frame. Compressed bytes are fed ZSTD_STEP at a time (a
    zstd block inflates at most 32,768 times, so one step makes at most 32 MB), and a stream that ends inside a
    frame is an error, as the runtime's decoder says."""
    import zstandard  # only for an image that has a zstd layer

    decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    frame = None  # the frame being decoded; None between frames
    made: list[bytes] = []
    ready = 0
    while True:
        data = blob.read()
        if not data:
            if frame is not None:
                raise EOFError("the zstd stream ends inside a frame")
            if made:
                yield b"".join(made)
            return
        view, position = memoryview(data), 0
        while position < len(data):
            if frame is None:
                frame = decompressor.decompressobj()
            piece = view[position:position + ZSTD_STEP]
            try:
                out = frame.decompress(piece)
            except zstandard.ZstdError as exc:
                raise ValueError(str(exc)) from exc  # as zlib's errors are: a stream that cannot be read
            position += len(piece)
            if frame.eof:
                position -= len(frame.unused_data)
                frame = None
            if out:
                made.append(out)
                ready += len(out)
                if ready >= CHUNK:
                    yield b"".join(made)
                    made, ready = [], 0


def hashed(chunks: Iterator[bytes], digest: _Hash) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


class Forward:
    """The next bytes of a stream of chunks: take(n) gives them (fewer at its end), skip(n) passes them; `offset`
    is how far into the stream it is."""

    __slots__ = ("_chunks", "_buffer", "_at", "offset")

    def __init__(self, chunks: Iterator[bytes], offset: int = 0):
        self._chunks, self._buffer, self._at, self.offset = chunks, b"", 0, offset

    def take(self, size: int) -> bytes:
        end = self._at + size
        if end <= len(self._buffer):
            data = self._buffer[self._at:end]
            self._at = end
            self.offset += size
            return data
        parts = [self._buffer[self._at:]]
        wanted = size - len(parts[0])
        self._buffer, self._at = b"", 0
        for chunk in self._chunks:
            if len(chunk) >= wanted:
                parts.append(chunk[:wanted])
                self._buffer, self._at = chunk, wanted
                wanted = 0
                break
            parts.append(chunk)
            wanted -= len(chunk)
        data = b"".join(parts)
        self.offset += len(data)
        return data

    def skip(self, size: int) -> int:
        end = self._at + size
        if end <= len(self._buffer):
            self._at = end
            self.offset += size
            return size
        wanted = size - (len(self._buffer) - self._at)
        self._buffer, self._at = b"", 0
        for chunk in self._chunks:
            if len(chunk) >= wanted:
                self._buffer, self._at = chunk, wanted
                wanted = 0
                break
            wanted -= len(chunk)
        self.offset += size - wanted
        return size - wanted

    def drain(self) -> int:
        """Read to the stream's end; the bytes there were."""
        left = len(self._buffer) - self._at
        self._buffer, self._at = b"", 0
        for chunk in self._chunks:
            left += len(chunk)
        self.offset += left
        return left
