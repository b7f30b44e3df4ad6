"""Fuzz targets of the trust-store and input parsers: PEM bundles, DER files, hashed certificate directories,
JKS/JCEKS and PKCS#12 keystores, the anchor check, the probe's certificate descriptions and addresses, waiver
files and saved reports.

Store files are written below one temporary directory (removed when the process exits) and read through a View
as a scan reads them. A target raises AssertionError on an outcome no input may have (an exception other than
the parser's documented one, a certificate that is not in the input, an error entry of more than one line);
any other exception propagates and is a finding as well. Importable without pytest: TARGETS maps a name to a
callable taking bytes; seeds() gives real inputs (keystores written by keytool, the shipped anchors) to start
from, so the fuzzer gets past the magic numbers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Optional

from auditor.trust.anchors import check_store, load_anchors
from auditor.trust.formats import read_store
from auditor.trust.formats.jks import Keystore, read_java_keystore
from auditor.trust.formats.pem import certificates_in_file, leading_sequence
from auditor.trust.formats.pkcs12 import read_pkcs12
from auditor.fs import View
from auditor.model import ScanError
from auditor.live_probe import chain
from auditor.runs.probe import parse_address
from auditor.report.saved import SavedReportError, load_report
from auditor.rule_data import rules_dir
from auditor.checks.waivers import WaiverError, load_waivers
from workdirs import workdir  # fuzz/workdirs.py: run.py puts fuzz/ on sys.path

REPOSITORY = Path(__file__).resolve().parent.parent
# The first byte of a keystore input picks the password it is read with.
PASSWORDS = (None, "changeit", "wrong", "", "\udcff", "change\0it")
# Files of a hashed directory: an input is split at this separator into their contents.
SEPARATOR = b"\n--8<--\n"
DIRECTORY_NAMES = ("ce5e74ef.0", "Amazon_Root_CA_1.pem", "corp.crt", "root.der", "5ad8a5d6.0")

_anchors: list = []




def write(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as file:
        file.write(data)
    return path


def anchors() -> list:
    if not _anchors:
        _anchors.extend(load_anchors())
    return _anchors


def check_errors(errors: list, top: str) -> None:
    for error in errors:
        assert isinstance(error, ScanError) and error.message and "\n" not in error.message, error
        assert error.location == top or error.location.startswith(top + os.sep), error


def check_keystore(store: Keystore, data: bytes, password: Optional[str]) -> None:
    assert store.integrity in ("verified", "failed", "not checked", "none (the store has no MAC)"), store.integrity
    assert all(isinstance(p, str) and p and "\n" not in p for p in store.problems), store.problems
    if password is None:
        assert store.integrity != "failed" or store.format == "pkcs12", store
    if store.format != "pkcs12":  # a Java keystore's certificates are bytes of the file, in file order
        position = 0
        for der in store.certificates:
            position = data.index(der, position) + len(der)


# -- targets -----------------------------------------------------------------------------------------------

def pem_bundle(data: bytes) -> None:
    form, certificates, problems = certificates_in_file(data)
    assert form in ("pem", "der") and (certificates or problems)
    for der in certificates:
        assert leading_sequence(der) == der, der
    directory = workdir("pem", empty=True)
    store = read_store(View(directory), write(directory, "ca-bundle.crt", data))
    assert store.format not in ("pem", "der") or store.certificates == certificates  # else read as a keystore
    check_errors(store.errors, directory)


def der_sequence(data: bytes) -> None:
    der = leading_sequence(data)
    assert der is None or (data.startswith(der) and len(der) >= 2), der


def certificate_directory(data: bytes) -> None:
    """Each part of the input is a file of a hashed directory; the first is linked under its hash name too."""
    directory = workdir("directory", empty=True)
    certs = os.path.join(directory, "certs")
    os.makedirs(certs)
    found = set()
    for name, part in zip(DIRECTORY_NAMES, data.split(SEPARATOR)):
        found.update(certificates_in_file(part)[1])
        write(certs, name, part)
    os.symlink(DIRECTORY_NAMES[1], os.path.join(certs, "ce5e74ef.1"))
    os.symlink("../../outside.pem", os.path.join(certs, "a1b2c3d4.0"))
    store = read_store(View(directory), certs)
    assert store.format == "directory" and len(set(store.certificates)) == len(store.certificates)
    assert set(store.certificates) <= found, "a certificate that is in none of the files"
    check_errors(store.errors, directory)


def _with_password(read) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        password, body = PASSWORDS[data[0] % len(PASSWORDS)] if data else None, data[1:]
        check_keystore(read(body, password), body, password)
    return target


def keystore_file(data: bytes) -> None:
    password, body = PASSWORDS[data[0] % len(PASSWORDS)] if data else None, data[1:]
    directory = workdir("keystore", empty=True)
    store = read_store(View(directory), write(directory, "cacerts", body), password)
    if store.keystore.get("integrity") == "failed":
        assert store.certificates == [] and store.errors
    check_errors(store.errors, directory)


def anchor_check(data: bytes) -> None:
    result = check_store([data], anchors(), "2026-11-28")
    found = result.anchors + result.expired + result.distrusted
    assert len(found) == len(set(found)) <= 1 and result.unparsable <= 1, result


def certificate_description(data: bytes) -> None:
    described = chain.describe(data)
    assert described["sha256"] == hashlib.sha256(data).hexdigest() and isinstance(described["name"], str)
    assert chain.anchor(data, "2026-11-28")["sha256"] == described["sha256"]
    assert all(isinstance(name, str) for name in chain.dns_names(data))
    verdict, detail = chain.why_unverified([data], [data])
    assert verdict in ("incomplete-chain", "untrusted-root") and detail
    assert all(isinstance(chain.validity_problem([data], expired), str) for expired in (True, False))


def address(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")  # as argv holds bytes that are not UTF-8
    try:
        host, port = parse_address(text)
    except ValueError as exc:
        assert repr(text) in str(exc), exc
        return
    assert host and host.isprintable() and (port is None or 0 < port < 65536), (host, port)


def waivers(data: bytes) -> None:
    directory = workdir("waivers", empty=True)
    path = write(directory, "pyproject.toml" if data.startswith((b"[tool", b"[project")) else "waivers.toml", data)
    try:
        loaded = load_waivers(path)
    except WaiverError as exc:
        assert str(exc).startswith(path), exc
        return
    for waiver in loaded:
        assert waiver.rule and waiver.reason and waiver.owner and (waiver.component or waiver.location), waiver
        assert 1 <= waiver.line <= data.count(b"\n") + 1, waiver


def saved_report(data: bytes) -> None:
    directory = workdir("report", empty=True)
    path = write(directory, "report.json", data)
    try:
        load_report(path)
    except SavedReportError as exc:
        assert str(exc).startswith(path), exc


TARGETS: dict[str, Callable[[bytes], None]] = {
    "pem-bundle": pem_bundle,
    "der-sequence": der_sequence,
    "certificate-directory": certificate_directory,
    "jks": _with_password(read_java_keystore),
    "pkcs12": _with_password(read_pkcs12),
    "keystore-file": keystore_file,
    "anchor-check": anchor_check,
    "certificate-description": certificate_description,
    "address": address,
    "waivers": waivers,
    "saved-report": saved_report,
}


# -- seeds -------------------------------------------------------------------------------------------------

def _files(folder: Path, pattern: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted(folder.glob(pattern))] if folder.is_dir() else []


def _report_of(store: Path) -> bytes:
    """A JSON report as `auditor truststore` writes it."""
    from auditor.cli.main import main

    path = os.path.join(workdir("seed", empty=True), "report.json")
    main(["truststore", str(store), "--format", "json", "-q", "-o", path])
    with open(path, "rb") as file:
        return file.read()


def seeds() -> dict[str, list[bytes]]:
    """Real inputs of each target, for the first corpus."""
    anchors_pem = _files(rules_dir() / "anchors", "*.pem")
    keystores = _files(REPOSITORY / "tests" / "fixtures" / "keystores", "*")  # written by keytool
    der = [certificates_in_file(pem)[1][0] for pem in anchors_pem]
    waiver_files = [b'[[waivers]]\nrule = "ats-*"\ncomponent = "botocore"\nlocation = "**/legacy/**"\n'
                    b'reason = "batch job retired in Q1"\nowner = "platform-team@example.com"\nexpires = 2026-12-31\n']
    return {
        "pem-bundle": anchors_pem + [b"".join(anchors_pem)],
        "der-sequence": der,
        "certificate-directory": [SEPARATOR.join(anchors_pem)],
        "jks": [bytes([1]) + k for k in keystores],
        "pkcs12": [bytes([1]) + k for k in keystores],
        "keystore-file": [bytes([1]) + k for k in keystores],
        "anchor-check": der,
        "certificate-description": der,
        "address": [b"dynamodb.eu-west-3.amazonaws.com:443", b"[::1]:8443", b"127.0.0.1"],
        "waivers": waiver_files + [b"[tool.auditor]\n" + waiver_files[0].replace(b"[[waivers]]",
                                                                                b"[[tool.auditor.waivers]]")],
        "saved-report": [_report_of(rules_dir() / "anchors")],
    }
