"""A layer read in place: its tar headers as GNU tar writes them in each of its formats (compared with Python's
tarfile), damaged headers refused, and files read back in any order from gzip (one member or several) and zstd
(several frames) layers, each byte as the tar holds it."""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from auditor.image.layers import Layer
from auditor.image import streams
from auditor.image.streams import RESTART_EVERY, Blob, Forward, Region, plain
from auditor.image.tar import TarError, members
from auditor.image import tree as tree_module
from auditor.image.tree import File, TooManyNames, Tree
from fuzz_targets import MODULES
from fuzzing import fuzz

LONG = "a-folder-whose-name-is-long/" * 5 + "and-a-file-name-past-one-hundred-characters.txt"


def listing(path: Path) -> list[tuple]:
    blob = Blob(Region(str(path), 0, path.stat().st_size))
    try:
        return [(m.name.rstrip("/"), m.kind, m.offset, m.size, m.link) for m in members(Forward(plain(blob)))]
    finally:
        blob.close()


def by_tarfile(path: Path) -> list[tuple]:
    kinds = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
             tarfile.LNKTYPE: "hardlink", tarfile.FIFOTYPE: "a FIFO", tarfile.CHRTYPE: "a device"}
    with tarfile.open(path) as tar:
        return [(m.name, kinds[m.type], m.offset_data, m.size, m.linkname) for m in tar]


def source_tree(top: Path, long_names: bool, fifo: bool) -> None:
    (top / "etc" / "ssl").mkdir(parents=True)
    (top / "etc" / "ssl" / "cert.pem").write_bytes(b"x" * 1000)
    (top / "etc" / "empty").touch()
    (top / "etc" / "caf\u00e9.conf").write_text("non-ASCII name\n")
    os.symlink("ssl/cert.pem", top / "etc" / "bundle")
    os.link(top / "etc" / "ssl" / "cert.pem", top / "etc" / "hard.pem")
    if fifo:
        os.mkfifo(top / "etc" / "fifo")
    if long_names:
        (top / LONG).parent.mkdir(parents=True)
        (top / LONG).write_text("deep\n")
        os.symlink("/" + LONG, top / "etc" / "long-link")


@pytest.mark.parametrize("tar_format", ["gnu", "oldgnu", "posix", "ustar", "v7"])
def test_the_headers_gnu_tar_writes_are_read_as_tarfile_reads_them(tmp_path, tar_format):
    if shutil.which("tar") is None:
        pytest.skip("GNU tar not on PATH")
    long_names = tar_format not in ("v7", "ustar")  # v7 has no room for them; ustar only splits at a '/'
    source_tree(tmp_path / "root", long_names, fifo=tar_format != "v7")  # nor v7 for a FIFO
    archive = tmp_path / "layer.tar"
    subprocess.run(["tar", f"--format={tar_format}", "-C", tmp_path / "root", "-cf", archive, "."], check=True)
    found = listing(archive)
    assert found == by_tarfile(archive)
    names = {entry[0] for entry in found}
    assert {"./etc/ssl/cert.pem", "./etc/hard.pem", "./etc/caf\u00e9.conf"} <= names
    assert ("./etc/fifo" in names) == (tar_format != "v7")
    assert ("./" + LONG in names) == long_names
    with open(archive, "rb") as handle:  # each file's data is where the listing says
        data = handle.read()
    (cert,) = [e for e in found if e[0] in ("./etc/ssl/cert.pem", "./etc/hard.pem") and e[1] == "file"]  # the other:
    assert data[cert[2]:cert[2] + cert[3]] == b"x" * 1000  # a hard link to it


def test_a_device_entry_and_a_base_256_size_are_read(tmp_path):
    archive = tmp_path / "layer.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        device = tarfile.TarInfo("dev/null")
        device.type, device.devmajor, device.devminor = tarfile.CHRTYPE, 1, 3
        tar.addfile(device)
        big = tarfile.TarInfo("big")
        big.size = 9 * 1024 ** 3  # over the 8 GiB an octal size field holds: GNU writes it in base 256
        tar.addfile(big)  # the header only: the listing below is cut where the data would start
    data = archive.read_bytes()[:1024]
    assert data[512 + 124] & 0x80
    (tmp_path / "cut.tar").write_bytes(data)
    with pytest.raises(TarError, match="the tar ends inside the member 'big'"):
        listing(tmp_path / "cut.tar")
    blob = Blob(Region(str(tmp_path / "cut.tar"), 0, 1024))
    read = members(Forward(plain(blob)))
    first, second = next(read), next(read)
    blob.close()
    assert (first.kind, second.size) == ("a device", 9 * 1024 ** 3)


def damaged(tmp_path: Path, change) -> Path:
    source = tmp_path / "good.tar"
    with tarfile.open(source, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("caf\u00e9/" + "n" * 120)  # a pax header for it
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    data = bytearray(source.read_bytes())
    change(data)
    (tmp_path / "bad.tar").write_bytes(bytes(data))
    return tmp_path / "bad.tar"


def summed(data: bytearray, at: int, value: int) -> None:
    """Set a byte of the header at 0 and write the header's checksum again, as a writer of bad numbers would."""
    data[at] = value
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])


@pytest.mark.parametrize("change, said", [
    (lambda d: d.__setitem__(512 + 512 + 10, ord("Z")), "fails its checksum"),  # a byte of the member's header
    (lambda d: d.__setitem__(512 + 2, ord("x")), "malformed record"),  # the pax record's length
    (lambda d: summed(d, 124, ord("9")), "size field that is not a number"),
    (lambda d: d.__delitem__(slice(512 * 3 + 2, None)), "the tar ends inside the member"),
])
def test_a_damaged_tar_is_refused(tmp_path, change, said):
    assert [m[0] for m in listing(damaged(tmp_path, lambda d: None))] == ["caf\u00e9/" + "n" * 120]
    with pytest.raises(TarError, match=said):
        listing(damaged(tmp_path, change))


def big_layer(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A tar of 120 files of 100 KB of random bytes (12 MB: several restart points apart)."""
    rng = random.Random(17)
    files = {f"data/file-{i:03d}.bin": rng.randbytes(100_000) for i in range(120)}
    path = tmp_path / "layer.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path, files


def read_in_random_order(blob: Path, files: dict[str, bytes], into: Tree | None = None) -> None:
    tree = into or Tree()
    tree.apply(Layer(len(tree.layers) + 1, "", Region(str(blob), 0, blob.stat().st_size)))
    assert not tree.problems
    names = list(files)
    random.Random(3).shuffle(names)
    for name in names[:40] + names[:5]:
        entry = tree.entry(name)
        assert isinstance(entry, File) and entry.size == len(files[name])
        assert tree.read(entry, 1 << 20) == files[name], name
    if into is None:
        tree.close()


def test_files_are_read_in_any_order_from_gzip_layers(tmp_path):
    plain_tar, files = big_layer(tmp_path)
    assert plain_tar.stat().st_size > 2 * RESTART_EVERY
    one = tmp_path / "one.tar.gz"
    if shutil.which("gzip"):
        with open(one, "wb") as out:
            subprocess.run(["gzip", "-c", plain_tar], stdout=out, check=True)
    else:
        one.write_bytes(gzip.compress(plain_tar.read_bytes()))
    data = plain_tar.read_bytes()
    several = tmp_path / "several.tar.gz"  # members cut at odd places, zero padding between them
    several.write_bytes(gzip.compress(data[:3_000_001]) + b"\0" * 8 + gzip.compress(data[3_000_001:7_777_777])
                        + gzip.compress(data[7_777_777:]))
    for blob in (plain_tar, one, several):
        read_in_random_order(blob, files)


def test_a_gzip_layers_restart_points_are_bounded_per_layer_and_per_image(tmp_path, monkeypatch):
    """Past MOST_POINTS a layer keeps every other point (twice as far apart); past MOST_IMAGE_POINTS the layers with
    most are thinned: memory stays bounded however large a layer and however many, and reads stay right."""
    plain_tar, files = big_layer(tmp_path)  # 11.5 MiB: 11 points 1 MiB apart
    blob = tmp_path / "layer.tar.gz"
    blob.write_bytes(gzip.compress(plain_tar.read_bytes()))
    monkeypatch.setattr(streams, "RESTART_EVERY", 1 << 20)
    monkeypatch.setattr(streams, "MOST_POINTS", 5)
    monkeypatch.setattr(tree_module, "MOST_IMAGE_POINTS", 6)
    tree = Tree()
    read_in_random_order(blob, files, tree)
    (first,) = [layer.points for layer in tree.layers]
    # the 6th point made it thin once: 2 MiB apart from then on
    assert [p.offset >> 20 for p in first.points] == [2, 4, 6, 8, 10] and first.every == 2 << 20
    for number, count in ((2, 70), (3, 30)):
        with tarfile.open(tmp_path / "part.tar", "w") as tar:
            for name, data in list(files.items())[:count]:
                info = tarfile.TarInfo(f"layer-{number}/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        part = tmp_path / f"part-{number}.tar.gz"
        part.write_bytes(gzip.compress((tmp_path / "part.tar").read_bytes()))
        tree.apply(Layer(number, "", Region(str(part), 0, part.stat().st_size)))
    # 6.7 MiB: 6 points, thinned to 3; 8 in the image, over 6: the first layer's thinned (5 -> 2). Then 2.9 MiB: 2
    # points, 7 in the image: the second layer's (3 -> 1).
    assert [len(layer.points.points) for layer in tree.layers] == [2, 1, 2]
    names = list(files)
    random.Random(5).shuffle(names)
    for name in names[:30]:
        entry = tree.entry(name)
        assert isinstance(entry, File) and tree.read(entry, 1 << 20) == files[name], name
    tree.close()


def test_files_are_read_in_any_order_from_a_zstd_layer_of_several_frames(tmp_path):
    plain_tar, files = big_layer(tmp_path)
    data = plain_tar.read_bytes()
    compressor = zstandard.ZstdCompressor()
    frames = tmp_path / "layer.tar.zst"
    frames.write_bytes(compressor.compress(data[:5_000_000]) + compressor.compress(data[5_000_000:]))
    read_in_random_order(frames, files)


IMAGE_TARGETS = MODULES["image"]


@fuzz
@given(st.data())
def test_a_changed_layer_is_read_or_refused_never_crashes(data):
    """Real layers (a GNU and a pax tar, gzip and zstd blobs of them) with bytes changed, cut or appended: the
    tar reader gives members inside the stream or its own error; the tree applies what it can, reads back what it
    placed, and says the rest in one-line problems (fuzz/targets_image.py checks each outcome)."""
    seed = data.draw(st.sampled_from(IMAGE_TARGETS.seeds()["layer-tree"]))
    changed = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 8))):
        changed[data.draw(st.integers(0, len(changed) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(changed)))
    blob = bytes(changed[:cut]) + data.draw(st.binary(max_size=64))
    IMAGE_TARGETS.TARGETS["layer-tar"](blob)
    IMAGE_TARGETS.TARGETS["layer-tree"](blob)


def test_an_image_of_too_many_names_is_not_read(tmp_path, monkeypatch):
    """The names of all layers are bounded, counted as a layer is listed (not once a layer of millions is held)."""
    plain_tar, _ = big_layer(tmp_path)  # 120 files
    monkeypatch.setattr(tree_module, "MAX_ENTRIES", 200)
    tree = Tree()
    tree.apply(Layer(1, "", Region(str(plain_tar), 0, plain_tar.stat().st_size)))
    assert tree.names == 120
    with pytest.raises(TooManyNames, match="the image holds over 200 names; not read"):
        tree.apply(Layer(2, "", Region(str(plain_tar), 0, plain_tar.stat().st_size)))
    tree.close()
