"""A Lambda deployment package of about 50 MB, laid out as `pip install -t build ... && cd build && zip -r`:
a handler, some 3,600 files across 60 packages with their dist-info folders, botocore with this machine's CA
bundle (or the shipped anchors), certifi, and a few large data files stored deflated.

The target (within 2x) compares the scan with listing the archive: in process, the whole scan of the archive
(`auditor.runs.scan.run`: the archive read, its clients and stores judged, the report built) against
`zipfile.ZipFile(path).namelist()`, each warm and best of a few runs. Whole commands are printed too: a fresh
interpreter listing the members, against `auditor scan fn.zip --format json`, whose fixed start-up (imports,
rule data) is shown by a scan of a one-file zip.
"""

import os
import random
import sys
import tempfile
import time
import zipfile

from _common import AUDITOR, PYTHON, best_of, report

PACKAGES, MODULES = 60, 55
LARGE_FILES, LARGE_SIZE = 5, 10 * 1024 * 1024
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ANCHORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules", "anchors")
NAMELIST = "import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).namelist()"


def ca_bundle() -> bytes:
    if os.path.isfile(SYSTEM_BUNDLE):
        with open(SYSTEM_BUNDLE, "rb") as handle:
            return handle.read()
    return b"".join(open(os.path.join(ANCHORS, name), "rb").read() for name in sorted(os.listdir(ANCHORS)))


def dist_info(name: str, version: str, module: str) -> dict:
    metadata = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name}\nLicense: Apache-2.0\n"
                f"Requires-Python: >= 3.8\n\n" + "A description paragraph. " * 80)
    stem = f"{name.replace('-', '_')}-{version}.dist-info"
    return {f"{stem}/METADATA": metadata.encode(), f"{stem}/INSTALLER": b"pip\n", f"{stem}/top_level.txt": f"{module}\n".encode(),
            f"{stem}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            f"{stem}/RECORD": f"{module}/__init__.py,sha256=x,10\n{stem}/RECORD,,\n".encode()}


def build_files(rng: random.Random) -> dict:
    files = {"lambda_function.py": b"import boto3\n\n\ndef handler(event, context):\n    return boto3.client('s3').list_buckets()\n"}
    for i in range(PACKAGES):
        module = f"package_{i:02d}"
        files.update(dist_info(f"package-{i:02d}", f"1.{i}.0", module))
        files[f"{module}/__init__.py"] = f'__version__ = "1.{i}.0"\n'.encode()
        for j in range(MODULES):
            words = " ".join(rng.choice(("def", "return", "value", "self", "import", "class", "data")) for _ in range(400))
            files[f"{module}/module_{j:02d}.py"] = f"# {module}.module_{j}\n{words}\n".encode()
    files.update(dist_info("botocore", "1.35.0", "botocore"))
    files["botocore/__init__.py"] = b"__version__ = '1.35.0'\n"
    files["botocore/httpsession.py"] = b"from certifi import where\n\nDEFAULT_CA_BUNDLE = 'cacert.pem'\n"
    files["botocore/cacert.pem"] = ca_bundle()
    for j in range(400):
        files[f"botocore/data/service-{j:03d}/2020-01-01/service-2.json"] = ('{"shapes": {' + ", ".join(
            f'"Shape{k}": {{"type": "string"}}' for k in range(150)) + "}}").encode()
    files.update(dist_info("boto3", "1.35.0", "boto3"))
    files["boto3/__init__.py"] = b"__version__ = '1.35.0'\n"
    files.update(dist_info("certifi", "2024.8.30", "certifi"))
    files["certifi/__init__.py"] = b"from .core import contents, where\n\n__version__ = \"2024.08.30\"\n"
    files["certifi/core.py"] = b"def where():\n    return 'cacert.pem'\n"
    files["certifi/cacert.pem"] = ca_bundle()
    for j in range(LARGE_FILES):
        files[f"package_{j:02d}/data/model-{j}.bin"] = rng.randbytes(LARGE_SIZE)
    return files


def write_zip(path: str) -> int:
    files = build_files(random.Random(13))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
        return len(files)


def in_process(path: str, runs: int) -> tuple[float, float]:
    """(best time of the whole scan of the archive, best time of listing it), both in this process, warm."""
    from auditor.trust.formats import pem
    from auditor.checks.rules import select_packs
    from auditor.runs.scan import ScanOptions, run

    packs = select_packs([])

    def scan():
        pem._remembered.cache_clear()  # a fresh process has parsed no bundle yet: each run parses its own
        run(ScanOptions([path], packs))

    def listing():
        zipfile.ZipFile(path).namelist()

    best = {}
    for name, work in (("scan", scan), ("list", listing)):
        work()  # imports and caches warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        best[name] = min(times)
    return best["scan"], best["list"]


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "fn.zip")
        count = write_zip(path)
        size = os.path.getsize(path)
        tiny = os.path.join(root, "handler.zip")
        with zipfile.ZipFile(tiny, "w") as archive:
            archive.writestr("lambda_function.py", "def handler(event, context):\n    return 1\n")
        scan, listing = in_process(path, runs)
        report(f"scan of a {size / 1e6:.0f} MB Lambda zip of {count} files, in process", scan,
               "zipfile.ZipFile(path).namelist(), in process", listing, "<= 2x")
        auditor = best_of(AUDITOR + ["scan", path, "--format", "json", "-q"], runs)
        baseline = best_of([PYTHON, "-c", NAMELIST, path], runs)
        fixed = best_of(AUDITOR + ["scan", tiny, "--format", "json", "-q"], runs)
        report("  the same as whole commands, auditor scan fn.zip --format json", auditor,
               "fresh interpreter, zipfile namelist()", baseline, "reported")
        print(f"  of which the fixed cost of a scan (a zip of one handler file): {fixed * 1000:.1f} ms; "
              f"the archive's own work: {(auditor - fixed) * 1000:.1f} ms against the baseline's {baseline * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
