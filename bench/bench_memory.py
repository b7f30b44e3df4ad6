"""Peak memory of `auditor scan` as the tree grows: an OS image (`--root`) and a repository tree, each
at 10,000 and 200,000 files, against the peak RSS of `auditor --version` measured in the same run; and of
one hostile file (crafted lockfiles and manifests of the worst formats at or past their caps), against the
same baseline and a benign requirements file of 8 MB.

Target: flat, which here means the scan of the 200,000-file tree takes at most 1.10x the peak RSS of the
10,000-file one. What may grow is the listing of the largest single directory (a dist-packages of 2,000
distributions: each directory's entries are sorted), never a list of every file or folder seen. The
growth above `auditor --version` is printed too: that is the scan's own share.

Both trees grow by bulk a scan walks past or lists without keeping: docs, locales, man pages, the
standard library and dpkg's database of an image; services of Python code, docs, assets, `.git` objects
and node_modules of a repository. What a scan reports (OS identity, CA bundles, AWS SDK installs, a
lockfile, the scripts that set CA options) is the same at both sizes, so the report is the same size.

Each measured command is a fresh process started by a small launcher interpreter: a child's ru_maxrss
counts the memory of the process that forked it, and this one has written 400,000 files (and, under
run_all.py, run other benchmarks in process) by then.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from _common import AUDITOR, peak_rss_and_seconds
from bench_java_cacerts import java_cacerts
from bench_root_scan import OPENSSL_TEXT, SCRATCH, Image, ca_bundle, distribution

SIZES = (10_000, 200_000)
FLAT = 1.10
MB = 1 << 20


def peak_rss_mb(command: list[str], runs: int, ok_codes=(0, 1)) -> float:
    """Lowest peak RSS of `runs` executions, in MB."""
    return peak_rss_and_seconds(command, runs, ok_codes)[0]


def make_image(root: str, files: int, image: Image | None = None) -> int:
    """A Debian-like image: what an image scan reads, then filler until it holds about `files` files (written into
    `image`, a writer with Image's methods, else under `root`)."""
    image = image or Image(root)
    bundle = ca_bundle()
    image.write("/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
    image.write("/etc/ssl/certs/ca-certificates.crt", bundle)
    debian = "/usr/lib/python3/dist-packages"
    distribution(image, debian, "botocore", "1.29.90", 40, {"cacert.pem": bundle, "httpsession.py": "import certifi\n"})
    distribution(image, debian, "boto3", "1.26.27", 20)
    where = 'def where():\n    return "/etc/ssl/certs/ca-certificates.crt"\n'  # Debian's patch
    distribution(image, debian, "certifi", "2022.9.24", 2, {"core.py": where})
    for name in ("libssl.so.3", "libcrypto.so.3"):
        image.write(f"/usr/lib/x86_64-linux-gnu/{name}", b"\x7fELF\x02\x01\x01" + b"\x00" * 2048 + OPENSSL_TEXT)
    jdk = "/usr/lib/jvm/java-17-openjdk-amd64"
    image.write(f"{jdk}/release", 'IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.15"\n')
    keystore = java_cacerts()
    if keystore:
        with open(keystore, "rb") as handle:
            image.write(f"{jdk}/lib/security/cacerts", handle.read())
    # Filler in units of 100 files, spread over the places a real image has them.
    for unit in range(max(0, files - image.files) // 100):
        image.many(f"/usr/share/doc/package-{unit:05d}", ("copyright", "changelog.Debian.gz", "README.Debian"))
        image.many(f"/usr/share/locale/l{unit % 200:03d}/LC_MESSAGES", (f"domain{unit:05d}-{i}.mo" for i in range(20)))
        image.many(f"/usr/share/man/man{unit % 8 + 1}", (f"page{unit:05d}-{i}.gz" for i in range(15)))
        image.many(f"/usr/lib/python3.11/pkg{unit:05d}", (f"mod{i:02d}.py" for i in range(20)))
        image.many(f"/usr/lib/x86_64-linux-gnu/lib{unit:05d}", (f"part{i}.so" for i in range(10)))
        image.many("/var/lib/dpkg/info", (f"package-{unit:05d}.{kind}" for kind in ("list", "md5sums", "postinst")))
        distribution(image, debian, f"debian-package-{unit:05d}", "1.0.0", 12)  # 17 files
        image.many(f"/usr/share/icons/hicolor/{unit % 8}/apps", (f"app{unit:05d}-{i}.png" for i in range(12)))
    return image.files


def make_repository(root: str, files: int) -> int:
    """A repository checkout: a virtualenv, a lockfile and CI scripts, then services until about `files` files."""
    repo = Image(root)
    bundle = ca_bundle()
    repo.write("requirements.txt", "boto3==1.34.1\nbotocore==1.34.1\nrequests==2.31.0\n")
    repo.write("Dockerfile", "FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n")
    repo.write("Makefile", "deploy:\n\taws s3 sync build/ s3://bucket --ca-bundle corp-ca.pem\n")
    repo.write(".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                          "    steps:\n      - run: aws s3 ls --no-verify-ssl\n")
    repo.write("app/storage.py", 'import boto3\n\ns3 = boto3.client("s3", verify=False)\n')
    venv = ".venv"
    repo.write(f"{venv}/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n")
    site = f"{venv}/lib/python3.11/site-packages"
    distribution(repo, site, "botocore", "1.34.1", 40, {"cacert.pem": bundle, "httpsession.py": "import certifi\n"})
    distribution(repo, site, "boto3", "1.34.1", 20)
    distribution(repo, site, "certifi", "2024.2.2", 2, {"cacert.pem": bundle})
    module = ('import json\nimport logging\n\nlog = logging.getLogger(__name__)\n\n\n'
              'def handler(event, context):\n    return json.dumps(event)\n')
    # Services of 50 files: code and tests (read for trust settings), docs, config, assets, git objects, node_modules.
    for unit in range(max(0, files - repo.files) // 50):
        service = f"services/svc-{unit:05d}"
        for i in range(12):
            repo.write(f"{service}/src/svc_{unit:05d}/module_{i:02d}.py", module)
        for i in range(6):
            repo.write(f"{service}/tests/test_module_{i:02d}.py", "def test_handler():\n    assert True\n")
        repo.many(f"{service}/docs", ("index.md", "api.md", "operations.md", "changelog.md"))
        repo.many(f"{service}/config", ("settings.json", "logging.yaml", "schema.json"))
        repo.many(f"{service}/static", (f"image{i}.png" for i in range(5)))
        repo.many(f".git/objects/{unit % 256:02x}", (f"{unit:05d}{i:033x}" for i in range(10)))
        repo.many(f"web/node_modules/module-{unit:05d}", ("package.json", "index.js", "README.md", "LICENSE",
                                                          "lib/a.js", "lib/b.js", "lib/c.js", "dist/bundle.js",
                                                          "dist/bundle.min.js", "CHANGELOG.md"))
    return repo.files


def scan_peak(kind: str, target: list[str], top: str, runs: int) -> float:
    """Peak RSS of the scan; its report is checked, so a crash (exit 1 too) is never measured as a scan."""
    output = top + ".json"
    peak = peak_rss_mb([*AUDITOR, "scan", *target, "--format", "json", "-q", "--output", output], runs)
    with open(output, encoding="utf-8") as handle:
        report = json.load(handle)
    os.unlink(output)
    if kind not in {t["kind"] for t in report["targets"]} or not report["components"]:
        raise SystemExit(f"the scan of {top} found nothing: {report['targets']}")
    return peak


HASH = "sha512-Gq5rx3N4UZyd0L3lVjqDMGPGjHrqe0pPcUzXpRcXHfXPtLyzkcXw4fHFtcnq6jbKcT0gMl3s3SVXCpQDDszLA=="
_LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(9))


def _yarn_lock(size: int) -> str:
    entry = ('"{name}@^1.3.0":\n  version "1.3.0"\n  resolved "https://registry.yarnpkg.com/{name}/-/{name}-1.3.0.tgz'
             '#4d6fbb0b2fbb1a3f"\n  integrity ' + HASH + '\n  dependencies:\n    tslib "^2.6.2"\n\n')
    head = ('# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n'
            '"@aws-sdk/client-s3@^3.540.0":\n  version "3.540.0"\n\n')
    return head + "".join(entry.format(name=f"left-pad-{i}") for i in range(size // len(entry.format(name="left-pad-0"))))


def _pnpm_lock(size: int) -> str:
    entry = "  {name}@1.3.0:\n    resolution: {{integrity: " + HASH + "}}\n    engines: {{node: '>=0.10'}}\n\n"
    head = ("lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      '@aws-sdk/client-s3':\n"
            "        specifier: ^3.540.0\n        version: 3.540.0\n\npackages:\n\n  '@aws-sdk/client-s3@3.540.0':\n"
            "    resolution: {integrity: " + HASH + "}\n\n")
    return head + "".join(entry.format(name=f"left-pad-{i}") for i in range(size // len(entry.format(name="left-pad-0"))))


def _package_json(dependencies: int) -> str:
    return json.dumps({"name": "shop", "version": "1.0.0",
                       "dependencies": {f"@aws-sdk/client-service{i}": "^3.400.0" for i in range(dependencies)}}, indent=2)


# (title, file name, content): the worst single files of the formats a scan reads; the benign one first.
HOSTILE = (
    ("benign: requirements file, 8 MB of ordinary pins", "requirements.txt",
     lambda: "".join(f"package-{i}==1.0.{i % 97}\n" for i in range(8 * MB // 22))),
    ("requirements, one line of 50 MB", "requirements.txt", lambda: "botocore==0.21.0 " + "a# " * (50 * MB // 3)),
    ("package.json, 400,000 @aws-sdk deps", "package.json", lambda: _package_json(400_000)),
    ("package.json, 80,000 @aws-sdk deps (under its 4 MB cap)", "package.json", lambda: _package_json(80_000)),
    ("yarn.lock v1, 8 MB of other packages", "yarn.lock", lambda: _yarn_lock(8 * MB)),
    ("pnpm-lock.yaml 9.0, 8 MB of other packages", "pnpm-lock.yaml", lambda: _pnpm_lock(8 * MB)),
    ("package-lock.json, 8 MB of [[],[],...]", "package-lock.json",
     lambda: '{"lockfileVersion": 3, "packages": {"": {}}, "x": [' + ",".join(["[]"] * (8 * MB // 3)) + "]}"),
    ("package-lock.json, nested 100,000 deep", "package-lock.json",
     lambda: '{"lockfileVersion": 3, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("poetry.lock, nested 100,000 deep", "poetry.lock",
     lambda: '[metadata]\nlock-version = "2.0"\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n"),
    ("environment.yml, YAML alias bomb (10^10 nodes if expanded)", "environment.yml",
     lambda: f"name: shop\n{_LAUGHS}dependencies:\n  - botocore=1.34.1\n  - *j\n  - pip:\n    - *j\n"),
)


def single_files(baseline: float, baseline_seconds: float, runs: int = 2) -> None:
    """Peak RSS and seconds of a scan of a folder holding one hostile file: bounded by the file's caps, not its size."""
    print(f"memory, one hostile file (fresh process, lowest of {runs}); baseline 'auditor --version': "
          f"{baseline:.1f} MB, {baseline_seconds:.2f} s")
    benign = None
    for title, name, make in HOSTILE:
        with tempfile.TemporaryDirectory(dir=SCRATCH) as top:
            path = os.path.join(top, name)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(make())
            size = os.path.getsize(path) / MB
            peak, seconds = peak_rss_and_seconds([*AUDITOR, "scan", top, "--format", "json", "-q", "-o", os.devnull], runs)
        benign = benign or (peak, seconds)
        print(f"  {title} ({size:.1f} MB): {peak:.1f} MB ({peak / baseline:.2f}x the baseline, {peak / benign[0]:.2f}x "
              f"the benign file), {seconds:.2f} s ({seconds / benign[1]:.2f}x the benign file)")


def main(runs: int = 3) -> None:
    started = time.perf_counter()
    baseline = peak_rss_mb([*AUDITOR, "--version"], runs, ok_codes=(0,))
    print(f"memory: peak RSS of `auditor scan --format json` (fresh process, lowest of {runs}); "
          f"baseline 'auditor --version': {baseline:.1f} MB")
    kinds = (("image (--root)", "image", make_image, lambda top: ["--root", top]),
             ("repository tree", "tree", make_repository, lambda top: [top]))
    for title, kind, make, target in kinds:
        peaks = {}
        for size in SIZES:
            with tempfile.TemporaryDirectory(dir=SCRATCH) as top:
                files = make(top, size)
                peaks[size] = scan_peak(kind, target(top), top, runs)
            print(f"  {title}, {files:,} files: {peaks[size]:.1f} MB, {peaks[size] / baseline:.2f}x the baseline, "
                  f"{peaks[size] - baseline:+.1f} MB above it")
        ratio = peaks[SIZES[1]] / peaks[SIZES[0]]
        print(f"  {title}: ratio {SIZES[1] // 1000}k/{SIZES[0] // 1000}k {ratio:.2f}x (target <= {FLAT:.2f}x, flat): "
              f"{'met' if ratio <= FLAT else 'NOT met'}")
    single_files(baseline, peak_rss_and_seconds([*AUDITOR, "--version"], runs, ok_codes=(0,))[1])
    print(f"  (memory benchmark took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    sys.exit(main())
