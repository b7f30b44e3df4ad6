"""The CAs of an OS store that are not the distribution's own, told apart by the distribution's own record.

Debian, Ubuntu (and Alpine, whose update-ca-certificates reads the same places): /etc/ca-certificates.conf
lists the certificates of /usr/share/ca-certificates that go into the bundle; the distribution's own are its
`mozilla/` entries, so a selected entry elsewhere was put there on this machine (or by another package).
Every `*.crt` below /usr/local/share/ca-certificates is added as well (update-ca-certificates finds them with
`find -L … -type f -name '*.crt'`). A certificate in the bundle that none of those files holds was added to the
bundle by hand: it is counted too, once the distribution's own files could be read.
RHEL, Fedora, CentOS, Amazon Linux: the distribution's set is /usr/share/pki/ca-trust-source/ca-bundle.trust.p11-kit;
update-ca-trust adds every file of /etc/pki/ca-trust/source/anchors and /usr/share/pki/ca-trust-source/anchors.

A JDK's cacerts carries no record of the set its vendor shipped (OpenJDK's aliases end in " [jdk]", Debian's
ca-certificates-java writes "debian:…", other vendors their own): which of its entries were added cannot be told
from the file, so a JDK store gets no list; the proxy check asks only whether it holds the OS's local CAs.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from typing import Callable

from auditor.facts.trust_store import LocalCa
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record
from auditor.trust.distrust import CA_CERTIFICATES_CONF, SHARE
from auditor.trust.formats.pem import certificates_in_file

LOCAL_DEBIAN = "/usr/local/share/ca-certificates"
RHEL_ANCHORS = ("/etc/pki/ca-trust/source/anchors", "/usr/share/pki/ca-trust-source/anchors")
RHEL_DISTRIBUTION = "/usr/share/pki/ca-trust-source/ca-bundle.trust.p11-kit"
DISTRIBUTION_FOLDER = "mozilla/"  # the entries of /etc/ca-certificates.conf that the ca-certificates package ships
FILE_CAP = 4 * 1024 * 1024
MAX_FILES = 2_000
MAX_DEPTH = 8
BY_HAND = ("in the bundle only: no file that /etc/ca-certificates.conf selects and none in "
           "/usr/local/share/ca-certificates holds it (added to the bundle by hand, or by a tool other than "
           "update-ca-certificates; the next update-ca-certificates run drops it)")


@mutable_record
class LocalCas:
    """The locally added CAs the record names (each once, in the order met), and the fingerprints of the
    distribution's own set where it could be read (None: not read, so a bundle's other CAs cannot be judged)."""

    cas: list[LocalCa] = field(default_factory=list)
    distribution: frozenset[str] | None = None
    debian: bool = False  # /etc/ca-certificates.conf is there: the Debian bundle is update-ca-certificates' output
    errors: list[ScanError] = field(default_factory=list)

    def add(self, ca: LocalCa) -> None:
        if all(known.sha256 != ca.sha256 for known in self.cas):
            self.cas.append(ca)


def read_local_cas(view: View) -> LocalCas:
    found = LocalCas()
    _debian(view, found)
    for folder in RHEL_ANCHORS:
        for path in _files(view, view.locate(view.top, folder), found, lambda name: True):
            _add_file(view, path, view.display(path), found)
    return found


def locally_added(local: LocalCas, certificates: list[bytes], debian_bundle: bool) -> tuple[LocalCa, ...]:
    """The local CAs one OS store holds. For Debian's bundle, also the certificates that no recorded file holds,
    when the distribution's own set could be read."""
    present = {hashlib.sha256(der).hexdigest(): der for der in certificates}
    found = [ca for ca in local.cas if ca.sha256 in present]
    if debian_bundle and local.debian and local.distribution:
        known = local.distribution | {ca.sha256 for ca in local.cas}
        found += [_local_ca(der, BY_HAND) for sha256, der in present.items() if sha256 not in known]
    return tuple(found)


def _debian(view: View, found: LocalCas) -> None:
    conf = view.locate(view.top, CA_CERTIFICATES_CONF)
    data = view.read_if_present(conf, FILE_CAP, found.errors)
    if data is not None:
        found.debian = True
        distribution: set[str] = set()
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            name = line.strip()
            if not name or name.startswith(("#", "!")):
                continue
            path = view.locate(view.top, os.path.join(SHARE, name))
            if name.startswith(DISTRIBUTION_FOLDER):
                distribution.update(hashlib.sha256(der).hexdigest() for der in _certificates(view, path, found))
            else:
                _add_file(view, path, f"{view.display(path)} (selected by {CA_CERTIFICATES_CONF}:{number}; "
                                      f"not one of the distribution's {DISTRIBUTION_FOLDER} certificates)", found)
        found.distribution = frozenset(distribution) if distribution else None
    local = view.locate(view.top, LOCAL_DEBIAN)
    for path in _files(view, local, found, lambda name: name.endswith(".crt")):
        _add_file(view, path, view.display(path), found)


def _files(view: View, folder: str, found: LocalCas, wanted: Callable[[str], bool], depth: int = 0) -> list[str]:
    """The files below `folder` (links followed, as find -L does), sorted, bounded in depth and number."""
    if depth > MAX_DEPTH or not view.is_dir(folder):
        return []
    try:
        entries = view.list_dir(folder)
    except FsError as exc:
        found.errors.append(ScanError(view.display(folder), f"cannot list: {exc}"))
        return []
    files: list[str] = []
    for entry in entries:
        if len(files) >= MAX_FILES:
            found.errors.append(ScanError(view.display(folder), f"more than {MAX_FILES} files: the rest were not read"))
            break
        if view.is_dir(entry.path):
            files += _files(view, entry.path, found, wanted, depth + 1)
        elif wanted(entry.name) and view.is_file(entry.path):
            files.append(entry.path)
    return files


def _certificates(view: View, path: str, found: LocalCas) -> list[bytes]:
    if not view.is_file(path):
        return []
    try:
        _, certificates, problems = certificates_in_file(view.read_bytes(path, FILE_CAP))
    except FsError as exc:
        found.errors.append(ScanError(view.display(path), f"cannot read: {exc}"))
        return []
    found.errors.extend(ScanError(view.display(path), problem) for problem in problems)
    return certificates


def _add_file(view: View, path: str, source: str, found: LocalCas) -> None:
    for der in _certificates(view, path, found):
        found.add(_local_ca(der, source))


def _local_ca(der: bytes, source: str) -> LocalCa:
    from cryptography import x509

    sha256 = hashlib.sha256(der).hexdigest()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            certificate = x509.load_der_x509_certificate(der)
            subject = certificate.subject.rfc4514_string()
            not_after = certificate.not_valid_after_utc.strftime("%Y-%m-%d")
        except (ValueError, TypeError, x509.InvalidVersion):
            subject, not_after = "(a certificate that could not be parsed)", ""
    return LocalCa(subject, sha256, source, not_after)
