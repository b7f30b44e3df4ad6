"""Java: version strings in every form JDKs write them, JDK discovery confined to an image, the Java matrix
(rules/java-matrix.toml) through the java-matrix check, and `java -version` with --runtime.

The `java -version` outputs are in the form each JVM prints them; Temurin 25 and Debian's OpenJDK 17 were
captured on a test machine, the others are those vendors' published forms for the versions named."""

import os
import stat
import sys
import time

import pytest

from auditor.collect.platform import java as java_module
from auditor.checks.matrices import judge_java as judge
from auditor.collect.platform.java import find_java_homes, parse_java_version, vendor_of, version_from_name
from auditor.trust.system_stores import java_store
from auditor.collect.config.trust_settings import TrustSettings
from auditor.collect.config.environ import Environ
from auditor.fs import View
from auditor.model import Component
from auditor.rule_data import rules_dir
import tomli
from auditor.checks.rules import ReleaseDates, evaluate, load_packs
from conftest import scan_json

MATRIX = tomli.loads((rules_dir() / "java-matrix.toml").read_text(encoding="utf-8"))

ORACLE_1_4_2 = '''java version "1.4.2_12"
Java(TM) 2 Runtime Environment, Standard Edition (build 1.4.2_12-b03)
Java HotSpot(TM) Client VM (build 1.4.2_12-b03, mixed mode)
'''
ORACLE_5 = '''java version "1.5.0_02"
Java(TM) 2 Runtime Environment, Standard Edition (build 1.5.0_02-b09)
Java HotSpot(TM) Client VM (build 1.5.0_02-b09, mixed mode, sharing)
'''
ORACLE_6 = '''java version "1.6.0_45"
Java(TM) SE Runtime Environment (build 1.6.0_45-b06)
Java HotSpot(TM) 64-Bit Server VM (build 20.45-b01, mixed mode)
'''
JROCKIT_6 = '''java version "1.6.0_45"
Java(TM) SE Runtime Environment (build 1.6.0_45-b06)
Oracle JRockit(R) (build R28.2.7-7-155314-1.6.0_45-20130329-0641-linux-x86_64, compiled mode)
'''
ICEDTEA_6 = '''java version "1.6.0_41"
OpenJDK Runtime Environment (IcedTea6 1.13.13) (rhel-1.13.13.1.el6_8-x86_64)
OpenJDK 64-Bit Server VM (build 23.41-b41, mixed mode)
'''
IBM_6 = '''java version "1.6.0"
Java(TM) SE Runtime Environment (build pxa6460sr16fp60-20180307_01(SR16 FP60))
IBM J9 VM (build 2.4, JRE 1.6.0 IBM J9 2.4 Linux amd64-64 Compressed References jvmxa6460sr16fp60-20180302_01 (JIT enabled, AOT enabled)
J9VM - 20180302_371766
JIT  - r9_20180118_138283
GC   - GA24_Java6_SR16_20180302_1210_B371766
J9CL - 20180302_371766)
JCL  - 20180301_01
'''
IBM_8 = '''java version "1.8.0_281"
Java(TM) SE Runtime Environment (build 8.0.6.26 - pxa6480sr6fp26-20210226_01(SR6 FP26))
IBM J9 VM (build 2.9, JRE 1.8.0 Linux amd64-64-Bit Compressed References 20210216_465732 (JIT enabled, AOT enabled)
OpenJ9   - 3fe2ee8
OMR      - 9f6ea28
IBM      - 0a1e5e0)
JCL - 20210108_01 based on Oracle jdk8u281-b09
'''
ZULU_8 = '''openjdk version "1.8.0_292"
OpenJDK Runtime Environment (Zulu 8.54.0.21-CA-linux64) (build 1.8.0_292-b10)
OpenJDK 64-Bit Server VM (Zulu 8.54.0.21-CA-linux64) (build 25.292-b10, mixed mode)
'''
ZULU_11 = '''openjdk version "11.0.12" 2021-07-20 LTS
OpenJDK Runtime Environment Zulu11.50+19-CA (build 11.0.12+7-LTS)
OpenJDK 64-Bit Server VM Zulu11.50+19-CA (build 11.0.12+7-LTS, mixed mode)
'''
TEMURIN_17 = '''openjdk version "17.0.9" 2023-10-17
OpenJDK Runtime Environment Temurin-17.0.9+9 (build 17.0.9+9)
OpenJDK 64-Bit Server VM Temurin-17.0.9+9 (build 17.0.9+9, mixed mode, sharing)
'''
TEMURIN_25 = '''openjdk version "25.0.3" 2026-04-21 LTS
OpenJDK Runtime Environment Temurin-25.0.3+9 (build 25.0.3+9-LTS)
OpenJDK 64-Bit Server VM Temurin-25.0.3+9 (build 25.0.3+9-LTS, mixed mode, sharing)
'''
CORRETTO_17 = '''openjdk version "17.0.9" 2023-10-17 LTS
OpenJDK Runtime Environment Corretto-17.0.9.8.1 (build 17.0.9+8-LTS)
OpenJDK 64-Bit Server VM Corretto-17.0.9.8.1 (build 17.0.9+8-LTS, mixed mode, sharing)
'''
DEBIAN_17 = '''openjdk version "17.0.15" 2025-04-15
OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)
OpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)
'''
OPENJDK_21 = '''openjdk version "21" 2023-09-19
OpenJDK Runtime Environment (build 21+35-2513)
OpenJDK 64-Bit Server VM (build 21+35-2513, mixed mode, sharing)
'''
ORACLE_21 = '''Picked up JAVA_TOOL_OPTIONS: -Dfile.encoding=UTF-8
java version "21.0.1" 2023-10-17 LTS
Java(TM) SE Runtime Environment (build 21.0.1+12-LTS-29)
Java HotSpot(TM) 64-Bit Server VM (build 21.0.1+12-LTS-29, mixed mode, sharing)
'''


# -- version strings ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "parts", "exact"), [
    # release files' JAVA_VERSION
    ("1.8.0_292", (8, 0, 292), True), ("11.0.2", (11, 0, 2), True), ("17.0.15", (17, 0, 15), True),
    ("21", (21,), True), ("1.4.2_12", (4, 2, 12), True), ("1.7.0", (7, 0), False),
    # other written forms: with a build, RPM's dots, Corretto's extra numbers, Corretto 8's own scheme
    ("1.5.0_02-b09", (5, 0, 2), True), ("1.6.0_45", (6, 0, 45), True), ("17.0.9+9", (17, 0, 9), True),
    ("1.8.0.292", (8, 0, 292), True), ("17.0.9.8.1", (17, 0, 9, 8, 1), True), ("8.392.08.1", (8, 0, 392, 8, 1), True),
    # `java -version`: the quoted string, whatever the JVM prints around it
    (ORACLE_1_4_2, (4, 2, 12), True), (ORACLE_5, (5, 0, 2), True), (ORACLE_6, (6, 0, 45), True),
    (JROCKIT_6, (6, 0, 45), True), (ICEDTEA_6, (6, 0, 41), True), (IBM_6, (6, 0), True), (IBM_8, (8, 0, 281), True),
    (ZULU_8, (8, 0, 292), True), (ZULU_11, (11, 0, 12), True), (TEMURIN_17, (17, 0, 9), True),
    (TEMURIN_25, (25, 0, 3), True), (CORRETTO_17, (17, 0, 9), True), (DEBIAN_17, (17, 0, 15), True),
    (OPENJDK_21, (21,), True), (ORACLE_21, (21, 0, 1), True),
])
def test_every_written_form_parses(text, parts, exact):
    version = parse_java_version(text)
    assert (version.parts, version.exact) == (parts, exact)


@pytest.mark.parametrize("text", ["", "lenny/sid", "1", "0.9", "2.1.0", "x86_64", "java version", "Error: could not open"])
def test_text_without_a_java_version_is_none(text):
    assert parse_java_version(text) is None


def test_levels_not_printed_are_zero_when_the_version_is_exact():
    assert parse_java_version(IBM_6).update == 0 and parse_java_version(IBM_6).key == (6, 0, 0)
    assert parse_java_version(OPENJDK_21).key == (21, 0, 0)
    assert parse_java_version("1.7.0").update is None  # JDK 7's release file: the update is not written


def test_versions_order_across_both_numberings():
    order = ["1.3.1_20", "1.4.1_07", "1.4.2", "1.4.2_11", "1.4.2_12", "1.5.0_01", "1.5.0_02", "1.6.0_45", "1.7.0_80",
             "1.8.0_292", "8.0.392", "9.0.4", "11.0.2", "17", "17.0.9", "21"]
    keys = [parse_java_version(text).key for text in order]
    assert keys == sorted(keys)


@pytest.mark.parametrize(("output", "vendor"), [
    (ORACLE_1_4_2, "Oracle"), (ORACLE_6, "Oracle"), (JROCKIT_6, "Oracle JRockit"), (ICEDTEA_6, "OpenJDK"),
    (IBM_6, "IBM"), (IBM_8, "IBM"), (ZULU_8, "Azul Zulu"), (ZULU_11, "Azul Zulu"), (TEMURIN_17, "Eclipse Temurin"),
    (CORRETTO_17, "Amazon Corretto"), (DEBIAN_17, "OpenJDK"), (OPENJDK_21, "OpenJDK"),
    ("Eclipse Adoptium Temurin-17.0.9+9", "Eclipse Temurin"), ("Azul Systems, Inc. Zulu11.50+19-CA", "Azul Zulu"),
    ("Amazon.com Inc. Corretto-17.0.9.8.1", "Amazon Corretto"), ("Oracle Corporation", "Oracle"), ("Debian", "OpenJDK"),
    ("jdk1.8.0_292", None),
])
def test_vendor_from_output_release_file_and_name(output, vendor):
    assert vendor_of(output) == vendor


@pytest.mark.parametrize(("name", "raw", "parts", "exact", "vendor"), [
    ("jdk1.8.0_292", "1.8.0_292", (8, 0, 292), True, None),
    ("java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64", "1.8.0.292", (8, 0, 292), True, "OpenJDK"),
    ("java-17-openjdk-amd64", "17", (17,), False, "OpenJDK"),
    ("java-8-openjdk-amd64", "8", (8,), False, "OpenJDK"),
    ("zulu11.50.19-ca-jdk11.0.12-linux_x64", "11.0.12", (11, 0, 12), True, "Azul Zulu"),
    ("zulu8.54.0.21-ca-jdk8.0.292-linux_x64", "8.0.292", (8, 0, 292), True, "Azul Zulu"),
    ("jdk-17.0.9+9", "17.0.9+9", (17, 0, 9), True, None),
    ("jdk-17+35", "17+35", (17,), True, None),
    ("amazon-corretto-17.0.9.8.1-linux-x64", "17.0.9.8.1", (17, 0, 9, 8, 1), True, "Amazon Corretto"),
    ("amazon-corretto-8.392.08.1-linux-x64", "8.392.08.1", (8, 0, 392, 8, 1), True, "Amazon Corretto"),
    ("temurin-25-jdk-amd64", "25", (25,), False, "Eclipse Temurin"),
    ("jre1.6.0_45", "1.6.0_45", (6, 0, 45), True, None),
    ("j2sdk1.4.2_12", "1.4.2_12", (4, 2, 12), True, None),
    ("j2re1.4.2_11", "1.4.2_11", (4, 2, 11), True, None),
    ("java-1.5.0-sun-1.5.0.22", "1.5.0.22", (5, 0, 22), True, None),
    ("jdk1.8.0_292-amd64", "1.8.0_292", (8, 0, 292), True, None),
    ("jdk-17.0.9.9-hotspot", "17.0.9.9", (17, 0, 9, 9), True, None),
    ("1.6.0.jdk", "1.6.0", (6, 0), False, None),
    ("zulu-17.jdk", "17", (17,), False, "Azul Zulu"),
])
def test_directory_names(name, raw, parts, exact, vendor):
    version = version_from_name(name)
    assert (version.raw, version.parts, version.exact) == (raw, parts, exact)
    assert vendor_of(name) == vendor


@pytest.mark.parametrize("name", ["java-x86_64-80", "openjdk-amd64", "default-java", "latest", "conda", "jvm-1"])
def test_names_without_a_version(name):
    assert version_from_name(name) is None


# -- discovery ----------------------------------------------------------------------------------

def make_home(root, path, release=None, layout="lib", launcher="java"):
    """A JDK home at `path` (as the image names it): bin/<launcher>, cacerts under lib/security (9+) or
    jre/lib/security (8 and older, whose JRE also has bin/java), and a release file if given."""
    home = root / path.lstrip("/")
    (home / "bin").mkdir(parents=True)
    (home / "bin" / launcher).write_text("")
    security = home / layout / "security"
    security.mkdir(parents=True)
    (security / "cacerts").write_bytes(b"\xfe\xed\xfe\xed")
    if layout == "jre/lib":
        (home / "jre" / "bin").mkdir()
        (home / "jre" / "bin" / launcher).write_text("")
    if release is not None:
        (home / "release").write_text(release)
    return home


def link(root, path, target):
    entry = root / path.lstrip("/")
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(target)


@pytest.fixture
def image(tmp_path):
    """An image with the JDKs of several distributions and installers, and the links they come with."""
    root = tmp_path / "image"
    debian = make_home(root, "/usr/lib/jvm/java-17-openjdk-amd64", 'IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.15"\n')
    (debian / "lib" / "security" / "cacerts").unlink()
    link(root, "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts", "/etc/ssl/certs/java/cacerts")
    (root / "etc/ssl/certs/java").mkdir(parents=True)
    (root / "etc/ssl/certs/java/cacerts").write_bytes(b"\xfe\xed\xfe\xed")
    link(root, "/usr/lib/jvm/java-1.17.0-openjdk-amd64", "java-17-openjdk-amd64")
    link(root, "/usr/lib/jvm/default-java", "/usr/lib/jvm/java-17-openjdk-amd64")
    (root / "usr/lib/jvm/openjdk-17").mkdir()  # Debian's src.zip directory: not a home
    make_home(root, "/usr/lib/jvm/java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64", layout="jre/lib")
    make_home(root, "/usr/lib/jvm/zulu11.50.19-ca-jdk11.0.12-linux_x64")
    make_home(root, "/usr/java/j2sdk1.4.2_11", layout="jre/lib")
    make_home(root, "/usr/java/jdk1.5.0_01", layout="jre/lib")
    link(root, "/usr/java/latest", "/usr/java/jdk1.5.0_01")
    make_home(root, "/opt/java/openjdk", 'IMPLEMENTOR="Eclipse Adoptium"\nIMPLEMENTOR_VERSION="Temurin-17.0.9+9"\n'
                                         'JAVA_VERSION="17.0.9"\n')
    make_home(root, "/opt/jdk-21", 'IMPLEMENTOR="Oracle Corporation"\nJAVA_VERSION="21"\n')
    make_home(root, "/Library/Java/JavaVirtualMachines/jdk1.8.0_292.jdk/Contents/Home", layout="jre/lib")
    (root / "usr/bin").mkdir(parents=True)
    link(root, "/usr/bin/java", "/etc/alternatives/java")
    link(root, "/etc/alternatives/java", "/usr/lib/jvm/java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64/jre/bin/java")
    return root


def homes_by_name(root, environ=None, runtime=False):
    view = View(str(root), image=True)
    return {os.path.relpath(h.home, view.top): h for h in find_java_homes(view, (environ or {}).get, runtime).homes}


def test_every_install_folder_is_searched_and_each_home_found_once(image):
    homes = homes_by_name(image)
    assert sorted(homes) == sorted([
        "usr/lib/jvm/java-17-openjdk-amd64", "usr/lib/jvm/java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64",
        "usr/lib/jvm/zulu11.50.19-ca-jdk11.0.12-linux_x64", "usr/java/j2sdk1.4.2_11", "usr/java/jdk1.5.0_01",
        "opt/java/openjdk", "opt/jdk-21", "Library/Java/JavaVirtualMachines/jdk1.8.0_292.jdk/Contents/Home"])
    assert homes["usr/lib/jvm/java-17-openjdk-amd64"].found_by == ["/usr/lib/jvm/*"]  # three names, one JDK
    assert homes["usr/java/jdk1.5.0_01"].found_by == ["/usr/java/*"]  # /usr/java/latest is the same one


@pytest.mark.parametrize(("home", "version", "exact", "source", "vendor"), [
    ("usr/lib/jvm/java-17-openjdk-amd64", "17.0.15", True, "release file", "OpenJDK"),
    ("usr/lib/jvm/java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64", "1.8.0.292", True, "directory name", "OpenJDK"),
    ("usr/lib/jvm/zulu11.50.19-ca-jdk11.0.12-linux_x64", "11.0.12", True, "directory name", "Azul Zulu"),
    ("usr/java/j2sdk1.4.2_11", "1.4.2_11", True, "directory name", None),
    ("usr/java/jdk1.5.0_01", "1.5.0_01", True, "directory name", None),
    ("opt/java/openjdk", "17.0.9", True, "release file", "Eclipse Temurin"),
    ("opt/jdk-21", "21", True, "release file", "Oracle"),
    ("Library/Java/JavaVirtualMachines/jdk1.8.0_292.jdk/Contents/Home", "1.8.0_292", True, "directory name", None),
])
def test_version_and_vendor_of_each_home(image, home, version, exact, source, vendor):
    found = homes_by_name(image)[home]
    assert (found.version, found.parsed.exact, found.version_source, found.vendor) == (version, exact, source, vendor)
    named = home.split("/")[-3] if home.endswith("Contents/Home") else home.split("/")[-1]
    by_name = f"{version} in the directory name {named}"
    assert found.facts().version_read == (f'JAVA_VERSION="{version}" in /{home}/release' if source == "release file" else by_name)


def test_java_home_and_path_come_from_the_targets_environment_inside_the_image(image):
    homes = homes_by_name(image, {"JAVA_HOME": "/opt/jdk-21/", "PATH": "/usr/local/bin:/usr/bin:relative/bin"})
    assert homes["opt/jdk-21"].found_by == ["JAVA_HOME=/opt/jdk-21/", "/opt/*"]
    # /usr/bin/java -> /etc/alternatives/java -> …/jre/bin/java: the JDK around that JRE, resolved in the image
    rhel = "usr/lib/jvm/java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64"
    assert homes[rhel].found_by == ["PATH: /usr/bin/java", "/usr/lib/jvm/*"]
    assert list(homes)[:2] == ["opt/jdk-21", rhel]


def test_nothing_outside_the_image_is_found_or_read(tmp_path):
    root = tmp_path / "image"
    link(root, "/usr/lib/jvm/host-jdk", "/usr/lib/jvm/temurin-25-jdk-amd64")  # this machine's path, not the image's
    link(root, "/opt/escape", "../../../../../../usr/lib/jvm/java-17-openjdk-amd64")
    homes = homes_by_name(root, {"JAVA_HOME": "/usr/lib/jvm/java-17-openjdk-amd64", "PATH": "/usr/bin:/bin"})
    assert homes == {}


def test_a_launcher_alone_is_not_a_java_home(tmp_path):
    root = tmp_path / "image"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/java").write_text("")  # macOS's stub launcher
    (root / "usr/lib").mkdir()
    (root / "opt/conda/bin").mkdir(parents=True)
    link(root, "/opt/conda/bin/java", "../lib/jvm/bin/java")  # a conda prefix: its JDK is lib/jvm
    make_home(root, "/opt/conda/lib/jvm", 'JAVA_VERSION="17.0.9"\n')
    homes = homes_by_name(root, {"PATH": "/opt/conda/bin:/usr/bin"})
    assert {name: h.found_by for name, h in homes.items()} == {"opt/conda/lib/jvm": ["PATH: /opt/conda/bin/java"]}


def test_a_dangling_cacerts_link_does_not_hide_the_jdk(tmp_path):
    root = tmp_path / "image"
    home = make_home(root, "/usr/lib/jvm/java-11-openjdk-amd64", 'JAVA_VERSION="11.0.21"\n')
    (home / "lib/security/cacerts").unlink()
    link(root, "/usr/lib/jvm/java-11-openjdk-amd64/lib/security/cacerts", "/etc/ssl/certs/java/cacerts")
    assert list(homes_by_name(root)) == ["usr/lib/jvm/java-11-openjdk-amd64"]


def test_an_absolute_cacerts_link_resolves_inside_the_image(image):
    view = View(str(image), image=True)
    home = homes_by_name(image)["usr/lib/jvm/java-17-openjdk-amd64"]
    store = java_store(view, home, TrustSettings(Environ({})))
    assert view.display(store.path) == "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts"
    assert view.resolve(store.path) == str(image / "etc/ssl/certs/java/cacerts")


def test_a_file_or_an_unreadable_release_file_is_handled(tmp_path):
    root = tmp_path / "image"
    (root / "opt/wheels").mkdir(parents=True)
    (root / "opt/wheels/tool.whl").write_text("a zip, not a directory")
    home = make_home(root, "/usr/lib/jvm/jdk-17.0.9+9")
    os.mkfifo(home / "release")
    javas = find_java_homes(View(str(root), image=True), {}.get)
    (found,) = javas.homes
    assert (found.version, found.version_source) == ("17.0.9+9", "directory name")
    assert [(e.location, e.message) for e in javas.errors] == [
        ("/usr/lib/jvm/jdk-17.0.9+9/release", "cannot read: not a regular file (a FIFO); not read")]


def test_windows_program_files(monkeypatch, tmp_path):
    program_files = tmp_path / "Program Files"
    make_home(program_files, "/Java/jdk1.8.0_292", layout="jre/lib", launcher="java.exe")
    make_home(program_files, "/Eclipse Adoptium/jdk-17.0.9.9-hotspot", 'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="17.0.9"\n',
              launcher="java.exe")
    monkeypatch.setattr(sys, "platform", "win32")
    view = View(str(tmp_path))
    homes = find_java_homes(view, {"PROGRAMFILES": str(program_files)}.get).homes
    assert [(os.path.basename(h.home), h.version, h.found_by) for h in homes] == [
        ("jdk1.8.0_292", "1.8.0_292", [str(program_files / "Java" / "*")]),
        ("jdk-17.0.9.9-hotspot", "17.0.9", [str(program_files / "Eclipse Adoptium" / "*")])]


# -- the matrix -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def packs():
    return load_packs()


def jvm(version, vendor=None, exact=True, store=True):
    details = {"version_read": f'JAVA_VERSION="{version}" in /usr/lib/jvm/x/release', "found_by": ["/usr/lib/jvm/*"]}
    if version is not None:
        details["version_exact"] = exact
    if vendor:
        details["vendor"] = vendor
    if store:
        details.update(trust_store="/usr/lib/jvm/x/lib/security/cacerts", trust_store_id="trust-store:cacerts@?:0123456789ab")
    return Component("java", "java", version, "/usr/lib/jvm/x", "JDK/JRE home", "image /srv/image", details=details)


def findings(pack, component):
    return list(evaluate([pack], [component], ReleaseDates({})))


@pytest.mark.parametrize(("version", "vendor", "exact", "severity", "status"), [
    ("1.3.1_20", None, True, "high", "unsupported"),
    ("1.4.1_07", None, True, "high", "unsupported"),
    ("1.4.2", None, True, "high", "unsupported"),
    ("1.4.2_11", None, True, "high", "unsupported"),
    ("1.4.2_12", None, True, "info", "supported"),
    ("1.4.2_19", "Oracle", True, "info", "supported"),
    ("1.5.0", None, True, "high", "unsupported"),
    ("1.5.0_01", None, True, "high", "unsupported"),
    ("1.5.0_02", None, True, "info", "supported"),
    ("1.6.0", None, True, "info", "supported"),
    ("1.7.0", None, False, "info", "supported"),  # JDK 7's release file: every 7 is supported
    ("17", "OpenJDK", False, "info", "supported"),
    ("25.0.3", "Eclipse Temurin", True, "info", "supported"),
    ("1.4.2", None, False, "low", "verify"),  # java-1.4.2-…: the update decides, and was not read
    ("1.5.0", None, False, "low", "verify"),
    (None, None, True, "low", "verify"),
    ("1.5.0", "IBM", True, "low", "verify"),  # IBM numbers 5 by service refresh
    ("1.6.0", "IBM", True, "info", "supported"),
])
def test_ats_matrix_boundaries(packs, version, vendor, exact, severity, status):
    (finding,) = findings(packs["dynamodb-ats"], jvm(version, vendor, exact))
    assert (finding.rule, finding.severity) == ("ats-java-matrix", severity)
    assert {"supported": "documented by AWS as trusting", "verify": "verify that it trusts",
            "unsupported": "older than the Java releases"}[status] in finding.title


def test_ats_finding_shows_what_was_read_the_documented_row_and_links_the_cacerts_result(packs):
    (finding,) = findings(packs["dynamodb-ats"], jvm("1.4.2_11", "Oracle"))
    documented, where, why, store = finding.evidence
    assert documented.type == "documented" and documented.summary.startswith("AWS: Java 1.4.2_12 and later 1.4.2 updates")
    assert documented.source.endswith("ats-certs.html")
    assert (where.type, where.source) == ("observed", "/usr/lib/jvm/x")
    assert where.summary == '/usr/lib/jvm/x: JAVA_VERSION="1.4.2_11" in /usr/lib/jvm/x/release'
    assert why.summary == "Java 1.4.2_11 (Oracle): Older than 1.4.2_12, the first Java 1.4 release the guide names"
    assert "component trust-store:cacerts@?:0123456789ab" in store.summary
    assert finding.remediation.startswith("Older than 1.4.2_12, the first Java 1.4 release the guide names. Move")
    (unread,) = findings(packs["dynamodb-ats"], jvm("1.4.2_11", store=False))
    assert unread.evidence[-1].summary.startswith("no trust store of this JVM was read")


@pytest.mark.parametrize(("version", "vendor", "exact", "severity", "title"), [
    ("1.4.2_12", None, True, "high", "cannot negotiate TLS 1.2"),
    ("1.5.0_22", None, True, "high", "cannot negotiate TLS 1.2"),
    ("1.6.0_45", None, True, "high", "cannot negotiate TLS 1.2"),
    ("1.6.0_115", None, True, "high", "does not use TLS 1.2 for its clients by default"),
    ("1.6.0_121", None, True, None, None),
    ("1.7.0", None, True, "high", "does not use TLS 1.2 for its clients by default"),
    ("1.7.0_80", None, True, "high", "does not use TLS 1.2 for its clients by default"),
    ("1.7.0_111", None, True, "medium", "verify that its clients use TLS 1.2"),
    ("1.7.0_131", None, True, None, None),
    ("1.7.0", None, False, "medium", "verify that its clients use TLS 1.2"),  # JDK 7's release file
    ("1.8.0_292", None, True, None, None),
    ("8", "OpenJDK", False, None, None),
    ("21", None, True, None, None),
    ("1.6.0", "IBM", True, "medium", "verify that its clients use TLS 1.2"),
    ("1.8.0_281", "IBM", True, None, None),
    (None, None, True, "medium", "verify that its clients use TLS 1.2"),
])
def test_tls12_matrix_flags_java_6_and_7_client_defaults(packs, version, vendor, exact, severity, title):
    found = findings(packs["tls12"], jvm(version, vendor, exact, store=False))
    assert [(f.severity, title in f.title) for f in found] == ([(severity, True)] if severity else [])


def test_every_table_ends_open_and_its_bounds_are_in_order():
    for table in MATRIX.values():
        assert table["unknown_version"]["status"] == "verify" and "vendors" not in table["rows"][-1]
        for row in table["rows"]:
            bounds = [parse_java_version(band["below"]).key for band in row["bands"][:-1]]
            assert bounds == sorted(bounds) and "below" not in row["bands"][-1]


def test_judge_without_a_vendor_row_match_uses_the_general_row():
    verdict = judge(MATRIX["ats"], jvm("1.5.0", "Azul Zulu"))
    assert (verdict.status, verdict.label) == ("unsupported", "Java 1.5.0 (Azul Zulu)")


# -- java -version, with --runtime -------------------------------------------------------------------

def fake_java(home, script):
    java = home / "bin" / "java"
    java.write_text("#!/bin/sh\n" + script)
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return java


@pytest.fixture
def unnamed_home(tmp_path):
    """A home whose files tell no version: no release file, a name without one."""
    return make_home(tmp_path, "/vendor/jvm-a", layout="jre/lib")


def test_runtime_reads_java_version_from_stderr_with_a_clean_environment(monkeypatch, tmp_path, unnamed_home):
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-javaagent:/tmp/agent.jar")
    env_seen = tmp_path / "env.txt"
    fake_java(unnamed_home, f"env > '{env_seen}'\npwd >> '{env_seen}'\ncat >&2 <<'EOF'\n{ORACLE_1_4_2}EOF\n")
    view = View(str(tmp_path))
    (home,) = find_java_homes(view, {"JAVA_HOME": str(unnamed_home)}.get, runtime=True).homes
    assert (home.version, home.version_source, home.vendor, home.parsed.exact) == ("1.4.2_12", "java -version", "Oracle", True)
    assert home.version_read == (f'{unnamed_home}/bin/java -version: java version "1.4.2_12" / '
                                 "Java(TM) 2 Runtime Environment, Standard Edition (build 1.4.2_12-b03)")
    seen = env_seen.read_text()
    assert "JAVA_TOOL_OPTIONS" not in seen and "HOME=" not in seen and str(tmp_path) not in seen.splitlines()[-1]


def test_runtime_refines_a_version_without_its_update(tmp_path):
    home = make_home(tmp_path, "/jvm/jdk7", 'JAVA_VERSION="1.7.0"\n', layout="jre/lib")
    fake_java(home, "echo 'java version \"1.7.0_80\"' >&2\necho 'Java(TM) SE Runtime Environment (build 1.7.0_80-b15)' >&2\n")
    (found,) = find_java_homes(View(str(tmp_path)), {"JAVA_HOME": str(home)}.get, runtime=True).homes
    assert (found.version, found.version_source, found.parsed.exact) == ("1.7.0_80", "java -version", True)
    (release_only,) = find_java_homes(View(str(tmp_path)), {"JAVA_HOME": str(home)}.get).homes
    assert (release_only.version, release_only.version_source, release_only.parsed.exact) == ("1.7.0", "release file", False)


def test_without_runtime_nothing_is_run(tmp_path, unnamed_home):
    ran = tmp_path / "ran"
    fake_java(unnamed_home, f"touch '{ran}'\n")
    (home,) = find_java_homes(View(str(tmp_path)), {"JAVA_HOME": str(unnamed_home)}.get).homes
    assert (home.version, home.version_source) == (None, None) and not ran.exists()


def test_a_hanging_java_is_killed_with_its_children_within_the_timeout(monkeypatch, tmp_path, unnamed_home):
    monkeypatch.setattr(java_module, "RUNTIME_TIMEOUT", 1.0)
    child = tmp_path / "child.pid"
    fake_java(unnamed_home, f"sleep 60 &\necho $! > '{child}'\nwait\n")
    started = time.monotonic()
    javas = find_java_homes(View(str(tmp_path)), {"JAVA_HOME": str(unnamed_home)}.get, runtime=True)
    assert time.monotonic() - started < 4
    assert [home.version for home in javas.homes] == [None]
    assert [e.message for e in javas.errors] == ["`java -version` did not end within 1 s; killed"]
    assert not alive(int(child.read_text()))


def test_a_java_that_prints_no_version_is_an_error(tmp_path, unnamed_home):
    fake_java(unnamed_home, "echo 'Error: could not find libjava.so' >&2\nexit 1\n")
    javas = find_java_homes(View(str(tmp_path)), {"JAVA_HOME": str(unnamed_home)}.get, runtime=True)
    assert [home.version for home in javas.homes] == [None]
    assert [e.message for e in javas.errors] == ["`java -version` printed no version: 'Error: could not find libjava.so'"]


def alive(pid):
    """Whether the process runs (a zombie waiting for its reaper does not)."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().split(") ")[-1].startswith("Z"):
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


# -- a scan of an image ------------------------------------------------------------------------------

def test_scan_of_an_image_reports_each_jdk_with_its_version_its_store_and_both_rules(monkeypatch, tmp_path, image):
    env_file = tmp_path / "service.env"
    env_file.write_text("JAVA_HOME=/usr/java/j2sdk1.4.2_11\nPATH=/usr/bin:/bin\n")
    report = scan_json("--root", image, "--env-file", env_file, "--pack", "dynamodb-ats", "--pack", "tls12")
    javas = {c["location"]: c for c in report["components"] if c["kind"] == "java"}
    old = javas["/usr/java/j2sdk1.4.2_11"]
    assert (old["version"], old["details"]["version_source"]) == ("1.4.2_11", "directory name")
    assert old["details"]["found_by"] == ["JAVA_HOME=/usr/java/j2sdk1.4.2_11", "/usr/java/*"]
    stores = {c["id"]: c for c in report["components"] if c["kind"] == "trust-store"}
    assert stores[old["details"]["trust_store_id"]]["location"] == "/usr/java/j2sdk1.4.2_11/jre/lib/security/cacerts"
    debian = javas["/usr/lib/jvm/java-17-openjdk-amd64"]
    assert stores[debian["details"]["trust_store_id"]]["location"] == "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts"
    by_rule = {(f["rule"], f["component"]): f["severity"] for f in report["findings"]}
    assert by_rule[("ats-java-matrix", old["id"])] == "high"
    assert by_rule[("tls12-java-client-default", old["id"])] == "high"
    assert by_rule[("ats-java-matrix", debian["id"])] == "info"
    assert ("tls12-java-client-default", debian["id"]) not in by_rule
