"""`auditor scan --image` of an OCI image layout of 10 gzip layers and about 200,000 files, against listing its
layer tars with tarfile (a fresh interpreter opening each layer blob with `tarfile.open(mode="r:gz")` and
iterating its members), in the same run (target: within 1.5x).

The image is bench_root_scan's Debian-like tree (the OS bundle and its hashed folder, Debian's and pip's
dist-packages with botocore, a JDK, homes with a virtualenv and a pip cache, an application with its
node_modules, and the bulk a real image carries), split into layers as a Dockerfile's steps would make them
(the base system, libraries, the standard library, a JDK, apt's and pip's Python packages, homes, the
application's node_modules in two steps, its code), each written with tarfile as a gzip blob with its digest,
then a config and a manifest. The last layer changes what is below it, as later steps do: it deletes pip's
botocore (whiteouts) and installs another, replaces the OS bundle, deletes a pip cache and replaces the
application's source folder (an opaque folder).

Printed too: the scan in process (the layers applied, the scan, the report), the layers applied alone, its peak
RSS, and the peak RSS of the scan of bench_memory's image at 50,000 and 200,000 files as 10-layer images: their
ratio (target: flat, within 1.2x) and the bytes of peak RSS each added file costs. The image's names are kept in a
temporary SQLite file, not in memory (no layer's bytes, no copy of a file either), so what memory holds is bounded:
SQLite's page cache, the last folders and entries looked up, and at most 128 gzip restart points (about 40 kB each).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
import time
from contextlib import redirect_stdout

import bench_memory
import bench_root_scan
from _common import AUDITOR, PYTHON, best_of, peak_rss_and_seconds, report
from bench_root_scan import SCRATCH, ca_bundle, distribution

LAYERS = 10
FLAT = 1.20  # peak RSS of the scan at 200,000 files over that at 50,000
LIST_LAYERS = """\
import json, os, sys, tarfile
layout = sys.argv[1]
with open(os.path.join(layout, "index.json")) as handle:
    digest = json.load(handle)["manifests"][0]["digest"]
with open(os.path.join(layout, "blobs", *digest.split(":"))) as handle:
    layers = json.load(handle)["layers"]
count = 0
for layer in layers:
    with tarfile.open(os.path.join(layout, "blobs", *layer["digest"].split(":")), mode="r:gz") as tar:
        for member in tar:
            count += 1
print(count)
"""
# Which layer a path goes to: the longest prefix listed here wins (paths as the image names them, no leading "/").
STEPS = {"": 1, "usr/lib/x86_64-linux-gnu": 2, "usr/bin": 2, "usr/include": 2, "usr/share/perl5": 2,
         "usr/share/icons": 2, "usr/lib/python3.11": 3, "usr/lib/jvm": 4, "etc/ssl/certs/java": 4,
         "etc/alternatives": 4, "usr/lib/python3/dist-packages": 5, "usr/local": 6, "home": 7, "root": 7,
         "srv/app/node_modules": 8, "srv/app/node_modules/module-3": 9, "srv/app/node_modules/module-4": 9,
         "srv/app": 10}


class _Hashing:
    """A file being written, and the SHA-256 and size of what was written to it."""

    def __init__(self, file):
        self.file, self.hash, self.size = file, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.file.write(data)

    def tell(self) -> int:
        return self.size

    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


class LayeredImage:
    """Takes the files of bench_root_scan.Image's writers and puts each into its layer (STEPS, or `layer` when set),
    then writes the layers into an OCI image layout."""

    def __init__(self) -> None:
        self.files = 0
        self.layer: int | None = None  # every entry into this layer, when set
        self.entries: list[list[tuple[str, str, bytes]]] = [[] for _ in range(LAYERS)]  # (kind, name, data or link)

    def _add(self, kind: str, path: str, data: bytes) -> None:
        name = path.lstrip("/")
        number = self.layer
        if number is None:
            prefix = max((p for p in STEPS if name.startswith(p)), key=len)
            number = STEPS[prefix]
        self.entries[number - 1].append((kind, name, data))

    def write(self, path: str, data: bytes | str = b"") -> None:
        self._add("file", path, data.encode() if isinstance(data, str) else data)
        self.files += 1

    def link(self, path: str, target: str) -> None:
        self._add("link", path, target.encode())
        self.files += 1

    def many(self, directory: str, names) -> None:
        for name in names:
            self.write(f"{directory}/{name}")

    def delete(self, path: str) -> None:
        folder, _, leaf = path.lstrip("/").rpartition("/")
        self._add("file", f"{folder}/.wh.{leaf}", b"")

    def opaque(self, folder: str) -> None:
        self._add("file", f"{folder.strip('/')}/.wh..wh..opq", b"")

    def save(self, layout: str, tag: str) -> None:
        blobs = os.path.join(layout, "blobs", "sha256")
        os.makedirs(blobs)
        descriptors, diff_ids = [], []
        for entries in self.entries:
            descriptor, diff_id = _layer(blobs, entries)
            descriptors.append(descriptor)
            diff_ids.append(diff_id)
        config = _blob(blobs, "application/vnd.oci.image.config.v1+json", json.dumps({
            "architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
        manifest = _blob(blobs, "application/vnd.oci.image.manifest.v1+json", json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config,
            "layers": descriptors}).encode())
        manifest["annotations"] = {"org.opencontainers.image.ref.name": tag}
        with open(os.path.join(layout, "index.json"), "w") as handle:
            json.dump({"schemaVersion": 2, "manifests": [manifest]}, handle)
        with open(os.path.join(layout, "oci-layout"), "w") as handle:
            json.dump({"imageLayoutVersion": "1.0.0"}, handle)


def _blob(blobs: str, media_type: str, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as handle:
        handle.write(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def _layer(blobs: str, entries: list[tuple[str, str, bytes]]) -> tuple[dict, str]:
    """One layer's gzip tar blob (its folders before what they hold, as a layer lists them); its descriptor and
    the digest of its uncompressed tar."""
    partial = os.path.join(blobs, "partial")
    with open(partial, "wb") as file:
        compressed = _Hashing(file)
        with gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=6, mtime=0) as stream:
            plain = _Hashing(stream)
            with tarfile.open(fileobj=plain, mode="w", format=tarfile.GNU_FORMAT) as tar:
                folders: set[str] = set()
                for kind, name, data in entries:
                    parts = name.split("/")
                    for depth in range(1, len(parts)):
                        folder = "/".join(parts[:depth])
                        if folder not in folders:
                            folders.add(folder)
                            info = tarfile.TarInfo(folder + "/")
                            info.type, info.mode = tarfile.DIRTYPE, 0o755
                            tar.addfile(info)
                    info = tarfile.TarInfo(name)
                    info.mode = 0o644
                    if kind == "link":
                        info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                        tar.addfile(info)
                    else:
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
    os.rename(partial, os.path.join(blobs, compressed.digest().partition(":")[2]))
    return ({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": compressed.digest(),
             "size": compressed.size}, plain.digest())


def make_layout(layout: str) -> int:
    """bench_root_scan's image as 10 layers, the last one changing what the layers below put there."""
    image = LayeredImage()
    files = bench_root_scan.make_image(layout, image)
    image.layer = LAYERS
    bundle = ca_bundle()
    site = "/usr/local/lib/python3.11/dist-packages"
    image.delete(f"{site}/botocore")
    image.delete(f"{site}/botocore-1.34.1.dist-info")
    distribution(image, site, "botocore", "1.35.0", 40, {"cacert.pem": bundle, "httpsession.py": "import certifi\n"})
    image.write("/etc/ssl/certs/ca-certificates.crt", bundle)
    image.delete("/home/alice/.cache/pip")
    image.opaque("/srv/app/src")
    image.many("/srv/app/src", (f"handler{i:02d}.js" for i in range(10)))
    image.save(layout, "bench")
    return files


def make_memory_layout(layout: str, files: int) -> int:
    image = LayeredImage()
    made = bench_memory.make_image(layout, files, image)
    image.save(layout, "bench")
    return made


def checked_scan(layout: str) -> None:
    """One scan whose report is checked: the image read, its later layer's changes honoured."""
    output = layout + ".json"
    best_of([*AUDITOR, "scan", "--image", layout, "--format", "json", "-q", "--output", output], runs=1)
    with open(output, encoding="utf-8") as handle:
        found = json.load(handle)
    os.unlink(output)
    botocore = sorted(c["version"] for c in found["components"] if c["name"] == "botocore")
    if "image" not in {t["kind"] for t in found["targets"]} or botocore != ["1.29.90", "1.35.0"] or found["errors"]:
        raise SystemExit(f"the scan of the image is not what the image holds: botocore {botocore}, "
                         f"errors {found['errors'][:3]}")


def in_process(layout: str, runs: int) -> tuple[float, float]:
    """The whole scan, and the layers applied alone, without interpreter start-up (imports warm after a first run)."""
    from auditor.cli.main import main as auditor_main
    from auditor.image.source import open_image
    from auditor.image.view import LayeredView

    scan = applied = float("inf")
    for _ in range(runs + 1):
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            auditor_main(["scan", "--image", layout, "--format", "json", "-q"])
        scan = min(scan, time.perf_counter() - start)
        start = time.perf_counter()
        LayeredView(open_image(layout).layers).close()
        applied = min(applied, time.perf_counter() - start)
    return scan, applied


def memory(runs: int) -> None:
    """Peak RSS as the image grows: the names are kept on disk, so nothing held in memory grows with them (no
    layer's bytes, no copy of its files either)."""
    peaks, files = {}, {}
    for size in (50_000, 200_000):
        with tempfile.TemporaryDirectory(dir=SCRATCH) as top:
            layout = os.path.join(top, "layout")
            files[size] = make_memory_layout(layout, size)
            peaks[size] = peak_rss_and_seconds([*AUDITOR, "scan", "--image", layout, "--format", "json", "-q"], runs)[0]
        print(f"  peak RSS of the scan of bench_memory's image as {LAYERS} layers, {files[size]:,} files: "
              f"{peaks[size]:.1f} MB")
    ratio = peaks[200_000] / peaks[50_000]
    growth = (peaks[200_000] - peaks[50_000]) * 2**20 / (files[200_000] - files[50_000])
    print(f"  peak RSS ratio 200k/50k files: {ratio:.2f}x (target <= {FLAT:.2f}x: {'met' if ratio <= FLAT else 'NOT met'}); "
          f"{growth:.0f} bytes of peak RSS per added file")


def main(runs: int = 3) -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=SCRATCH) as top:
        layout = os.path.join(top, "layout")
        files = make_layout(layout)
        made = time.perf_counter() - started
        checked_scan(layout)
        listing = best_of([PYTHON, "-c", LIST_LAYERS, layout], runs, ok_codes=(0,))
        scan = best_of([*AUDITOR, "scan", "--image", layout, "--format", "json", "-q"], runs)
        ratio = report(f"auditor scan --image of an OCI layout of {LAYERS} gzip layers, {files:,} files", scan,
                       "listing its layer tars with tarfile (r:gz)", listing, "<= 1.5x")
        inside, applied = in_process(layout, runs=1)
        peak = peak_rss_and_seconds([*AUDITOR, "scan", "--image", layout, "--format", "json", "-q"], 1)[0]
        print(f"  in process the scan takes {inside * 1000:.1f} ms, of which applying the layers {applied * 1000:.1f} ms; "
              f"peak RSS {peak:.1f} MB; target {'met' if ratio <= 1.5 else 'NOT met'} (image written in {made:.1f} s)")
    memory(runs=1)
    print(f"  (image benchmark took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    sys.exit(main())
