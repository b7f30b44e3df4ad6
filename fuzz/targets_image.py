"""Fuzz targets of a container image's layers: a layer's tar headers (auditor.image.tar), and a layer blob (a tar,
plain or compressed with gzip or zstd) listed, applied into the image's tree and its files read back
(auditor.image.tree).

A target raises AssertionError on an outcome no input may have: an exception other than the reader's own (a
TarError; an FsError of a read), a member whose data would start outside the stream or off a block, a kind the
reader does not name, a problem message of more than one line, a file entry whose read gives other than its size.
Blobs are written below one temporary directory, removed when the process exits. Importable without pytest:
TARGETS maps a name to a callable taking bytes; seeds() gives real layers to start from.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from typing import Callable

import zstandard

from auditor.fs import FsError
from auditor.image.layers import Layer
from auditor.image.streams import Forward, Region
from auditor.image.tar import BLOCK, KINDS, TarError, members
from auditor.image.tree import File, Folder, Tree
from workdirs import workdir  # fuzz/workdirs.py: run.py puts fuzz/ on sys.path


def layer_tar(data: bytes) -> None:
    try:
        for member in members(Forward(iter([data]))):
            assert member.kind in KINDS, member
            assert member.offset % BLOCK == 0 and BLOCK <= member.offset <= len(data), member
            assert member.size >= 0 and "\0" not in member.name + member.link, member
    except TarError as exc:
        assert "\n" not in str(exc), exc


def layer_tree(data: bytes) -> None:
    path = os.path.join(workdir("layer-tree"), "blob")
    with open(path, "wb") as handle:
        handle.write(data)
    tree = Tree()
    tree.apply(Layer(1, "", Region(path, 0, len(data))))
    assert all("\n" not in p.message and p.path.startswith("/") for p in tree.problems), tree.problems
    pending, reads = [tree.root], 0
    while pending and reads < 20:
        folder = pending.pop()
        for name, _ in tree.children(folder):
            entry = tree.child(folder, name)
            if isinstance(entry, Folder):
                pending.append(entry)
            elif isinstance(entry, File) and reads < 20:
                reads += 1
                try:
                    assert len(tree.read(entry, 4096)) == min(entry.size, 4096)
                except FsError as exc:
                    assert "\n" not in str(exc), exc
    tree.close()


TARGETS: dict[str, Callable[[bytes], None]] = {
    "layer-tar": layer_tar,
    "layer-tree": layer_tree,
}


def _tar(tar_format: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        for name, kind, text in (("etc/", tarfile.DIRTYPE, ""), ("etc/ssl/certs/ca-certificates.crt", tarfile.REGTYPE, ""),
                                 ("etc/ssl/cert.pem", tarfile.SYMTYPE, "/etc/ssl/certs/ca-certificates.crt"),
                                 ("etc/ssl/hard.pem", tarfile.LNKTYPE, "etc/ssl/certs/ca-certificates.crt"),
                                 ("usr/lib/python3/dist-packages/" + "d" * 90 + "/METADATA", tarfile.REGTYPE, ""),
                                 ("srv/.wh.old", tarfile.REGTYPE, ""), ("srv/app/.wh..wh..opq", tarfile.REGTYPE, "")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, text
            data = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def seeds() -> dict[str, list[bytes]]:
    tars = [_tar(tarfile.GNU_FORMAT), _tar(tarfile.PAX_FORMAT)]
    return {
        "layer-tar": tars,
        "layer-tree": [*tars, gzip.compress(tars[0], mtime=0), zstandard.ZstdCompressor().compress(tars[1])],
    }
