"""Archives read in memory: Lambda deployment packages and layers, wheels, wheelhouses, zipped eggs, archives in
archives. Each archive is built here from the fixtures' real files, laid out as `pip install -t build ... &&
cd build && zip -r ../fn.zip .` (or a wheel builder, or easy_install) lays them out; the broken ones are written
field by field. Every scan runs through the CLI, and none may leave a file behind."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import pytest
from cryptography import x509

from auditor.collect.python.archives import MAX_DEPTH, archive_format
from auditor.collect.python.ziparchive import MAX_ENTRIES, MAX_RATIO, ArchiveError, ZipArchive, entry_bound
from conftest import ENVS, by_name, findings_for, packages, run, scan_json
from test_truststore import pem, self_signed

OLD_BOTOCORE = ENVS / "py3-old-botocore/lib/python3.11/site-packages"  # botocore 0.21.0, awscli 1.2.1, requests 2.0.0
MODERN = ENVS / "trust/botocore-1.35.0/site-packages"  # botocore 1.35.0 and certifi 2024.8.30
VENDORED_REQUESTS = ENVS / "trust/botocore-0.23.0/site-packages"  # botocore 0.23.0 with requests' cacert.pem vendored
VENV = ENVS / "py3-venv/lib/python3.11/site-packages"  # boto 2.49.0, boto3 and botocore 1.44.8, certifi 2026.10.19
DUPLICATES = ENVS / "duplicate-installs/lib/python2.7/site-packages"  # boto-2.9.0.dist-info as pip 20.3.4 wrote it
BOTO_2_9_0 = ENVS / "no-metadata/lib/python2.7/site-packages"  # boto 2.9.0's package, its cacerts.txt included
EGG = ENVS / "py27-easy-install/lib/python2.7/site-packages/boto-2.9.0-py2.7.egg"  # as easy_install zipped it
HANDLER = b"import boto3\n\n\ndef handler(event, context):\n    return boto3.client('dynamodb').list_tables()\n"
GIB = 1 << 30


# -- archives as the tools lay them out ----------------------------------------------------------------------

def tree(root: Path, *names: str) -> dict[str, bytes]:
    """The files of `names` (folders or files) below a fixture's site-packages, by their path below it."""
    files = {}
    for name in names:
        path = root / name
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[file.relative_to(root).as_posix()] = file.read_bytes()
    return files


def zip_r(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """What `cd build && zip -r ../fn.zip .` writes: an entry for each folder before the files below it."""
    import io

    buffer, written = io.BytesIO(), set()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name in sorted(files):
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth]) + "/"
                if folder not in written:
                    written.add(folder)
                    archive.writestr(zipfile.ZipInfo(folder), b"")
            archive.writestr(name, files[name])
    return buffer.getvalue()


def wheel(files: dict[str, bytes]) -> bytes:
    """A wheel as a wheel builder writes it: the package, its .dist-info (METADATA, WHEEL) and a RECORD of
    every file's urlsafe-base64 SHA-256 and size, itself listed last without one."""
    import io

    dist_info = next(name.split("/")[0] for name in files if name.endswith(".dist-info/METADATA"))
    record = ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record += f"{name},sha256={digest},{len(data)}\n"
            archive.writestr(name, data)
        archive.writestr(f"{dist_info}/RECORD", record + f"{dist_info}/RECORD,,\n")
    return buffer.getvalue()


def boto_2_9_0_wheel() -> bytes:
    """boto 2.9.0 as the wheel pip 20.3.4 built from its sdist (its dist-info as pip installed it)."""
    metadata = {f"boto-2.9.0.dist-info/{n}": (DUPLICATES / "boto-2.9.0.dist-info" / n).read_bytes()
                for n in ("METADATA", "WHEEL", "top_level.txt")}
    return wheel({**tree(BOTO_2_9_0, "boto"), **metadata})


def files_below(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def scan_archive(tmp_path, monkeypatch, target: Path, *args) -> dict:
    """scan_json of `target`, checking that nothing was written: not beside it, not in the temporary folder."""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = files_below(tmp_path)
    report = scan_json(target, *args)
    assert files_below(tmp_path) == before, "the scan wrote files"
    return report


def store(report: dict, location: str) -> dict:
    (found,) = [c for c in report["components"] if c["kind"] == "trust-store" and c["location"] == location]
    return found


def rules_of(report: dict, component: dict) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in findings_for(report, component)}


def errors_at(report: dict, location: str) -> list[str]:
    return [e["message"] for e in report["errors"] if e["location"] == location]


def no_anchor_bundle() -> bytes:
    """A CA bundle of two corporate roots and no ATS anchor."""
    return b"".join(pem(self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"Corp Root {i}")])))
                    for i in (1, 2))


# -- Lambda deployment packages -------------------------------------------------------------------------------

def test_pip_target_lambda_zip_flags_pre_cutoff_sdks_at_their_archive_locations(tmp_path, monkeypatch):
    build = tree(OLD_BOTOCORE, "botocore", "botocore-0.21.0.dist-info", "awscli", "awscli-1.2.1.dist-info",
                 "requests", "requests-2.0.0.dist-info", "six-1.17.0.dist-info")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "fn.zip").write_bytes(zip_r({**build, "lambda_function.py": HANDLER}))
    report = scan_archive(tmp_path, monkeypatch, tmp_path)
    zip_shown = f"{tmp_path}/dist/fn.zip"
    assert {"kind": "archive", "location": zip_shown, "details": {"format": "zip"}} in report["targets"]
    found = by_name(report)
    (botocore,), (awscli,) = found["botocore"], found["awscli"]
    assert (botocore["version"], botocore["location"]) == ("0.21.0", f"{zip_shown}!/botocore-0.21.0.dist-info/METADATA")
    assert (awscli["version"], awscli["location"]) == ("1.2.1", f"{zip_shown}!/awscli-1.2.1.dist-info/METADATA")
    assert botocore["details"]["path_entry"] == zip_shown
    for component in (botocore, awscli):
        assert rules_of(report, component) == {"ats-python-sdk-before-cutoff": "high"}
    # botocore 0.21.0 ships no bundle: it uses the requests beside it, whose bundle holds two anchors
    bundle = store(report, f"{zip_shown}!/requests/cacert.pem")
    assert bundle["details"]["anchors"] == ["Starfield Class 2 Certification Authority",
                                            "Starfield Services Root Certificate Authority - G2"]
    assert botocore["details"]["trust_store_id"] == bundle["id"]
    assert bundle["details"]["users"] == [f"awscli 1.2.1 in {zip_shown}", f"botocore 0.21.0 in {zip_shown}"]
    assert botocore["details"]["trust_reasons"][-1].startswith("as packaged: the runtime environment may override it")
    assert rules_of(report, bundle) == {"ats-store-trusted": "info"}
    assert report["errors"] == []


def test_modern_botocore_uses_certifi_from_the_same_archive_and_falls_back_to_its_own(tmp_path, monkeypatch):
    fn = tmp_path / "fn.zip"
    fn.write_bytes(zip_r({**tree(MODERN, "botocore", "botocore-1.35.0.dist-info", "certifi", "certifi-2024.8.30.dist-info"),
                          "app.py": HANDLER}))
    report = scan_archive(tmp_path, monkeypatch, fn)
    (botocore,) = by_name(report)["botocore"]
    certifi = store(report, f"{fn}!/certifi/cacert.pem")
    assert botocore["details"]["trust_store_id"] == certifi["id"]
    assert botocore["details"]["trust_reasons"][:3] == [
        f"botocore at {fn}!/botocore ships cacert.pem (1.11.0 and later)",
        f"{fn}!/botocore/httpsession.py prefers certifi, and certifi is importable",
        f"certifi at {fn}!/certifi returns its cacert.pem"]
    assert len(certifi["details"]["anchors"]) == 3 and certifi["details"]["remedy"] == "certifi"
    own = store(report, f"{fn}!/botocore/cacert.pem")
    assert own["details"]["fallback_for"] == [f"botocore 1.35.0 in {fn} (if certifi were not importable)"]
    assert [f for f in report["findings"] if f["severity"] not in ("info",)] == []


def test_a_client_whose_bundle_the_archive_lacks_is_told_the_store_does_not_exist(tmp_path, monkeypatch):
    """certifi packaged without its cacert.pem (found by the property test of any archive, which crashed on it)."""
    files = tree(MODERN, "botocore", "botocore-1.35.0.dist-info", "certifi", "certifi-2024.8.30.dist-info")
    del files["certifi/cacert.pem"]
    fn = tmp_path / "fn.zip"
    fn.write_bytes(zip_r(files))
    report = scan_archive(tmp_path, monkeypatch, fn)
    certifi = store(report, f"{fn}!/certifi/cacert.pem")
    assert certifi["details"]["problem"] == "does not exist" and "link_target" not in certifi["details"]


def test_a_packaged_bundle_without_anchors_is_critical_for_its_users(tmp_path, monkeypatch):
    build = tree(MODERN, "botocore", "botocore-1.35.0.dist-info")  # no certifi: botocore's own bundle is used
    build["botocore/cacert.pem"] = no_anchor_bundle()
    fn = tmp_path / "fn.zip"
    fn.write_bytes(zip_r(build))
    report = scan_archive(tmp_path, monkeypatch, fn)
    bundle = store(report, f"{fn}!/botocore/cacert.pem")
    assert (bundle["details"]["certificates"], bundle["details"]["anchors"]) == (2, [])
    assert bundle["details"]["remedy"] == "sdk-bundle"
    (finding,) = findings_for(report, bundle)
    assert (finding["rule"], finding["severity"]) == ("ats-store-without-anchor", "critical")
    assert f"used by: botocore 1.35.0 in {fn}" in [e["summary"] for e in finding["evidence"]]


def test_vendored_requests_bundle_of_botocore_0_23(tmp_path, monkeypatch):
    fn = tmp_path / "fn.zip"
    fn.write_bytes(zip_r(tree(VENDORED_REQUESTS, "botocore", "botocore-0.23.0.dist-info")))
    report = scan_archive(tmp_path, monkeypatch, fn)
    (botocore,) = by_name(report)["botocore"]
    bundle = store(report, f"{fn}!/botocore/vendored/requests/cacert.pem")
    assert botocore["details"]["trust_store_id"] == bundle["id"]
    assert botocore["details"]["trust_reasons"][0] == f"botocore at {fn}!/botocore vendors requests (0.23.0 to 1.10.x)"
    assert len(bundle["details"]["anchors"]) == 2


def test_boto3_without_botocore_in_the_archive_says_where_its_trust_comes_from(tmp_path, monkeypatch):
    fn = tmp_path / "fn.zip"
    fn.write_bytes(zip_r(tree(VENV, "boto3", "boto3-1.44.8.dist-info")))
    report = scan_archive(tmp_path, monkeypatch, fn)
    (boto3,) = by_name(report)["boto3"]
    assert "trust_store" not in boto3["details"]
    assert boto3["details"]["trust_reasons"][0].startswith("botocore is not in the archive beside it")
    assert not [c for c in report["components"] if c["kind"] == "trust-store"]


def test_a_vendored_copy_without_metadata_is_an_install_with_its_own_trust(tmp_path, monkeypatch):
    build = tree(MODERN, "certifi", "certifi-2024.8.30.dist-info")
    build.update({f"mylib/vendor/{name}": data for name, data in tree(OLD_BOTOCORE, "botocore", "requests").items()})
    build["mylib/__init__.py"] = b""
    fn = tmp_path / "fn.zip"
    fn.write_bytes(zip_r(build))
    report = scan_archive(tmp_path, monkeypatch, fn)
    (botocore,) = by_name(report)["botocore"]
    assert (botocore["version"], botocore["location"]) == ("0.21.0", f"{fn}!/mylib/vendor/botocore/__init__.py")
    assert botocore["source"] == "__version__ in botocore/__init__.py (no metadata)"
    assert rules_of(report, botocore) == {"ats-python-sdk-before-cutoff": "high"}
    # the requests vendored beside it, not anything at the top of the archive
    assert botocore["details"]["trust_store"] == f"{fn}!/mylib/vendor/requests/cacert.pem"


# -- Lambda layers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", ["python", "python/lib/python3.11/site-packages"])
def test_lambda_layer_layouts(tmp_path, monkeypatch, folder):
    build = tree(OLD_BOTOCORE, "botocore", "botocore-0.21.0.dist-info", "requests", "requests-2.0.0.dist-info")
    layer = tmp_path / "layer.zip"
    layer.write_bytes(zip_r({f"{folder}/{name}": data for name, data in build.items()}))
    report = scan_archive(tmp_path, monkeypatch, layer)
    (botocore,) = by_name(report)["botocore"]
    assert botocore["location"] == f"{layer}!/{folder}/botocore-0.21.0.dist-info/METADATA"
    assert botocore["details"]["path_entry"] == f"{layer}!/{folder}"
    assert rules_of(report, botocore) == {"ats-python-sdk-before-cutoff": "high"}
    assert botocore["details"]["trust_store"] == f"{layer}!/{folder}/requests/cacert.pem"


def test_a_layer_site_directory_shadows_the_layer_python_folder(tmp_path, monkeypatch):
    build = {f"python/{n}": d for n, d in tree(OLD_BOTOCORE, "botocore", "botocore-0.21.0.dist-info").items()}
    build.update({f"python/lib/python3.12/site-packages/{n}": d
                  for n, d in tree(MODERN, "botocore", "botocore-1.35.0.dist-info").items()})
    layer = tmp_path / "layer.zip"
    layer.write_bytes(zip_r(build))
    report = scan_archive(tmp_path, monkeypatch, layer)
    installs = {c["version"]: c for c in by_name(report)["botocore"]}
    assert installs["1.35.0"]["details"]["active"] is True
    assert installs["0.21.0"]["details"]["shadowed_by"] == installs["1.35.0"]["id"]
    assert rules_of(report, installs["0.21.0"]) == {"ats-python-sdk-before-cutoff": "medium"}


# -- wheels, wheelhouses, eggs, archives in archives -----------------------------------------------------------

def test_a_wheel_is_read_as_its_install_folder(tmp_path, monkeypatch):
    files = tree(VENV, "boto", *(f"boto-2.49.0.dist-info/{n}" for n in ("METADATA", "WHEEL", "top_level.txt")))
    whl = tmp_path / "boto-2.49.0-py2.py3-none-any.whl"
    whl.write_bytes(wheel(files))
    report = scan_archive(tmp_path, monkeypatch, whl)
    assert report["targets"] == [{"kind": "archive", "location": str(whl), "details": {"format": "wheel", "searched": ["the wheel archive's members"], "not_scanned": 0}}]
    (boto,) = by_name(report)["boto"]
    assert (boto["version"], boto["source"]) == ("2.49.0", "dist-info METADATA")
    assert not findings_for(report, boto)
    bundle = store(report, f"{whl}!/boto/cacerts/cacerts.txt")
    assert boto["details"]["trust_store_id"] == bundle["id"] and bundle["details"]["certificates"] == 131
    assert bundle["details"]["anchors"] == ["Amazon Root CA 1", "Starfield Class 2 Certification Authority",
                                            "Starfield Services Root Certificate Authority - G2"]


def test_a_wheelhouse_folder(tmp_path, monkeypatch):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    (house / "boto-2.9.0-py2-none-any.whl").write_bytes(boto_2_9_0_wheel())
    (house / "botocore-1.35.0-py3-none-any.whl").write_bytes(wheel(tree(MODERN, "botocore", "botocore-1.35.0.dist-info")))
    report = scan_archive(tmp_path, monkeypatch, house)
    assert sorted(t["location"] for t in report["targets"] if t["kind"] == "archive") == [
        f"{house}/boto-2.9.0-py2-none-any.whl", f"{house}/botocore-1.35.0-py3-none-any.whl"]
    (boto,) = by_name(report)["boto"]
    assert boto["location"] == f"{house}/boto-2.9.0-py2-none-any.whl!/boto-2.9.0.dist-info/METADATA"
    assert rules_of(report, boto) == {"ats-python-sdk-before-cutoff": "high"}
    (botocore,) = by_name(report)["botocore"]
    assert not findings_for(report, botocore)


def test_a_zipped_egg_named_on_the_command_line(tmp_path, monkeypatch):
    egg = tmp_path / EGG.name
    egg.write_bytes(EGG.read_bytes())
    report = scan_archive(tmp_path, monkeypatch, egg)
    assert report["targets"] == [{"kind": "archive", "location": str(egg), "details": {"format": "egg", "searched": ["the egg archive's members"], "not_scanned": 0}}]
    (boto,) = packages(report)
    assert (boto["name"], boto["version"], boto["location"], boto["source"]) == (
        "boto", "2.9.0", str(egg), "zipped egg EGG-INFO/PKG-INFO")
    assert rules_of(report, boto) == {"ats-python-sdk-before-cutoff": "high"}
    bundle = store(report, f"{egg}!/boto/cacerts/cacerts.txt")
    assert boto["details"]["trust_store_id"] == bundle["id"]
    assert bundle["details"]["anchors"] == ["Starfield Class 2 Certification Authority",
                                            "Starfield Services Root Certificate Authority - G2"]


def test_an_egg_is_read_for_its_distribution_and_the_other_packages_at_its_top(tmp_path, monkeypatch):
    with zipfile.ZipFile(EGG) as real:
        members = {info.filename: real.read(info) for info in real.infolist()}
    members["botocore/__init__.py"] = (OLD_BOTOCORE / "botocore/__init__.py").read_bytes()
    egg = tmp_path / EGG.name
    egg.write_bytes(zip_r(members))
    report = scan_archive(tmp_path, monkeypatch, egg)
    found = {c["name"]: (c["version"], c["location"], c["source"]) for c in packages(report)}
    assert found == {"boto": ("2.9.0", str(egg), "zipped egg EGG-INFO/PKG-INFO"),
                     "botocore": ("0.21.0", f"{egg}!/botocore/__init__.py", "__version__ in botocore/__init__.py (no metadata)")}


def test_a_store_outside_the_archive_is_named_not_read(tmp_path, monkeypatch):
    """Debian's certifi returns the OS bundle: a file of the machine the layer runs on, not of the archive."""
    debian = ENVS / "trust/debian-bookworm/usr/lib/python3/dist-packages"
    layer = tmp_path / "layer.zip"
    layer.write_bytes(zip_r({f"python/{n}": d for n, d in tree(debian, "botocore", "botocore-1.29.27.egg-info", "certifi",
                                                                "certifi-2022.9.24.egg-info").items()}))
    report = scan_archive(tmp_path, monkeypatch, layer)
    (botocore,) = by_name(report)["botocore"]
    assert (botocore["version"], botocore["source"]) == ("1.29.27", "egg-info PKG-INFO")
    assert "trust_store" not in botocore["details"]
    assert ("/etc/ssl/certs/ca-certificates.crt is a file of the system the code runs on, not of the archive: not checked"
            in botocore["details"]["trust_reasons"])
    assert [c["location"] for c in report["components"] if c["kind"] == "trust-store"] == [
        f"{layer}!/python/botocore/cacert.pem"]  # its fallback, without certifi


def test_an_archive_inside_an_archive(tmp_path, monkeypatch):
    bundle = tmp_path / "deploy.zip"
    bundle.write_bytes(zip_r({"wheels/boto-2.9.0-py2-none-any.whl": boto_2_9_0_wheel(), "README.txt": b"wheels\n"},
                             zipfile.ZIP_STORED))
    report = scan_archive(tmp_path, monkeypatch, bundle)
    (boto,) = by_name(report)["boto"]
    inner = f"{bundle}!/wheels/boto-2.9.0-py2-none-any.whl"
    assert boto["location"] == f"{inner}!/boto-2.9.0.dist-info/METADATA"
    assert boto["details"]["trust_store"] == f"{inner}!/boto/cacerts/cacerts.txt"
    assert rules_of(report, boto) == {"ats-python-sdk-before-cutoff": "high"}


def test_archives_nested_past_the_limit_are_an_error_entry(tmp_path, monkeypatch):
    data, name = boto_2_9_0_wheel(), "boto-2.9.0-py2-none-any.whl"
    for level in range(MAX_DEPTH + 1):
        data, name = zip_r({name: data}), f"level{level}.zip"
    outer = tmp_path / name
    outer.write_bytes(data)
    report = scan_archive(tmp_path, monkeypatch, outer)
    deepest = "!/".join([str(outer), *(f"level{i}.zip" for i in reversed(range(MAX_DEPTH))), "boto-2.9.0-py2-none-any.whl"])
    assert errors_at(report, deepest) == [f"an archive nested {MAX_DEPTH + 1} deep, past the {MAX_DEPTH}-level limit; not read"]
    assert packages(report) == []


# -- archives that cannot be read, or not whole ----------------------------------------------------------------

def raw_zip(members, declared_entries: int | None = None) -> bytes:
    """A zip written field by field, so an entry can declare any size and flags: members are
    (name, method, stored bytes, CRC-32, declared uncompressed size, flag bits). Over 65,535 entries, or when
    `declared_entries` is given, the end records say so through a Zip64 end record, as zip 3.0 writes them."""
    body, directory = bytearray(), bytearray()
    for name, method, data, crc, size, flags in members:
        offset, encoded = len(body), name.encode()
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        body += encoded + data
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(data), size,
                                 len(encoded), 0, 0, 0, 0, 0o644 << 16, offset) + encoded
    count = len(members) if declared_entries is None else declared_entries
    if count <= 0xFFFF and declared_entries is None:
        return bytes(body + directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0))
    record_at = len(body) + len(directory)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), len(body))
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, record_at, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(body + directory + record + locator + end)


def deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes (a multiple of 1 MiB), made in milliseconds: after a full flush
    the compressor starts afresh, so one compressed MiB repeated is a valid stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * (size // (1 << 20)) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def stored(name: str, data: bytes):
    return name, zipfile.ZIP_STORED, data, zlib.crc32(data), len(data), 0


def test_a_zip_bomb_member_is_refused_from_its_directory_entry(tmp_path, monkeypatch):
    """A CA bundle that declares 3 GiB, deflated to 3 MB: refused before a byte is inflated; the rest is read."""
    import tracemalloc

    build = tree(MODERN, "botocore/__init__.py", "botocore/httpsession.py", "botocore-1.35.0.dist-info/METADATA")
    bomb = deflated_zeros(3 * GIB)
    assert len(bomb) < 8 << 20
    fn = tmp_path / "fn.zip"
    fn.write_bytes(raw_zip([stored(n, d) for n, d in build.items()]
                           + [("botocore/cacert.pem", zipfile.ZIP_DEFLATED, bomb, 0, 3 * GIB, 0)]))
    tracemalloc.start()
    try:
        report = scan_archive(tmp_path, monkeypatch, fn)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20
    assert errors_at(report, f"{fn}!/botocore/cacert.pem") == [
        f"botocore/cacert.pem is {3 * GIB} bytes, over the {64 << 20}-byte limit"]
    (botocore,) = by_name(report)["botocore"]
    assert botocore["version"] == "1.35.0"
    bundle = store(report, f"{fn}!/botocore/cacert.pem")
    assert bundle["details"]["problem"].startswith("could not be read: botocore/cacert.pem is 3221225472 bytes")
    assert rules_of(report, bundle) == {"ats-store-without-anchor": "critical"}


def test_a_nested_archive_with_a_bomb_ratio_is_refused(tmp_path, monkeypatch):
    size = 64 << 20  # under the nested-archive cap, but 1000 times its compressed size
    fn = tmp_path / "fn.zip"
    fn.write_bytes(raw_zip([("vendor/data.zip", zipfile.ZIP_DEFLATED, deflated_zeros(size), zlib.crc32(bytes(size)), size, 0)]))
    report = scan_archive(tmp_path, monkeypatch, fn)
    (message,) = errors_at(report, f"{fn}!/vendor/data.zip")
    assert message.startswith(f"cannot read archive: vendor/data.zip declares {size} bytes from ")
    assert message.endswith(f"a ratio over the {MAX_RATIO}:1 limit (a zip bomb?); not read")


def test_truncated_and_corrupt_archives_are_error_entries_and_the_scan_goes_on(tmp_path, monkeypatch):
    whole = zip_r(tree(OLD_BOTOCORE, "botocore", "botocore-0.21.0.dist-info"))
    (tmp_path / "truncated.zip").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "notzip.whl").write_bytes(b"<html>404 Not Found</html>\n")
    flipped = bytearray(whole)
    metadata_at = flipped.index(b"botocore-0.21.0.dist-info/METADATA") + len("botocore-0.21.0.dist-info/METADATA")
    flipped[metadata_at + 40] ^= 0xFF  # inside METADATA's deflated data
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    (tmp_path / "fn.zip").write_bytes(whole)
    report = scan_archive(tmp_path, monkeypatch, tmp_path)
    assert errors_at(report, f"{tmp_path}/truncated.zip") == ["cannot read archive: File is not a zip file"]
    assert errors_at(report, f"{tmp_path}/notzip.whl") == ["cannot read archive: File is not a zip file"]
    (message,) = errors_at(report, f"{tmp_path}/flipped.zip!/botocore-0.21.0.dist-info/METADATA")
    assert "invalid" in message or "CRC" in message
    # the package directory beside the unreadable metadata is still an install; the intact archive is read whole
    assert sorted(c["location"] for c in by_name(report)["botocore"]) == [
        f"{tmp_path}/flipped.zip!/botocore/__init__.py", f"{tmp_path}/fn.zip!/botocore-0.21.0.dist-info/METADATA"]


def test_a_corrupt_archive_named_on_the_command_line_is_a_scan_failure(tmp_path):
    broken = tmp_path / "fn.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    result = run("scan", "--format", "json", "-q", broken)
    assert result.code == 2
    assert "fn.zip: cannot read archive: File is not a zip file" in result.err


def test_an_archive_over_the_cap_is_an_error_entry_not_a_silent_skip(tmp_path, monkeypatch):
    from auditor.collect.python.archives import ARCHIVE_CAP

    big = tmp_path / "fn.zip"
    with open(big, "wb") as handle:  # sparse: takes no disk
        handle.truncate(ARCHIVE_CAP + 1)
    (tmp_path / "requirements.txt").write_text("boto3==1.35.0\n")
    report = scan_archive(tmp_path, monkeypatch, tmp_path)
    assert errors_at(report, str(big)) == [
        f"cannot read archive: file is {ARCHIVE_CAP + 1} bytes, over the {ARCHIVE_CAP}-byte limit; not read"]


def test_too_many_entries_are_refused_before_they_are_parsed(tmp_path, monkeypatch):
    members = [stored(f"f/{i}", b"") for i in range(MAX_ENTRIES + 1)]
    fn = tmp_path / "fn.zip"
    fn.write_bytes(raw_zip(members))
    report = scan_archive(tmp_path, monkeypatch, tmp_path)
    assert errors_at(report, str(fn)) == [
        f"cannot read archive: its directory holds up to {MAX_ENTRIES + 1} entries, over the {MAX_ENTRIES}-entry limit; not read"]


def test_an_encrypted_member_is_an_error_entry(tmp_path, monkeypatch):
    build = tree(OLD_BOTOCORE, "botocore", "botocore-0.21.0.dist-info")
    members = [stored(n, d) for n, d in build.items() if not n.endswith("METADATA")]
    # as `zip -e` writes it: flag bit 0, a 12-byte ZipCrypto header before the data
    members.append(("botocore-0.21.0.dist-info/METADATA", zipfile.ZIP_STORED, os.urandom(12) + b"x" * 50, 0, 50, 1))
    fn = tmp_path / "fn.zip"
    fn.write_bytes(raw_zip(members))
    report = scan_archive(tmp_path, monkeypatch, fn)
    assert errors_at(report, f"{fn}!/botocore-0.21.0.dist-info/METADATA") == [
        "botocore-0.21.0.dist-info/METADATA is encrypted; not read"]
    (botocore,) = by_name(report)["botocore"]  # its package directory is still read
    assert botocore["location"] == f"{fn}!/botocore/__init__.py"


def test_an_unsupported_compression_method_is_an_error_entry(tmp_path, monkeypatch):
    init = (OLD_BOTOCORE / "botocore/__init__.py").read_bytes()
    fn = tmp_path / "fn.zip"
    fn.write_bytes(raw_zip([("botocore/__init__.py", 9, init, zlib.crc32(init), len(init), 0)]))  # Deflate64
    report = scan_archive(tmp_path, monkeypatch, fn)
    assert errors_at(report, f"{fn}!/botocore/__init__.py") == [
        "botocore/__init__.py uses compression method 9 (Deflate64), which this scanner cannot read"]


def test_member_names_with_dot_dot_are_not_placed_in_the_tree(tmp_path, monkeypatch):
    init = (OLD_BOTOCORE / "botocore/__init__.py").read_bytes()
    fn = tmp_path / "fn.zip"
    fn.write_bytes(raw_zip([stored("../botocore/__init__.py", init), stored("/abs/botocore/__init__.py", init)]))
    report = scan_archive(tmp_path, monkeypatch, fn)
    assert errors_at(report, f"{fn}!/../botocore/__init__.py") == [
        "1 member(s) with '..' in their names not read: an unpacker refuses or renames them"]
    # a leading slash is dropped, as unzip drops it
    assert [c["location"] for c in packages(report)] == [f"{fn}!/abs/botocore/__init__.py"]


# -- the reader itself ------------------------------------------------------------------------------------------

def test_archive_format_by_name():
    assert [archive_format(n) for n in ("fn.zip", "x-1.0-py3-none-any.whl", "b-2.9.0-py2.7.egg", "FN.ZIP", ".zip",
                                        "requirements.txt", "x.zip.sig")] == ["zip", "wheel", "egg", "zip", None, None, None]


def test_entry_bound_counts_the_directory_zipfile_reads():
    import io

    data = zip_r({f"pkg/m{i}.py": b"x" for i in range(50)})
    assert entry_bound(data) == len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 51
    # the end record may understate the count: zipfile reads the directory by its size, not its count
    lying = raw_zip([stored(f"m{i}", b"") for i in range(300)], declared_entries=1)
    assert entry_bound(lying) == len(zipfile.ZipFile(io.BytesIO(lying)).infolist()) == 300
    with pytest.raises(ArchiveError, match="up to 300 entries, over the 200-entry limit"):
        ZipArchive(lying, max_entries=200)
    assert entry_bound(b"not a zip") == entry_bound(b"") == 0


def test_a_member_that_inflates_past_its_declared_size_is_never_read_whole():
    archive = ZipArchive(raw_zip([("m", zipfile.ZIP_DEFLATED, deflated_zeros(64 << 20), 0, 1000, 0)]))
    with pytest.raises(ArchiveError, match="Bad CRC-32"):
        archive.read(archive.getinfo("m"), 4096)
    assert archive.budget.used == 0


def test_the_bytes_inflated_from_one_archive_are_capped():
    members = [stored(f"m{i}", bytes(1000)) for i in range(5)]
    archive = ZipArchive(raw_zip(members))
    archive.budget.cap = 2500
    assert [len(archive.read(archive.getinfo(f"m{i}"), 4096)) for i in range(2)] == [1000, 1000]
    with pytest.raises(ArchiveError, match="would take the bytes inflated from this archive past the 2500-byte limit"):
        archive.read(archive.getinfo("m2"), 4096)


# -- property tests: the reader and the collector on any bytes -------------------------------------------------

from hypothesis import example, given, settings, strategies as st  # noqa: E402

from auditor.collect.python.archives import collect_archive  # noqa: E402
from auditor.trust.packaged import packaged_trust  # noqa: E402
from auditor.collect.python.ziparchive import ArchiveView  # noqa: E402
from auditor.fs import View  # noqa: E402
from auditor.checks.rules import ReleaseDates  # noqa: E402
from fuzzing import EXAMPLES, fuzz  # noqa: E402
from test_fuzz_python import metadata_documents, module_sources, mutated  # noqa: E402

WATCHED = ReleaseDates.load().tracked()
LAMBDA_ZIP = zip_r(tree(OLD_BOTOCORE, "botocore", "botocore-0.21.0.dist-info/METADATA", "requests/__init__.py",
                        "requests/certs.py", "requests/cacert.pem"))
SMALL_WHEEL = wheel(tree(VENV, "boto3", "boto3-1.44.8.dist-info/METADATA", "boto3-1.44.8.dist-info/WHEEL"))
METHODS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
member_names = st.one_of(
    st.sampled_from(["botocore/__init__.py", "boto/__init__.py", "awscli/__init__.py", "python/boto3/__init__.py",
                     "python/lib/python3.12/site-packages/botocore/__init__.py", "botocore/cacert.pem",
                     "certifi/__init__.py", "certifi/cacert.pem", "boto/cacerts/cacerts.txt", "EGG-INFO/PKG-INFO",
                     "vendor/boto/__init__.py", "../botocore/__init__.py", "/botocore/__init__.py", "a\\botocore\\__init__.py",
                     "botocore/", "x.whl", "nested/y.zip", "z.egg", "botocore-0.21.0.egg-info", "..", "./.", "a//b"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"), min_size=1, max_size=30))


@st.composite
def archives(draw, depth: int = 0):
    """(zip bytes, {member: bytes} it holds, {dist-info METADATA path: (name, version)} it states), or a real
    archive mutated byte by byte (with nothing known of it)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(mutated(draw(st.sampled_from([EGG.read_bytes(), LAMBDA_ZIP, SMALL_WHEEL])))), None, None
    members, expected = {}, {}
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["metadata", "module", "bundle", "nested", "any"]))
        if kind == "metadata":
            (data, (name, version)) = draw(metadata_documents())
            stem = f"{name.replace('-', '_')}-{draw(st.sampled_from(['2.9.0', '0.21.0', '1.35.0']))}"
            path = f"{draw(st.sampled_from(['', 'python/', 'vendor/']))}{stem}.dist-info/METADATA"
            members[path] = data
            if names_of(stem) in WATCHED:
                expected[path] = (name, version)
        elif kind == "module":
            members[draw(member_names)] = draw(module_sources)
        elif kind == "bundle":
            members[draw(st.sampled_from(["botocore/cacert.pem", "certifi/cacert.pem", "boto/cacerts/cacerts.txt"]))] = \
                draw(st.sampled_from([ANCHOR_PEM, b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n"]))
        elif kind == "nested" and depth == 0:
            members[draw(st.sampled_from(["w.whl", "layer/x.zip", "e.egg"]))] = draw(archives(depth + 1))[0]
        else:
            members[draw(member_names)] = draw(st.binary(max_size=64))
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", draw(st.sampled_from(METHODS))) as archive:
        for name, data in members.items():
            archive.writestr(name, b"" if name.endswith("/") else data)
    return buffer.getvalue(), {n: d for n, d in members.items() if not n.endswith("/")}, expected


def names_of(stem: str) -> str:
    from auditor import names

    return names.normalize(names.split_dist_info(stem)[0])


ANCHOR_PEM = (Path(__file__).parent.parent / "rules/anchors/amazon-root-ca-1.pem").read_bytes()


@fuzz
@given(st.one_of(st.binary(max_size=3000), archives().map(lambda a: a[0])))
@example(b"PK\x05\x06" + b"\0" * 18)
@example(raw_zip([("m", zipfile.ZIP_DEFLATED, b"\xff" * 20, 0, 10, 0)]))
def test_the_reader_on_any_bytes_opens_or_refuses_and_reads_within_its_caps(data):
    try:
        archive = ZipArchive(data)
    except ArchiveError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    read = 0
    for info in archive.infos:
        try:
            member = archive.read(info, 4096)
        except ArchiveError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert len(member) <= min(4096, info.file_size)
        read += len(member)
    assert archive.budget.used == read
    view = ArchiveView(archive, "fn.zip", "fn.zip")
    for path in view.files():
        assert view.inside(path) and view.kind(path) in ("file", "other")
        assert view.display(path).startswith("fn.zip!/")


@fuzz
@given(archives().filter(lambda a: a[1] is not None))
def test_the_reader_returns_exactly_what_was_written(archive):
    data, members, _ = archive
    opened = ZipArchive(data)
    for name, content in members.items():
        assert opened.read(opened.getinfo(name), 1 << 20) == content


@fuzz
@given(archives())
def test_the_collector_on_any_archive_gives_components_inside_it_and_one_line_errors(archive):
    import json

    data, _, expected = archive
    with tempfile.TemporaryDirectory() as top:
        with open(os.path.join(top, "fn.zip"), "wb") as out:
            out.write(data)
        view = View(top, display_top=top)
        result = collect_archive(view, os.path.join(view.top, "fn.zip"), top, WATCHED, "2026-01-01", packaged_trust)
        assert os.listdir(top) == ["fn.zip"]
    shown = os.path.join(top, "fn.zip")
    for component in result.components:
        assert component.kind in ("python-package", "trust-store")
        assert component.location == shown or component.location.startswith(shown + "!/")
        json.dumps([component.name, component.version, component.details], ensure_ascii=False).encode("utf-8")
    for error in result.errors:
        assert error.location == shown or error.location.startswith(shown + "!/")
        assert error.message and "\n" not in error.message
    found = {c.location: c for c in result.components}
    for path, (name, version) in (expected or {}).items():
        from auditor import names

        component = found[f"{shown}!/{path}"]
        assert (component.name, component.version) == (names.normalize(name), version)


@settings(fuzz, max_examples=max(20, EXAMPLES // 4))  # a whole scan and report per example
@given(archives())
def test_auditor_scan_reports_any_archive(archive):
    with tempfile.TemporaryDirectory() as top:
        with open(os.path.join(top, "fn.zip"), "wb") as out:
            out.write(archive[0])
        result = run("scan", "--format", "json", "-q", top)
        assert result.code in (0, 1), result.err
        assert result.json  # valid against the published schema
