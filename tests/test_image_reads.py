"""What a scan of an OS image (--root) reads: the places that matter, each once, never the bulk of the tree."""

import hashlib
import os
import shutil
from collections import Counter

from auditor.trust.formats.pem import certificates_in_file
from auditor.rule_data import rules_dir
from conftest import ENVS, scan_json
from test_platform_root import shared_object

FILLER = ("usr/share/doc", "usr/include", "srv/app/node_modules")


def debian_image(root):
    """A Debian-like image: the OS bundle and its hashed directory (links as update-ca-certificates makes
    them), Debian's dist-packages, libssl/libcrypto among many other libraries, and bulk the scan must skip."""
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')
    mozilla, certs = root / "usr/share/ca-certificates/mozilla", root / "etc/ssl/certs"
    mozilla.mkdir(parents=True)
    certs.mkdir(parents=True)
    bundle = b""
    for anchor in sorted((rules_dir() / "anchors").glob("*.pem")):
        name = anchor.stem
        (mozilla / f"{name}.crt").write_bytes(anchor.read_bytes())
        os.symlink(f"/usr/share/ca-certificates/mozilla/{name}.crt", certs / f"{name}.pem")
        der = certificates_in_file(anchor.read_bytes())[1][0]
        os.symlink(f"{name}.pem", certs / f"{hashlib.sha1(der).hexdigest()[:8]}.0")
        bundle += anchor.read_bytes()
    (certs / "ca-certificates.crt").write_bytes(bundle)
    shutil.copytree(ENVS / "debian-dist-packages" / "usr" / "lib" / "python3", root / "usr" / "lib" / "python3")
    libraries = root / "usr/lib/x86_64-linux-gnu"
    shared_object(libraries / "libssl.so.3", b"OpenSSL 3.0.15 3 Sep 2024")
    shared_object(libraries / "libcrypto.so.3", b"OpenSSL 3.0.15 3 Sep 2024")
    for i in range(300):
        (libraries / f"libother{i}.so.1").touch()
    for filler in FILLER:
        for i in range(20):
            (root / filler / f"part{i}" / "lib").mkdir(parents=True)
            (root / filler / f"part{i}" / "lib" / "file.txt").touch()
    (root / "srv/app/package.json").write_text('{"name": "app", "dependencies": {"left-pad": "1.3.0"}}')


def _full_path(path, dir_fd=None):
    """The path a call names, where it names a descriptor or a name below one (as a View reads)."""
    if isinstance(path, int):
        return os.readlink(f"/proc/self/fd/{path}")
    if dir_fd is None:
        return os.fspath(path)
    return os.path.normpath(os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path))


def test_an_image_scan_reads_each_place_once_and_skips_the_bulk(tmp_path, monkeypatch):
    root = tmp_path / "image"
    debian_image(root)
    listed, opened = Counter(), Counter()
    scandir, open_ = os.scandir, os.open

    def counting_scandir(path="."):
        listed[_full_path(path)] += 1
        return scandir(path)

    def counting_open(path, flags, *args, dir_fd=None, **kwargs):
        if not flags & os.O_DIRECTORY:  # a file read, not a folder opened to read below it
            opened[_full_path(path, dir_fd)] += 1
        return open_(path, flags, *args, dir_fd=dir_fd, **kwargs)

    monkeypatch.setattr(os, "scandir", counting_scandir)
    monkeypatch.setattr(os, "open", counting_open)
    report = scan_json("--root", root)
    monkeypatch.undo()

    real = os.path.realpath(root)
    into_filler = [p for p in listed if any(p.startswith(os.path.join(real, f)) for f in FILLER)]
    assert not into_filler, f"the scan listed bulk folders: {sorted(into_filler)[:5]}"
    assert listed[os.path.join(real, "usr/lib/x86_64-linux-gnu")] == 1, "the library folder is listed once for all names"
    certificate_files = {p: n for p, n in opened.items() if p.startswith(os.path.join(real, "usr/share/ca-certificates"))}
    assert len(certificate_files) == 3 and set(certificate_files.values()) == {1}, certificate_files
    assert opened[os.path.join(real, "srv/app/package.json")] == 1, "the application's manifest is found and read once"
    assert [t["kind"] for t in report["targets"] if t["location"] == "/srv/app/package.json"] == ["lockfile"]
    libraries = sorted(c["location"] for c in report["components"] if c["kind"] == "openssl")
    assert libraries == ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3"]
    stores = {c["location"]: c["details"] for c in report["components"] if c["kind"] == "trust-store"}
    assert len(stores["/etc/ssl/certs"]["anchors"]) == 3
    assert [c["name"] for c in report["components"] if c["kind"] == "python-package"] == ["boto"]


def test_an_image_link_to_an_absolute_path_is_never_followed_on_the_host(tmp_path, monkeypatch):
    """`usr/lib64 -> /X/lib64`, where /X exists both inside the image and on the host: every look at the install
    location goes through the image's own /X, never through the host's (whose site-packages holds a canary)."""
    outside = tmp_path / "outside"
    root = tmp_path / "image"
    for top in (outside, root / str(outside).lstrip("/")):  # the same path on the host and inside the image
        (top / "lib64" / "python3.11" / "site-packages").mkdir(parents=True)
    canary = outside / "lib64" / "python3.11" / "site-packages" / "boto-2.9.0.dist-info"
    canary.mkdir()
    (canary / "METADATA").write_text("Metadata-Version: 1.1\nName: boto\nVersion: 2.9.0\n")
    (root / "usr").mkdir()
    os.symlink(f"{outside}/lib64", root / "usr" / "lib64")
    (root / "home" / "ops").mkdir(parents=True)
    os.symlink(f"{outside}/lib64", root / "home" / "ops" / "lib64")  # an application folder's link too

    touched = []
    calls = {name: getattr(os, name) for name in ("lstat", "stat", "readlink", "scandir", "open", "listdir")}

    def spy(name):
        def call(path, *args, **kwargs):
            text = _full_path(path, kwargs.get("dir_fd")) if not isinstance(path, bytes) else ""
            if text.startswith(str(outside)):
                touched.append((name, text))
            return calls[name](path, *args, **kwargs)
        return call

    for name in calls:
        monkeypatch.setattr(os, name, spy(name))
    report = scan_json("--root", root)
    monkeypatch.undo()
    assert not touched, f"host paths outside the image were used: {touched[:5]}"
    assert not [c for c in report["components"] if c["kind"] == "python-package"]  # the host's canary is not the image's
