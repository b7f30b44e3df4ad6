"""One layer of an image, read in place, never unpacked to disk: listed once (each member's header, its blob's
digest checked in the same pass), then each file read where it lies in the layer's uncompressed stream.

A layer's digest is that of its blob as the manifest lists it (an OCI layout), or that of its uncompressed tar as
the config's `rootfs.diff_ids` lists it (a docker-archive, whose layers are named by no manifest). A layer whose
bytes do not match is refused as a whole, as a runtime refuses to pull it: its listing ends in an FsError once all
of it was read, before anything of it is applied.
"""

from __future__ import annotations

import bisect
import hashlib
import tarfile
import zlib
from typing import Any, Iterator, cast

from auditor.fs import FsError
from auditor.image import tar
from auditor.image.streams import (CHUNK, Blob, Forward, Region, RestartPoint, RestartPoints, gunzip, hashed, plain,
                                   unzstd)

MAX_RATIO = 100  # bytes a compressed layer's members declare, per compressed byte (a decompression bomb)
RATIO_FLOOR = 64 << 20
TAR_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, ValueError, UnicodeError)

__all__ = ["Layer", "Region", "TAR_ERRORS", "forget_headers"]


class Layer:
    """One layer's blob: a tar, compressed with gzip or zstd or not. `digest` is what its bytes must hash to, of
    the blob as stored (`checks="blob"`) or of the uncompressed tar (`checks="tar"`); `size`, the blob's size as
    the manifest lists it. An empty digest is not checked."""

    def __init__(self, number: int, digest: str, region: Region, *, checks: str = "blob", size: int | None = None):
        self.number, self.digest, self.region, self.checks, self.size = number, digest, region, checks, size
        self.compression = region.compression()
        self.points = RestartPoints()  # a gzip stream's, recorded as the listing inflated it
        self._blob: Blob | None = None
        self._stream: Forward | None = None  # the stream of the last read, kept for the reads that follow it

    @property
    def label(self) -> str:
        return f"layer {self.number} ({self.digest[:19]})" if self.digest else f"layer {self.number}"

    def listing(self) -> Iterator[tar.Member]:
        """The layer's members in order. Once every member was given, the rest of the blob is read and its digest
        checked: a mismatch (or a damaged tar) is an FsError then, so a caller that applies nothing before the
        listing ends applies nothing of a tampered layer."""
        algorithm, _, expected = self.digest.partition(":")
        digest = hashlib.new(algorithm) if expected else None
        blob = Blob(self.region, digest=digest if self.checks == "blob" else None)
        points = RestartPoints()
        chunks = self._decoded(blob, None, points)
        if digest is not None and self.checks == "tar":
            chunks = hashed(chunks, digest)
        stream = Forward(chunks)
        bound = max(MAX_RATIO * self.region.size, RATIO_FLOOR) if self.compression else None
        declared = 0
        try:
            for member in tar.members(stream):
                declared += member.size
                if bound is not None and declared > bound:
                    raise FsError(f"its members declare over {declared:,} bytes from {self.region.size:,} compressed, "
                                  f"a ratio over the {MAX_RATIO}:1 limit")
                yield member
            if digest is not None and self.checks == "tar":
                self._read_to_end(stream, bound, declared)
            blob.read_to_end()
        except TAR_ERRORS as exc:
            if digest is not None and self.checks == "blob":
                try:
                    blob.read_to_end()
                except TAR_ERRORS:
                    pass
                else:
                    self._check(digest, expected)  # a tampered blob is said to be one, rather than a bad tar
            raise FsError(f"not a readable tar ({exc})") from exc
        finally:
            blob.close()
        if digest is not None:
            self._check(digest, expected)
        if self.size is not None and self.size != self.region.size:
            raise FsError(f"its blob is {self.region.size:,} bytes where the manifest lists {self.size:,}")
        self.points = points

    def _check(self, digest: Any, expected: str) -> None:
        if digest.hexdigest() != expected:
            what = "blob" if self.checks == "blob" else "uncompressed tar"
            raise FsError(f"its {what} does not match its digest {self.digest} (it hashes to "
                          f"{digest.name}:{digest.hexdigest()}): tampered with or damaged, a runtime would refuse it")

    @staticmethod
    def _read_to_end(stream: Forward, bound: int | None, read: int) -> None:
        """What follows the tar's end (into the uncompressed digest), within the decompression bound."""
        while stream.skip(CHUNK) == CHUNK:
            read += CHUNK
            if bound is not None and read > bound:
                raise FsError(f"it inflates to over {read:,} bytes after its tar's end")

    def _decoded(self, blob: Blob, start: RestartPoint | None, points: RestartPoints | None) -> Iterator[bytes]:
        if self.compression == "gzip":
            return gunzip(blob, start, points)
        if self.compression == "zstd":
            return unzstd(blob)
        return plain(blob)

    def read(self, offset: int, size: int) -> bytes:
        """`size` bytes at `offset` of the uncompressed stream: seeked to in a plain tar; in a compressed one,
        inflated from the stream of the last read when it is not past them, else from the nearest restart point."""
        try:
            if self.compression is None:
                blob = Blob(self.region, start=offset)
                try:
                    data = blob.read(size)
                finally:
                    blob.close()
            else:
                data = self._stream_at(offset).take(size)
        except TAR_ERRORS as exc:
            self.close()
            raise FsError(f"{self.label}: {exc}") from exc
        if len(data) != size:
            raise FsError(f"{self.label} ends inside the member")
        return data

    def _stream_at(self, offset: int) -> Forward:
        points = self.points.points
        offsets = [p.offset for p in points]
        point = points[bisect.bisect_right(offsets, offset) - 1] if offsets and offsets[0] <= offset else None
        stream = self._stream
        if stream is None or stream.offset > offset or (point is not None and point.offset > stream.offset):
            self.close()
            self._blob = Blob(self.region, start=point.position if point is not None else 0)
            stream = self._stream = Forward(self._decoded(self._blob, point, None), point.offset if point else 0)
        gap = offset - stream.offset
        if stream.skip(gap) != gap:
            raise EOFError("the layer ends before the member")
        return stream

    def close(self) -> None:
        if self._blob is not None:
            self._blob.close()
        self._blob = self._stream = None


def forget_headers(archive: tarfile.TarFile) -> None:
    """Drop the headers tarfile keeps of the members read so far (an archive's are kept once, by their reader)."""
    cast(Any, archive).members.clear()
