"""OS identity from the files each system has (tests/fixtures/os-roots, see its PROVENANCE.md), the platform
matrix (rules/os-matrix.toml) through the os-matrix check, the running Windows, and hostile files."""

import os
import platform
import shutil
import sys
import threading
from types import SimpleNamespace

import jsonschema
import pytest

from auditor import records
from auditor.checks.matrices import judge_os as judge, version_key
from auditor.collect import Collected
from auditor.collect.platform.os_identity import CAP, read_os_identity, running_windows_identity
from auditor.fs import View
from auditor.model import Report
from auditor.report.json_report import schema
from auditor.rule_data import rules_dir
import tomli
from auditor.checks.rules import ReleaseDates, evaluate, load_packs
from conftest import FIXTURES

ROOTS = FIXTURES / "os-roots"
MATRIX = tomli.loads((rules_dir() / "os-matrix.toml").read_text(encoding="utf-8"))
PLIST = "/System/Library/CoreServices/SystemVersion.plist"

# fixture: (ID, version, file it came from, status, severity)
FIXTURE_IDENTITIES = {
    "ubuntu-8.10": ("ubuntu", "8.10", "/etc/lsb-release", "supported", "info"),
    "ubuntu-22.04": ("ubuntu", "22.04", "/etc/os-release", "supported", "info"),
    "debian-5": ("debian", "5.0.10", "/etc/debian_version", "supported", "info"),
    "debian-12": ("debian", "12.15", "/etc/os-release", "supported", "info"),
    "centos-5": ("centos", "5.11", "/etc/redhat-release", "supported", "info"),
    "centos-6": ("centos", "6.10", "/etc/centos-release", "supported", "info"),
    "centos-7": ("centos", "7.9.2009", "/etc/os-release", "supported", "info"),
    "rhel-4": ("rhel", "4", "/etc/redhat-release", "unsupported", "high"),
    "rhel-7": ("rhel", "7.9", "/etc/os-release", "supported", "info"),
    "amzn-2013.09": ("amzn", "2013.09", "/etc/system-release", "supported", "info"),
    "amzn-2": ("amzn", "2", "/etc/os-release", "supported", "info"),
    "amzn-2023": ("amzn", "2023", "/etc/os-release", "supported", "info"),
    "alpine-3.18": ("alpine", "3.18.4", "/etc/os-release", "verify", "low"),
    "macos-10.4.11": ("macos", "10.4.11", PLIST, "verify", "low"),
    "macos-14": ("macos", "14.0", PLIST, "supported", "info"),
}

DEBIAN_12_OS_RELEASE = (ROOTS / "debian-12" / "usr" / "lib" / "os-release").read_bytes()
# Another system's os-release, placed outside the image: none of it may show up.
FEDORA_39_OS_RELEASE = b'''NAME="Fedora Linux"
VERSION="39 (Thirty Nine)"
ID=fedora
VERSION_ID=39
VERSION_CODENAME=""
PLATFORM_ID="platform:f39"
PRETTY_NAME="Fedora Linux 39 (Thirty Nine)"
'''
DEBIAN_SID_OS_RELEASE = b'''PRETTY_NAME="Debian GNU/Linux trixie/sid"
NAME="Debian GNU/Linux"
VERSION_CODENAME=trixie
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
'''


@pytest.fixture(scope="module")
def pack():
    return load_packs()["dynamodb-ats"]


def identify(root):
    """The one component (None when nothing names the system) and the error entries."""
    found = read_os_identity(View(str(root), image=True), f"image {root}")
    (component,) = found.components or [None]
    return component, found.errors


def judged(pack, component):
    (finding,) = evaluate([pack], [component], ReleaseDates({}))
    return finding


def debian_12_image(tmp_path):
    """A Debian 12 image whose /etc/os-release each test replaces."""
    root = tmp_path / "image"
    shutil.copytree(ROOTS / "debian-12", root, symlinks=True)
    (root / "etc" / "os-release").unlink()
    return root


# -- identity ---------------------------------------------------------------------

@pytest.mark.parametrize("fixture", sorted(FIXTURE_IDENTITIES))
def test_each_system_is_identified_from_its_own_files(fixture):
    os_id, version, location, _, _ = FIXTURE_IDENTITIES[fixture]
    component, errors = identify(ROOTS / fixture)
    assert (component.kind, component.name, component.version, component.location) == ("os", os_id, version, location)
    assert errors == []


def test_old_systems_are_named_by_their_text_not_the_file_name():
    centos5, _ = identify(ROOTS / "centos-5")  # only /etc/redhat-release, which reads "CentOS release 5.11 (Final)"
    assert centos5.details["read"] == "CentOS release 5.11 (Final)" and centos5.details["codename"] == "Final"
    ubuntu, _ = identify(ROOTS / "ubuntu-8.10")  # /etc/debian_version says "lenny/sid" too: lsb-release comes first
    assert ubuntu.details["codename"] == "intrepid" and ubuntu.details["pretty_name"] == "Ubuntu 8.10"
    ami, _ = identify(ROOTS / "amzn-2013.09")
    assert (ami.details["name"], ami.source) == ("Amazon Linux AMI", "release file (first line)")


def test_os_release_wins_and_a_more_precise_own_file_refines_it():
    ubuntu, _ = identify(ROOTS / "ubuntu-22.04")  # /etc/os-release is a relative link into /usr/lib
    assert ubuntu.details["pretty_name"] == "Ubuntu 22.04.3 LTS" and "version_from" not in ubuntu.details
    centos, _ = identify(ROOTS / "centos-7")
    assert (centos.details["version_id"], centos.details["version_from"]) == ("7", "/etc/centos-release")
    rhel, _ = identify(ROOTS / "rhel-7")  # /etc/redhat-release says 7.9 as well: nothing to refine
    assert rhel.details["id_like"] == "fedora" and "version_from" not in rhel.details


def test_macos_xml_and_binary_property_lists():
    assert (ROOTS / "macos-14" / PLIST.lstrip("/")).read_bytes().startswith(b"bplist00")
    tiger, _ = identify(ROOTS / "macos-10.4.11")
    sonoma, _ = identify(ROOTS / "macos-14")
    assert (tiger.details["name"], tiger.details["build"]) == ("Mac OS X", "8S165")
    assert (sonoma.details["pretty_name"], sonoma.details["build"]) == ("macOS 14.0", "23A344")


def test_debian_testing_names_no_version(tmp_path):
    root = debian_12_image(tmp_path)
    (root / "usr" / "lib" / "os-release").write_bytes(DEBIAN_SID_OS_RELEASE)
    (root / "etc" / "debian_version").write_text("trixie/sid\n")
    component, errors = identify(root)
    assert (component.name, component.version, component.location, errors) == ("debian", None, "/usr/lib/os-release", [])


def test_this_machine_is_read_through_the_same_code():
    try:
        expected = platform.freedesktop_os_release()
    except (AttributeError, OSError):
        pytest.skip("no os-release here (or Python before 3.10)")
    (component,) = read_os_identity(View("/", display_top="/"), "this machine").components
    assert component.name == expected["ID"] and component.location in ("/etc/os-release", "/usr/lib/os-release")
    assert (component.version or "").startswith(expected.get("VERSION_ID", ""))


# -- the running Windows ----------------------------------------------------------

def windows(monkeypatch, win32_ver, edition, product_type):
    monkeypatch.setattr(platform, "win32_ver", lambda *args: win32_ver)
    monkeypatch.setattr(platform, "win32_edition", lambda: edition)
    monkeypatch.setattr(sys, "getwindowsversion", lambda: SimpleNamespace(product_type=product_type), raising=False)
    (component,) = running_windows_identity("this machine").components
    return component


def test_running_windows_xp_needs_its_root_updates_verified(monkeypatch, pack):
    component = windows(monkeypatch, ("XP", "5.1.2600", "SP3", "Uniprocessor Free"), None, 1)
    assert (component.name, component.version) == ("windows", "5.1.2600")
    assert component.details == {"name": "Windows XP", "pretty_name": "Windows XP SP3", "release": "XP", "service_pack": "SP3",
                                 "product_type": "workstation",
                                 "read": "platform.win32_ver(): release XP, version 5.1.2600, SP3"}
    finding = judged(pack, component)
    assert (finding.severity, finding.title) == ("low", "Windows XP 5.1.2600: verify that it trusts ATS-issued certificates")
    assert "January 2005" in finding.evidence[2].summary


def test_running_windows_server_2008_r2_is_supported(monkeypatch, pack):
    component = windows(monkeypatch, ("2008ServerR2", "6.1.7601", "SP1", "Multiprocessor Free"), "ServerStandard", 3)
    assert (component.details["edition"], component.details["product_type"]) == ("ServerStandard", "server")
    assert judged(pack, component).severity == "info"


def test_no_windows_identity_elsewhere(monkeypatch):
    monkeypatch.setattr(platform, "win32_ver", lambda *args: ("", "", "", ""))
    assert running_windows_identity("this machine") == Collected()


# -- the matrix -------------------------------------------------------------------

def test_matrix_names_the_documented_systems_and_ends_every_row_open():
    assert [row["id"] for row in MATRIX["os"]] == ["windows", "macos", "rhel", "centos", "ubuntu", "debian", "amzn"]
    assert all("below" not in row["bands"][-1] and row["documented"].startswith("AWS:") for row in MATRIX["os"])


@pytest.mark.parametrize(("text", "key"), [("5.0.10", (5, 0, 10)), ("8.10", (8, 10)), ("10.4.11", (10, 4, 11)),
                                           ("7.9.2009", (7, 9, 2009)), ("2013.09", (2013, 9)), ("2", (2,)),
                                           ("2023", (2023,)), ("5.0", (5,)), ("lenny/sid", None), (None, None)])
def test_versions_compare_as_numbers(text, key):
    assert version_key(text) == key


def test_version_order_at_the_documented_edges():
    assert version_key("8.10") > version_key("8.9") and version_key("8.04") < version_key("8.10")
    assert version_key("10.4.11") < version_key("10.5") and version_key("5") == version_key("5.0")


@pytest.mark.parametrize("fixture", sorted(FIXTURE_IDENTITIES))
def test_each_system_is_judged_against_the_matrix(fixture, pack):
    _, _, location, status, severity = FIXTURE_IDENTITIES[fixture]
    component, _ = identify(ROOTS / fixture)
    finding = judged(pack, component)
    assert (finding.rule, finding.severity) == ("ats-os-matrix", severity)
    documented, where, why, *rest = finding.evidence
    assert documented.type == "documented" and documented.source.endswith("ats-certs.html")
    assert (where.type, where.source) == ("observed", location) and where.summary.startswith(location)
    assert bool(rest) == (status != "supported")  # the pointer to the trust store, for all but supported
    assert {"supported": "documented by AWS as trusting", "verify": "verify that it trusts",
            "unsupported": "older than every release"}[status] in finding.title


def test_verdicts_carry_the_documented_condition(pack):
    tiger = judged(pack, identify(ROOTS / "macos-10.4.11")[0])
    assert tiger.title == "Mac OS X 10.4.11: verify that it trusts ATS-issued certificates"
    assert "Java for Mac OS X 10.4, Release 5" in tiger.evidence[0].summary
    assert tiger.remediation.startswith('Mac OS X 10.4 trusts ATS only with "Java for Mac OS X 10.4, Release 5" installed: check')
    rhel4 = judged(pack, identify(ROOTS / "rhel-4")[0])
    assert rhel4.evidence[0].summary.startswith("AWS: Red Hat Enterprise Linux 5 (March 2007)")
    assert rhel4.evidence[1].summary == "/etc/redhat-release: Red Hat Enterprise Linux AS release 4 (Nahant Update 9)"


def test_a_system_the_matrix_does_not_name_is_verify_with_a_pointer_to_its_trust_store(pack):
    alpine, _ = identify(ROOTS / "alpine-3.18")
    finding = judged(pack, alpine)
    assert finding.evidence[0].summary.startswith("AWS names the operating systems")  # the rule's own text
    assert "does not name this system" in finding.evidence[2].summary
    assert "no trust store of this system was read" in finding.evidence[3].summary
    store = "trust-store:/etc/ssl/certs/ca-certificates.crt@?:0123456789ab"
    linked = records.replace(alpine, details={**alpine.details, "trust_store_id": store, "trust_store": "/etc/ssl/cert.pem"})
    assert judged(pack, linked).evidence[3].summary == (f"the system's trust store decides: /etc/ssl/cert.pem (component {store}); "
                                                        "see that store's findings")


def test_derivatives_are_not_guessed_into_a_row(tmp_path, pack):
    root = tmp_path / "rocky"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
                                             'VERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n')
    finding = judged(pack, identify(root)[0])
    assert finding.severity == "low" and "ID_LIKE=rhel centos fedora" in finding.evidence[3].summary


def test_an_unknown_version_is_verify_unless_every_version_is_supported(tmp_path, pack):
    root = debian_12_image(tmp_path)
    (root / "usr" / "lib" / "os-release").write_bytes(DEBIAN_SID_OS_RELEASE)
    (root / "etc" / "debian_version").write_text("trixie/sid\n")
    sid = judged(pack, identify(root)[0])
    assert (sid.severity, sid.title) == ("low", "Debian GNU/Linux (version unknown): verify that it trusts ATS-issued certificates")
    amazon = records.replace(identify(ROOTS / "amzn-2")[0], version=None)
    assert judged(pack, amazon).severity == "info"


def test_findings_fit_the_report_schema(pack):
    components = [identify(ROOTS / name)[0] for name in sorted(FIXTURE_IDENTITIES)]
    report = Report.start([pack], "high", "2026-11-28")
    report.components, report.findings = components, list(evaluate([pack], components, ReleaseDates({})))
    jsonschema.validate(report.to_dict(), schema())
    assert report.counts() == {"critical": 0, "high": 1, "medium": 0, "low": 2, "info": 12}


def test_judge_reports_what_was_read_from_which_file():
    verdict = judge(MATRIX, identify(ROOTS / "debian-12")[0])
    assert verdict.observed[:2] == ("/etc/os-release: ID=debian, VERSION_ID=12; /etc/debian_version: 12.15",
                                    "Debian GNU/Linux 12.15: Debian 5.0 and later trust ATS")


# -- hostile files ----------------------------------------------------------------

@pytest.mark.parametrize("link", ["/../../etc/passwd", "{outside}", "../../../../../../../../../../..{outside}"])
def test_links_out_of_the_image_are_not_followed(tmp_path, link):
    outside = tmp_path / "elsewhere" / "os-release"
    outside.parent.mkdir()
    outside.write_bytes(FEDORA_39_OS_RELEASE)
    root = debian_12_image(tmp_path)
    (root / "usr" / "lib" / "os-release").unlink()
    os.symlink(link.format(outside=outside), root / "etc" / "os-release")
    component, errors = identify(root)
    # Inside the image the link leads nowhere; the image's own /etc/debian_version names it.
    assert (component.name, component.version, component.location, errors) == ("debian", "12.15", "/etc/debian_version", [])
    assert "fedora" not in repr(component).lower() and "root:" not in repr(component)


def test_a_link_loop_is_an_error_entry(tmp_path):
    root = debian_12_image(tmp_path)
    os.symlink("/../../etc/os-release", root / "etc" / "os-release")  # inside the image: itself
    component, errors = identify(root)
    assert component.location == "/usr/lib/os-release" and component.version == "12.15"
    assert [(e.location, "symbolic links" in e.message) for e in errors] == [("/etc/os-release", True)]


def test_fifos_do_not_hang_the_read(tmp_path):
    root = debian_12_image(tmp_path)
    os.mkfifo(root / "etc" / "os-release")
    (root / "etc" / "debian_version").unlink()
    os.mkfifo(root / "etc" / "debian_version")  # read to refine os-release's VERSION_ID
    result = []
    reader = threading.Thread(target=lambda: result.append(identify(root)), daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert result, "reading a FIFO blocked"
    component, errors = result[0]
    assert (component.location, component.version) == ("/usr/lib/os-release", "12")
    assert [(e.location, e.message) for e in errors] == [
        ("/etc/os-release", "cannot read: not a regular file (a FIFO); not read"),
        ("/etc/debian_version", "cannot read: not a regular file (a FIFO); not read")]


def test_a_non_utf8_os_release_is_an_error_entry(tmp_path):
    root = debian_12_image(tmp_path)
    # An /etc/os-release rewritten by hand in Latin-1 (the link replaced by a file).
    (root / "etc" / "os-release").write_bytes(DEBIAN_12_OS_RELEASE.replace(b"(bookworm)", b"(bookworm, serveur \xe9dition)", 1))
    component, errors = identify(root)
    assert component.location == "/usr/lib/os-release"
    assert [(e.location, e.message, e.target) for e in errors] == [
        ("/etc/os-release", "cannot read: not valid UTF-8 (byte 52)", f"image {root}")]


def test_an_oversized_os_release_is_not_read(tmp_path):
    root = debian_12_image(tmp_path)
    with open(root / "etc" / "os-release", "wb") as handle:
        handle.write(DEBIAN_12_OS_RELEASE)
        handle.truncate(16 * 1024 * 1024)  # sparse: no disk used
    component, errors = identify(root)
    assert component.location == "/usr/lib/os-release"
    assert [e.message for e in errors] == [f"cannot read: file is {16 * 1024 * 1024} bytes, over the {CAP}-byte limit; not read"]


def test_a_truncated_property_list_is_an_error_entry(tmp_path):
    root = tmp_path / "mac"
    shutil.copytree(ROOTS / "macos-10.4.11", root)
    plist = root / PLIST.lstrip("/")
    plist.write_bytes(plist.read_bytes()[:200])
    component, errors = identify(root)
    assert component is None
    assert [(e.location, e.message.startswith("not a property list")) for e in errors] == [(PLIST, True)]


def test_an_image_scan_reports_its_os_linked_to_its_store_and_judged(tmp_path):
    """scan --root: the OS component links to the OS bundle the image has (here a 2013 Mozilla list, as
    botocore 0.23.0 vendored it, which holds the two Starfield roots but not Amazon Root CA 1)."""
    from conftest import scan_json

    root = tmp_path / "centos"
    shutil.copytree(ROOTS / "centos-7", root)
    bundle = root / "etc" / "pki" / "tls" / "certs" / "ca-bundle.crt"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes((FIXTURES / "envs" / "trust" / "botocore-0.23.0" / "site-packages" / "botocore" / "vendored"
                        / "requests" / "cacert.pem").read_bytes())
    report = scan_json("--root", root)
    (system,) = [c for c in report["components"] if c["kind"] == "os"]
    assert (system["name"], system["version"], system["location"]) == ("centos", "7.9.2009", "/etc/os-release")
    store = next(c for c in report["components"] if c["id"] == system["details"]["trust_store_id"])
    assert store["location"] == "/etc/pki/tls/certs/ca-bundle.crt"
    severities = {(f["rule"], f["component"]): f["severity"] for f in report["findings"]}
    assert severities[("ats-os-matrix", system["id"])] == "info"
    assert severities[("ats-store-trusted", store["id"])] == "info"
    assert store["details"]["anchors"] == ["Starfield Class 2 Certification Authority",
                                           "Starfield Services Root Certificate Authority - G2"]
    assert store["details"]["used_by"] == [system["id"]]
