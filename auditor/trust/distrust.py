"""The machine's distrust lists, as the ATS anchors they name.

Debian and Ubuntu: a `!` line in /etc/ca-certificates.conf deselects a certificate
from /usr/share/ca-certificates; update-ca-certificates then drops it from the OS
bundle, the hashed directory and (through ca-certificates-java) Java's cacerts.
RHEL, Fedora, Amazon Linux and Arch: certificates placed in a p11-kit blocklist
folder are distrusted by update-ca-trust / trust extract. A bundle not yet
regenerated may still hold a distrusted anchor; it must not count.
"""

from __future__ import annotations

import os

from auditor.records import field, mutable_record
from auditor.trust.anchors import Anchor, check_store
from auditor.trust.formats.pem import certificates_in_file
from auditor.fs import FsError, View
from auditor.model import ScanError

CA_CERTIFICATES_CONF = "/etc/ca-certificates.conf"
SHARE = "/usr/share/ca-certificates"
BLOCKLISTS = ("/etc/pki/ca-trust/source/blocklist", "/etc/pki/ca-trust/source/blacklist",
              "/usr/share/pki/ca-trust-source/blocklist", "/usr/share/pki/ca-trust-source/blacklist",
              "/etc/ca-certificates/trust-source/blocklist", "/etc/ca-certificates/trust-source/blacklist")
READ_CAP = 16 * 1024 * 1024
MAX_BLOCKLIST_FILES = 10_000


OS_MANAGED_PREFIXES = ("/etc/ssl/", "/etc/pki/", "/usr/share/ca-certificates/", "/etc/ca-certificates/",
                       "/usr/share/pki/", "/System/Library/", "/usr/local/share/ca-certificates/")


def os_managed(path: str) -> bool:
    """Whether the OS's distrust lists govern this store (displayed path)."""
    return path.startswith(OS_MANAGED_PREFIXES) or path.rstrip("/") == "/etc/ssl/certs"


@mutable_record
class Distrust:
    """The anchors this machine distrusts, each with where it says so."""

    anchors: dict[str, str] = field(default_factory=dict)  # anchor name -> where it is distrusted
    errors: list[ScanError] = field(default_factory=list)


def read_distrust(view: View, anchors: list[Anchor]) -> Distrust:
    found = Distrust()
    _ca_certificates_conf(view, anchors, found)
    for folder in BLOCKLISTS:
        _blocklist(view, view.locate(view.top, folder), anchors, found)
    return found


def _ca_certificates_conf(view: View, anchors: list[Anchor], found: Distrust) -> None:
    conf = view.locate(view.top, CA_CERTIFICATES_CONF)
    data = view.read_if_present(conf, READ_CAP, found.errors)
    if data is None:
        return
    text = data.decode("utf-8", "replace")
    by_file = {a.debian_file: a for a in anchors if a.debian_file}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("!"):
            continue
        name = line[1:].strip()
        where = f"{view.display(conf)}:{number} (!{name})"
        if name in by_file:
            found.anchors.setdefault(by_file[name].name, where)
            continue
        # A renamed copy still counts: compare what the named file holds.
        _mark(view, view.locate(view.top, os.path.join(SHARE, name)), anchors, found, where)


def _blocklist(view: View, folder: str, anchors: list[Anchor], found: Distrust) -> None:
    if not view.is_dir(folder):
        return
    try:
        entries = view.list_dir(folder)[:MAX_BLOCKLIST_FILES]
    except FsError as exc:
        found.errors.append(ScanError(view.display(folder), f"cannot list: {exc}"))
        return
    for entry in entries:
        path = os.path.join(folder, entry.name)
        _mark(view, path, anchors, found, f"p11-kit blocklist {view.display(path)}")


def _mark(view: View, path: str, anchors: list[Anchor], found: Distrust, where: str) -> None:
    if not view.is_file(path):
        return
    try:
        _, certificates, _ = certificates_in_file(view.read_bytes(path, READ_CAP))
    except FsError as exc:
        found.errors.append(ScanError(view.display(path), f"cannot read: {exc}"))
        return
    named = check_store(certificates, anchors, "0000-00-00")
    for name in named.anchors + named.expired:
        found.anchors.setdefault(name, where)
