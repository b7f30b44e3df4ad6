"""The operating system of a machine or an image, from the files each system really has, and its place in
the platform matrix (rules/os-matrix.toml).

The files are read through a View, in this order; the first that names the system wins:

1. ``/etc/os-release``, else ``/usr/lib/os-release`` (os-release(5), every current Linux): shell-style
   ``KEY=value`` lines, values optionally quoted. ``ID`` is a lower-case name (``ubuntu``, ``debian``,
   ``rhel``, ``centos``, ``amzn``, ``alpine``, ``sles``, ``fedora``; "linux" when absent) and ``VERSION_ID``
   its version. Where the distribution's own file is more precise (CentOS says ``7`` here and
   "CentOS Linux release 7.9.2009 (Core)" in /etc/centos-release; Debian ``12`` here and ``12.15`` in
   /etc/debian_version), that version is taken, and the file is named in ``OsFacts.version_from``.
2. ``/etc/lsb-release`` with ``DISTRIB_ID`` and ``DISTRIB_RELEASE`` (same syntax): Ubuntu before 12.04 has
   no os-release ("DISTRIB_ID=Ubuntu", "DISTRIB_RELEASE=8.10"). Elsewhere the file, when present, holds only
   ``LSB_VERSION`` and is passed over.
3. The one-line release files of the Red Hat family, ``/etc/centos-release``, ``/etc/redhat-release``,
   ``/etc/system-release``: "<name> release <version> (<codename>)". The name decides, not the file:
   CentOS 5 has only /etc/redhat-release, reading "CentOS release 5.11 (Final)", and the Amazon Linux AMI
   only /etc/system-release, "Amazon Linux AMI release 2013.09".
4. ``/etc/debian_version``: the point release on Debian ("5.0.10"); a codename on testing, unstable and
   Ubuntu ("lenny/sid"), which names no version.
5. macOS ``/System/Library/CoreServices/SystemVersion.plist``, an XML or binary property list (plistlib
   reads both): ``ProductName`` ("Mac OS X", "macOS") and ``ProductVersion`` ("10.4.11").

Windows has none of these files: :func:`running_windows_identity` asks the running interpreter.

Every file is read with a small size cap; a file that cannot be used (a FIFO, not UTF-8, too large, a link
that leaves the target) is an error entry, and the next source is tried.

Why not the ``distro`` package (1.9.0, checked against these fixtures): its ``root_dir`` mode opens
``<root>/etc/os-release`` with the host's ``open()``, so an absolute or ``../..`` symlink in the image is
followed on the scanning host, and an image whose /etc/os-release is an absolute link (Arch's layout) is
reported as the host's system (upstream's fix, pull request #328, is not in a release). It reads
/etc/debian_version without checking the file type (a FIFO there hangs it), has no size cap, and raises
UnicodeDecodeError on a non-UTF-8 file. On old systems it is wrong where this audit matters most: in
``root_dir`` mode it reads neither /etc/lsb-release (only the ``lsb_release`` command, which that mode
disables) nor /etc/system-release nor a lone /etc/debian_version, so Ubuntu 8.10, Debian 5 and the Amazon
Linux AMI 2013.09 come out unidentified, and it takes the ID from the file name, so CentOS 5's
/etc/redhat-release makes it "rhel". It has no macOS support. The reader below is about as long as the
workarounds would be.
"""

from __future__ import annotations

import platform
import plistlib
import re
import shlex
import sys
import xml.parsers.expat
from typing import Callable, TypeVar

from auditor import records
from auditor.collect import Collected
from auditor.facts.operating_system import OsFacts
from auditor.fs import FsError, View
from auditor.model import Component, ScanError

CAP = 64 * 1024  # these files are a few hundred bytes
OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
LSB_RELEASE = "/etc/lsb-release"
RELEASE_FILES = ("/etc/centos-release", "/etc/redhat-release", "/etc/system-release")
DEBIAN_VERSION = "/etc/debian_version"
MACOS_VERSION = "/System/Library/CoreServices/SystemVersion.plist"
# The distribution's own file, when it names a more precise version than os-release's VERSION_ID.
PRECISE_VERSION = {"centos": "/etc/centos-release", "rhel": "/etc/redhat-release", "amzn": "/etc/system-release",
                   "debian": DEBIAN_VERSION}
# The names in the one-line release files, as os-release IDs; another name becomes a lower-case slug.
RELEASE_NAMES = (("CentOS", "centos"), ("Red Hat Enterprise Linux", "rhel"), ("Amazon Linux", "amzn"),
                 ("Fedora", "fedora"))
WINDOWS_PRODUCT_TYPES = {1: "workstation", 2: "domain controller", 3: "server"}
# " release <version> (<codename>)" after the name. The look-behind starts a try only where a run of spaces
# starts: a long run without the word is scanned once, not once per space (a quadratic regex on a 64 KiB line).
_RELEASE_WORD = re.compile(r"(?<!\s)\s+release\s+(?P<version>\d[\w.\-]*)(?:\s*\((?P<codename>[^)]*)\))?")
_NUMERIC_VERSION = re.compile(r"^\d+(?:\.\d+)*$")
# What plistlib raises on a broken file: besides its ValueError, the XML reader lets AttributeError (a <date>
# that is no date), IndexError (a <key> outside a <dict>) and LookupError (encoding="bogus") out, the binary
# reader TypeError (an array as a key).
PLIST_ERRORS = (ValueError, TypeError, AttributeError, IndexError, LookupError, xml.parsers.expat.ExpatError,
                RecursionError)
T = TypeVar("T")


def read_os_identity(view: View, target: str) -> Collected:
    """The system `view` holds (this machine with View("/"), an image with View(root, image=True)): one
    component, none when no file names it; with the errors met on the way."""
    reader = _Reader(view, target)
    for source in (_os_release, _lsb_release, _release_file, _debian_version, _macos):
        component = source(reader)
        if component is not None:
            return Collected([component], reader.errors)
    return Collected(errors=reader.errors)


def running_windows_identity(target: str) -> Collected:
    """The Windows this interpreter runs on: platform.win32_ver() names the release ("XP", "7", "2008ServerR2")
    and service pack, sys.getwindowsversion() whether it is a workstation or a server. Nothing elsewhere, where
    win32_ver() returns empty strings."""
    component = _windows_identity(target)
    return Collected([component] if component else [])


def _windows_identity(target: str) -> Component | None:
    release, version, service_pack, _ = platform.win32_ver()
    if not version:
        return None
    service_pack = "" if service_pack == "SP0" else service_pack
    getwindowsversion = getattr(sys, "getwindowsversion", None)
    product_type = WINDOWS_PRODUCT_TYPES.get(getwindowsversion().product_type) if getwindowsversion is not None else None
    facts = OsFacts(name=f"Windows {release}".strip(), release=release, service_pack=service_pack,
                    pretty_name=" ".join(filter(None, ("Windows", release, service_pack))),
                    edition=platform.win32_edition(),
                    read=f"platform.win32_ver(): release {release}, version {version}, {service_pack or 'no service pack'}",
                    product_type=product_type)
    return Component("os", "windows", version, "platform.win32_ver()", "platform.win32_ver and sys.getwindowsversion",
                     target, facts=facts)


class _Reader:
    """Reads the system's files through the view, keeping the errors."""

    def __init__(self, view: View, target: str):
        self.view, self.target = view, target
        self.errors: list[ScanError] = []

    def host(self, path: str) -> str:
        return self.view.locate(self.view.top, path)

    def data(self, path: str) -> bytes | None:
        """The bytes of `path` (as the system names it); None if it is missing or cannot be read."""
        return self._read(path, self.view.read_bytes)

    def text(self, path: str) -> str | None:
        """The text of `path`, which must be UTF-8; None if it is missing or cannot be read."""
        return self._read(path, self.view.read_text)

    def _read(self, path: str, read: Callable[[str, int], T]) -> T | None:
        host = self.host(path)
        if self.view.kind(host) is None:
            return None
        try:
            return read(host, CAP)
        except FsError as exc:
            self.error(path, f"cannot read: {exc}")
            return None

    def first_line(self, path: str) -> str | None:
        text = self.text(path)
        return text.strip().splitlines()[0].strip() if text and text.strip() else None

    def error(self, path: str, message: str) -> None:
        self.errors.append(ScanError(self.view.display(self.host(path)), message, self.target))
        return None

    def component(self, name: str, version: str | None, path: str, source: str, facts: OsFacts) -> Component:
        return Component("os", name, version or None, self.view.display(self.host(path)), source, self.target,
                         facts=facts)


def _os_release(reader: _Reader) -> Component | None:
    for path in OS_RELEASE:
        text = reader.text(path)
        if text is None:
            continue
        fields = _assignments(text)
        os_id, version = (fields.get("ID", "").strip() or "linux").lower(), fields.get("VERSION_ID")  # "ID=": unset
        read = f"ID={os_id}" + (f", VERSION_ID={version}" if version else ", no VERSION_ID")
        facts = OsFacts(name=fields.get("NAME"), pretty_name=fields.get("PRETTY_NAME"), id_like=fields.get("ID_LIKE"),
                        version_id=version, codename=fields.get("VERSION_CODENAME"), read=read)
        precise = _precise_version(reader, os_id, version)
        if precise is not None:
            version, version_from = precise
            facts = records.replace(facts, read=f"{read}; {version_from}: {version}", version_from=version_from)
        return reader.component(os_id, version, path, "os-release (ID, VERSION_ID)", facts)
    return None


def _precise_version(reader: _Reader, os_id: str, version_id: str | None) -> tuple[str, str] | None:
    """(version, file) where the distribution's own file extends VERSION_ID: 7 -> 7.9.2009, 12 -> 12.15."""
    path = PRECISE_VERSION.get(os_id)
    if not path or not version_id:
        return None
    line = reader.first_line(path)
    if line is None:
        return None
    release = _release_line(line)
    precise = release[1] if release else line
    return (precise, path) if precise.startswith(f"{version_id}.") else None


def _lsb_release(reader: _Reader) -> Component | None:
    text = reader.text(LSB_RELEASE)
    fields = _assignments(text) if text else {}
    name, version = fields.get("DISTRIB_ID"), fields.get("DISTRIB_RELEASE")
    if not (name and version):
        return None
    facts = OsFacts(name=name, pretty_name=fields.get("DISTRIB_DESCRIPTION"), codename=fields.get("DISTRIB_CODENAME"),
                    read=f"DISTRIB_ID={name}, DISTRIB_RELEASE={version}")
    return reader.component(name.lower(), version, LSB_RELEASE, "lsb-release (DISTRIB_ID, DISTRIB_RELEASE)", facts)


def _release_file(reader: _Reader) -> Component | None:
    for path in RELEASE_FILES:
        line = reader.first_line(path)
        release = _release_line(line) if line else None
        if release is None:
            continue
        name, version, codename = release
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        os_id = next((known for prefix, known in RELEASE_NAMES if name.startswith(prefix)), slug)
        facts = OsFacts(name=name, pretty_name=line, codename=codename, read=line)
        return reader.component(os_id, version, path, "release file (first line)", facts)
    return None


def _release_line(line: str) -> tuple[str, str, str | None] | None:
    """(name, version, codename) of "<name> release <version> (<codename>)", or None."""
    match = _RELEASE_WORD.search(line)
    if match is None or match.start() == 0:
        return None
    return line[:match.start()], match["version"], match["codename"]


def _debian_version(reader: _Reader) -> Component | None:
    line = reader.first_line(DEBIAN_VERSION)
    if line is None:
        return None
    numeric = _NUMERIC_VERSION.match(line) is not None
    facts = OsFacts(name="Debian GNU/Linux", codename=None if numeric else line, read=line)
    return reader.component("debian", line if numeric else None, DEBIAN_VERSION, "debian_version", facts)


def _macos(reader: _Reader) -> Component | None:
    data = reader.data(MACOS_VERSION)
    if data is None:
        return None
    try:
        plist = plistlib.loads(data)  # XML or binary ("bplist00"), told apart by the header
    except PLIST_ERRORS as exc:
        reader.error(MACOS_VERSION, f"not a property list: {str(exc) or type(exc).__name__}")
        return None
    version = plist.get("ProductVersion") if isinstance(plist, dict) else None
    if not isinstance(version, str):
        reader.error(MACOS_VERSION, "no ProductVersion string in the property list")
        return None

    def string(key: str, default: str | None) -> str | None:
        return plist[key] if isinstance(plist.get(key), str) else default

    name = string("ProductName", "macOS")
    facts = OsFacts(name=name, pretty_name=f"{name} {string('ProductUserVisibleVersion', version)}",
                    build=string("ProductBuildVersion", None), read=f"ProductName={name}, ProductVersion={version}")
    return reader.component("macos", version, MACOS_VERSION, "SystemVersion.plist (ProductName, ProductVersion)",
                            facts)


def _assignments(text: str) -> dict[str, str]:
    """The KEY=value lines of os-release(5) and lsb-release: shell quoting, backslash escapes and comments
    apply; a line that is anything else (a command, an unbalanced quote) is skipped."""
    values = {}
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if len(words) == 1 and "=" in words[0]:
            key, _, value = words[0].partition("=")
            if key.isidentifier():
                values[key] = value
    return values
