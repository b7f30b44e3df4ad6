"""`auditor scan --root DIR` over a Debian-like OS image of about 200,000 files, against a bare recursive
os.scandir walk of the same tree (symlinks not followed), in the same run (target: within 1.5x).

The image has what a scan reads (os-release, the OS bundle and its hashed directory, Debian's and pip's
dist-packages with botocore/boto3/certifi, libssl/libcrypto with their version text, a JDK with its
release file and cacerts, a user site in a home folder, a project virtualenv and an application in /srv,
which the application search walks) and the bulk a real image carries that a scan must not read (docs,
locales, man pages, headers, the standard library, dpkg's database, an application's node_modules, a
pip cache in a home). Filler files are empty: what is measured is how much of the
tree a scan touches, not how fast the disk is. Both sides run warm (the tree was just written).

Both sides are whole processes (best of a few runs); the scan's in-process time is printed too, so the
share of interpreter start-up and imports can be seen.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import ssl
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from _common import AUDITOR, PYTHON, best_of, report
from bench_java_cacerts import java_cacerts

REPO = Path(__file__).resolve().parent.parent
WALK = """\
import os, sys
def walk(path):
    count = 0
    with os.scandir(path) as entries:
        for entry in entries:
            count += 1
            if entry.is_dir(follow_symlinks=False):
                count += walk(entry.path)
    return count
print(walk(sys.argv[1]))
"""
OPENSSL_TEXT = b"OpenSSL 3.0.15 3 Sep 2024"
PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.DOTALL)
# Where the image is written: memory where the system has it (creating 200,000 files costs tens of
# seconds on some disks, and the measurement is warm either way), else the temporary directory.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
# Home folders as the image lays them out, relative to its top (never this machine's): root's own, and
# the users' folders below home/, where an image scan looks for them (auditor.collect.machine.home_directories).
ROOT_HOME = "root"
USER_HOMES = "home"


class Image:
    """Writes files under a root, paths as the image names them ("/etc/os-release") or relative to its top."""

    def __init__(self, root: str):
        self.root = root
        self.files = 0
        self._made: set[str] = set()

    def host(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def _parent(self, host: str) -> None:
        parent = os.path.dirname(host)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)

    def write(self, path: str, data: bytes | str = b"") -> None:
        host = self.host(path)
        self._parent(host)
        with open(host, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        self.files += 1

    def link(self, path: str, target: str) -> None:
        host = self.host(path)
        self._parent(host)
        os.symlink(target, host)
        self.files += 1

    def many(self, directory: str, names) -> None:
        for name in names:
            self.write(f"{directory}/{name}")


def ca_bundle() -> bytes:
    """This machine's default CA file (a real Mozilla bundle), else the repository's anchor copies."""
    cafile = ssl.get_default_verify_paths().cafile
    if cafile and os.path.isfile(cafile):
        return Path(cafile).read_bytes()
    return b"".join(p.read_bytes() for p in sorted((REPO / "rules" / "anchors").glob("*.pem")))


def distribution(image: Image, site: str, name: str, version: str, modules: int = 12, extra: dict | None = None) -> None:
    module = name.replace("-", "_")
    info = f"{site}/{module}-{version}.dist-info"
    image.write(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name}\n"
                                    f"Home-page: https://example.org/{name}\nLicense: MIT\nRequires-Python: >=3.7\n\n"
                                    + "A description paragraph. " * 20)
    image.write(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    image.write(f"{info}/INSTALLER", "pip\n")
    image.write(f"{info}/top_level.txt", module + "\n")
    image.write(f"{info}/RECORD", f"{module}/__init__.py,,\n")
    image.write(f"{site}/{module}/__init__.py", f'__version__ = "{version}"\n')
    image.many(f"{site}/{module}", (f"part_{i}.py" for i in range(modules)))
    for path, data in (extra or {}).items():
        image.write(f"{site}/{module}/{path}", data)


def make_image(root: str, image: Image | None = None) -> int:
    """Write the image (into `image`, a writer with Image's methods, else files under `root`); returns the number
    of files and links in it."""
    image = image or Image(root)
    bundle = ca_bundle()
    # -- identity and the OS trust store
    image.write("/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                                   'VERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n')
    image.write("/etc/debian_version", "12.11\n")
    image.write("/etc/ssl/certs/ca-certificates.crt", bundle)
    conf = []
    for i, block in enumerate(PEM_BLOCK.findall(bundle)):
        name = f"Root_CA_{i:03d}"
        image.write(f"/usr/share/ca-certificates/mozilla/{name}.crt", block)
        image.link(f"/etc/ssl/certs/{name}.pem", f"/usr/share/ca-certificates/mozilla/{name}.crt")
        der = base64.b64decode(b"".join(block.splitlines()[1:-1]))
        # c_rehash names by subject hash; a digest of the certificate stands in for it here
        image.link(f"/etc/ssl/certs/{hashlib.sha1(der).hexdigest()[:8]}.0", f"{name}.pem")
        conf.append(f"mozilla/{name}.crt")
    image.write("/etc/ca-certificates.conf", "\n".join(conf) + "\n")
    image.write(f"{ROOT_HOME}/.aws/config", "[default]\nregion = eu-west-3\n")
    # -- Python: Debian's packages, pip's, a user site and a virtualenv
    debian = "/usr/lib/python3/dist-packages"
    distribution(image, debian, "botocore", "1.29.90", 40, {"cacert.pem": bundle, "httpsession.py": "import certifi\n"})
    distribution(image, debian, "boto3", "1.26.27", 20)
    distribution(image, debian, "certifi", "2022.9.24", 2, {"core.py": 'def where():\n    return "/etc/ssl/certs/ca-certificates.crt"\n'})
    for i in range(300):
        distribution(image, debian, f"debian-package-{i:03d}", f"1.{i % 9}.0")
    local = "/usr/local/lib/python3.11/dist-packages"
    distribution(image, local, "botocore", "1.34.1", 40, {"cacert.pem": bundle, "httpsession.py": "import certifi\n"})
    distribution(image, local, "certifi", "2024.2.2", 2, {"cacert.pem": bundle})
    for i in range(60):
        distribution(image, local, f"pip-package-{i:02d}", f"2.{i % 5}.1")
    venv = f"{USER_HOMES}/alice/project/.venv"
    image.write(f"{venv}/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n")
    image.link(f"{venv}/bin/python", "/usr/bin/python3.11")
    for i in range(40):
        distribution(image, f"{venv}/lib/python3.11/site-packages", f"venv-package-{i:02d}", "0.1.0")
    distribution(image, f"{venv}/lib/python3.11/site-packages", "boto3", "1.34.1", 20)
    distribution(image, f"{USER_HOMES}/bob/.local/lib/python3.11/site-packages", "awscli", "1.32.1", 30)
    image.many(f"{USER_HOMES}/alice/.cache/pip/http", (f"{i:04x}" for i in range(3000)))
    # -- OpenSSL and other shared libraries
    arch = "/usr/lib/x86_64-linux-gnu"
    for name in ("libssl.so.3", "libcrypto.so.3"):
        image.write(f"{arch}/{name}", b"\x7fELF\x02\x01\x01" + b"\x00" * 2048 + OPENSSL_TEXT + b"\x00" * 2048)
    for i in range(1500):
        image.write(f"{arch}/liblib{i:04d}.so.1.0.0")
        image.link(f"{arch}/liblib{i:04d}.so.1", f"liblib{i:04d}.so.1.0.0")
    image.many("/usr/bin", (f"tool-{i:04d}" for i in range(1200)))
    image.link("/usr/bin/python3.11", "python3")
    # -- a JDK (Debian's layout: its cacerts links to /etc/ssl/certs/java/cacerts)
    jdk = "/usr/lib/jvm/java-17-openjdk-amd64"
    image.write(f"{jdk}/release", 'IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.15"\n')
    image.write(f"{jdk}/bin/java", b"\x7fELF")
    image.link("/usr/lib/jvm/java-1.17.0-openjdk-amd64", "java-17-openjdk-amd64")
    image.link("/etc/alternatives/java", f"{jdk}/bin/java")
    image.link("/usr/bin/java", "/etc/alternatives/java")
    for module in range(70):
        image.many(f"{jdk}/legal/java.module{module:02d}", ("LICENSE", "ASSEMBLY_EXCEPTION", "ADDITIONAL_LICENSE_INFO"))
    image.many(f"{jdk}/lib", (f"libjava{i:03d}.so" for i in range(80)))
    image.many(f"{jdk}/include", (f"jni_{i:03d}.h" for i in range(40)))
    keystore = java_cacerts()
    if keystore:
        image.write("/etc/ssl/certs/java/cacerts", Path(keystore).read_bytes())
        image.link(f"{jdk}/lib/security/cacerts", "/etc/ssl/certs/java/cacerts")
    # -- bulk a real image carries
    for i in range(2500):
        image.many(f"/usr/share/doc/package-{i:04d}", ("copyright", "changelog.Debian.gz", "README.Debian"))
    for locale in range(200):
        image.many(f"/usr/share/locale/l{locale:03d}/LC_MESSAGES", (f"domain{i:02d}.mo" for i in range(60)))
    for section in range(1, 9):
        image.many(f"/usr/share/man/man{section}", (f"page{i:04d}.{section}.gz" for i in range(900)))
    for area in range(60):
        image.many(f"/usr/share/zoneinfo/Area{area:02d}", (f"City{i:02d}" for i in range(30)))
    for directory in range(100):
        image.many(f"/usr/include/lib{directory:03d}", (f"header{i:02d}.h" for i in range(40)))
    stdlib = "/usr/lib/python3.11"
    for package in range(200):
        image.many(f"{stdlib}/pkg{package:03d}", (f"mod{i:02d}.py" for i in range(20)))
        image.many(f"{stdlib}/pkg{package:03d}/__pycache__", (f"mod{i:02d}.cpython-311.pyc" for i in range(20)))
    for theme in ("hicolor", "Adwaita"):
        for size in ("16x16", "22x22", "24x24", "32x32", "48x48", "64x64", "128x128", "256x256"):
            image.many(f"/usr/share/icons/{theme}/{size}/apps", (f"app{i:04d}.png" for i in range(900)))
    for module in range(200):
        image.many(f"/usr/share/perl5/Module{module:02d}", (f"Part{i:02d}.pm" for i in range(60)))
    image.many(f"{stdlib}/lib-dynload", (f"_ext{i:02d}.cpython-311-x86_64-linux-gnu.so" for i in range(80)))
    image.many("/var/lib/dpkg/info", (f"package-{i:04d}.{kind}" for i in range(2500) for kind in ("list", "md5sums", "postinst")))
    # -- an application with its node_modules
    app = "/srv/app"
    packages = [f"module-{i:04d}" for i in range(5000)]
    image.write(f"{app}/package.json", json.dumps({"name": "app", "version": "1.0.0", "dependencies": {
        "aws-sdk": "^2.1500.0", **{p: "^1.0.0" for p in packages[:40]}}}, indent=2))
    image.write(f"{app}/package-lock.json", json.dumps({"name": "app", "lockfileVersion": 3, "packages": {
        f"node_modules/{p}": {"version": v, "resolved": f"https://registry.npmjs.org/{p}/-/{p}-{v}.tgz"}
        for p, v in [("aws-sdk", "2.1500.0"), *((p, "1.0.0") for p in packages)]}}, indent=1))
    image.many(f"{app}/src", (f"handler{i:02d}.js" for i in range(60)))
    for package in ["aws-sdk", *packages]:
        folder = f"{app}/node_modules/{package}"
        image.write(f"{folder}/package.json", json.dumps({"name": package, "version": "1.0.0"}))
        image.many(folder, ("README.md", "LICENSE", "index.js", "index.d.ts", "CHANGELOG.md"))
        image.many(f"{folder}/lib", (f"part{i}.js" for i in range(12)))
        image.many(f"{folder}/dist", (f"bundle{i}.js" for i in range(4)))
    return image.files


def in_process_scan(root: str, runs: int) -> float:
    """The scan without interpreter start-up (imports warm after the first run)."""
    from auditor.cli.main import main as auditor_main

    best = float("inf")
    for _ in range(runs + 1):
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()):
            auditor_main(["scan", "--root", root, "--format", "json", "-q"])
        best = min(best, time.perf_counter() - start)
    return best


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as root:
        started = time.perf_counter()
        files = make_image(root)
        made = time.perf_counter() - started
        walk = best_of([PYTHON, "-c", WALK, root], runs, ok_codes=(0,))
        scan = best_of([*AUDITOR, "scan", "--root", root, "--format", "json", "-q"], runs)
        ratio = report(f"auditor scan --root of an image of {files:,} files", scan,
                       "os.scandir walk of the same tree", walk, "<= 1.5x")
        inside = in_process_scan(root, runs)
        print(f"  in process the scan takes {inside * 1000:.1f} ms; start-up and imports {(scan - inside) * 1000:.1f} ms; "
              f"target {'met' if ratio <= 1.5 else 'NOT met'} (image written in {made:.1f} s"
              f"{'' if java_cacerts() else '; no JDK cacerts on this machine, so the image has none'})")


if __name__ == "__main__":
    sys.exit(main())
