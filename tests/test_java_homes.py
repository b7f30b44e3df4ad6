"""Java homes recognised by what a JVM is (a launcher with a release file, an rt.jar or a versioned name), the
version in rt.jar's manifest, and a JVM whose cacerts is missing: reported, with a critical finding.

The rt.jar manifests are those of Sun's Java 1.4.2 and of Oracle's Java 8 reference build, in the order and
with the CRLF line ends the jar tool writes; the jars are written as the jar tool writes them (deflated entries
whose sizes follow the data) unless a test says otherwise."""

import io
import shutil
import subprocess
import zipfile

import pytest
from hypothesis import given, settings, strategies as st

from auditor.collect.platform.jar import JarError, main_attributes, manifest_text
from auditor.collect.platform.java import find_java_homes
from auditor.fs import View
from conftest import findings_for, scan_json
from fuzzing import fuzz
from test_java_versions import homes_by_name, link

SUN_1_4_2_12 = ("Manifest-Version: 1.0\r\n"
                "Specification-Title: Java Platform API Specification\r\n"
                "Specification-Version: 1.4\r\n"
                "Implementation-Title: Java Runtime Environment\r\n"
                "Implementation-Version: 1.4.2_12\r\n"
                "Created-By: 1.4.2_12 (Sun Microsystems Inc.)\r\n"
                "Implementation-Vendor: Sun Microsystems, Inc.\r\n"
                "Specification-Vendor: Sun Microsystems, Inc.\r\n"
                "\r\n"
                "Name: javax/swing/JScrollPane.class\r\n"
                "Java-Bean: True\r\n"
                "\r\n")
ORACLE_RI_1_8_0_41 = ("Manifest-Version: 1.0\r\n"
                      "Implementation-Vendor: N/A\r\n"
                      "Implementation-Title: Java Runtime Environment\r\n"
                      "Implementation-Version: 1.8.0_41\r\n"
                      "Specification-Vendor: Oracle Corporation\r\n"
                      "Created-By: 1.7.0_07 (Oracle Corporation)\r\n"
                      "Specification-Title: Java Platform API Specification\r\n"
                      "Specification-Version: 1.8\r\n"
                      "\r\n")
DEBIAN_17_RELEASE = ('IMPLEMENTOR="Debian"\nJAVA_RUNTIME_VERSION="17.0.15+6-Debian-1deb12u1"\nJAVA_VERSION="17.0.15"\n'
                     'JAVA_VERSION_DATE="2025-04-15"\nLIBC="gnu"\nOS_ARCH="x86_64"\nOS_NAME="Linux"\nSOURCE=""\n')
TEMURIN_17_RELEASE = ('IMPLEMENTOR="Eclipse Adoptium"\nIMPLEMENTOR_VERSION="Temurin-17.0.9+9"\nJAVA_RUNTIME_VERSION="17.0.9+9"\n'
                      'JAVA_VERSION="17.0.9"\nJAVA_VERSION_DATE="2023-10-17"\nLIBC="gnu"\nOS_ARCH="x86_64"\nOS_NAME="Linux"\n')


class Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it then writes each entry's sizes after its data, as the jar tool does."""

    def __init__(self, sink):
        self.sink = sink

    def writable(self):
        return True

    def write(self, data):
        return self.sink.write(data)


def write_jar(path, manifest, streamed=True, classes=("java/lang/Object.class", "java/lang/String.class")):
    """A jar as the jar tool lays it out: META-INF/, META-INF/MANIFEST.MF, then the classes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        with zipfile.ZipFile(Unseekable(handle) if streamed else handle, "w", zipfile.ZIP_DEFLATED) as jar:
            jar.writestr(entry("META-INF/"), b"")
            jar.writestr(entry("META-INF/MANIFEST.MF"), manifest)
            for name in classes:
                jar.writestr(entry(name), b"\xca\xfe\xba\xbe\x00\x00\x00\x2e" + name.encode() * 40)
    return path


def entry(name):
    """Deflated, as the jar tool writes every entry, and dated: the same bytes every run."""
    info = zipfile.ZipInfo(name, date_time=(2006, 3, 23, 10, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def launcher(home, name="java"):
    (home / "bin").mkdir(parents=True, exist_ok=True)
    (home / "bin" / name).write_text("")


# -- the manifest, from a jar's first bytes ----------------------------------------------------------

@pytest.mark.parametrize("streamed", [True, False], ids=["sizes after the data (jar tool)", "sizes in the headers"])
def test_the_manifest_is_read_from_the_first_entries(tmp_path, streamed):
    jar = write_jar(tmp_path / "rt.jar", SUN_1_4_2_12, streamed)
    head = jar.read_bytes()[:4096]
    attributes = main_attributes(manifest_text(head))
    assert attributes["Implementation-Version"] == "1.4.2_12"
    assert attributes["Implementation-Vendor"] == "Sun Microsystems, Inc."
    assert "Name" not in attributes and "Java-Bean" not in attributes  # a class's section is not the main one


@pytest.mark.skipif(shutil.which("jar") is None, reason="the JDK's jar tool is not installed")
def test_a_jar_written_by_the_jar_tool(tmp_path):
    (tmp_path / "classes" / "java" / "lang").mkdir(parents=True)
    (tmp_path / "classes" / "java" / "lang" / "Object.class").write_bytes(b"\xca\xfe\xba\xbe")
    (tmp_path / "manifest.txt").write_text("Implementation-Version: 1.8.0_41\nImplementation-Vendor: N/A\n")
    subprocess.run(["jar", "cfm", str(tmp_path / "rt.jar"), str(tmp_path / "manifest.txt"), "-C", str(tmp_path / "classes"), "java"],
                   check=True, capture_output=True)
    attributes = main_attributes(manifest_text((tmp_path / "rt.jar").read_bytes()[:65536]))
    assert (attributes["Implementation-Version"], attributes["Implementation-Vendor"]) == ("1.8.0_41", "N/A")


def test_a_continued_manifest_line_is_one_value():
    assert main_attributes("Manifest-Version: 1.0\r\nImplementation-Vendor: Sun Micro\r\n systems, Inc.\r\n\r\n") == {
        "Manifest-Version": "1.0", "Implementation-Vendor": "Sun Microsystems, Inc."}


def test_bytes_without_a_manifest_say_why(tmp_path):
    with pytest.raises(JarError, match="not a jar"):
        manifest_text(b"\x7fELF" + bytes(100))
    late = tmp_path / "late.jar"
    with zipfile.ZipFile(late, "w", zipfile.ZIP_DEFLATED) as jar:
        for index in range(20):
            jar.writestr(f"java/lang/C{index}.class", bytes(range(64)))
        jar.writestr("META-INF/MANIFEST.MF", SUN_1_4_2_12)
    with pytest.raises(JarError, match="no META-INF/MANIFEST.MF among its first entries"):
        manifest_text(late.read_bytes())
    jar = write_jar(tmp_path / "rt.jar", SUN_1_4_2_12).read_bytes()
    with pytest.raises(JarError, match="runs past the bytes read"):
        manifest_text(jar[:jar.index(b"META-INF/MANIFEST.MF") + 24])


@settings(fuzz)
@given(data=st.data(), streamed=st.booleans())
def test_a_damaged_jar_gives_a_manifest_or_a_reason(tmp_path_factory, data, streamed):
    jar = bytearray(write_jar(tmp_path_factory.mktemp("jar") / "rt.jar", SUN_1_4_2_12, streamed).read_bytes())
    for _ in range(data.draw(st.integers(0, 6))):
        jar[data.draw(st.integers(0, len(jar) - 1))] = data.draw(st.integers(0, 255))
    head = bytes(jar[:data.draw(st.integers(0, len(jar)))])
    try:
        text = manifest_text(head)
    except JarError as exc:
        assert str(exc)
    else:
        assert isinstance(text, str) and len(text) <= 64 * 1024
        main_attributes(text)


# -- what a Java home is --------------------------------------------------------------------------------

@pytest.fixture
def image(tmp_path):
    """JVMs without their cacerts, each recognised by another mark:
    - Temurin's Docker layout, /opt/java/openjdk: a launcher and a release file, no lib/security at all;
    - Debian's OpenJDK 17, whose lib/security/cacerts links to /etc/ssl/certs/java/cacerts, which the
      ca-certificates-java package writes and which is absent here (the package is not installed);
    - Sun's j2sdk1.4.2_12: its name, and jre/lib/rt.jar, no cacerts;
    - a Java 8 JRE shipped inside an application, /opt/app/runtime: only lib/rt.jar says what it is."""
    root = tmp_path / "image"
    temurin = root / "opt/java/openjdk"
    launcher(temurin)
    (temurin / "release").write_text(TEMURIN_17_RELEASE)
    debian = root / "usr/lib/jvm/java-17-openjdk-amd64"
    launcher(debian)
    (debian / "release").write_text(DEBIAN_17_RELEASE)
    (debian / "lib/security").mkdir(parents=True)
    link(root, "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts", "/etc/ssl/certs/java/cacerts")
    (root / "etc/ssl/certs").mkdir(parents=True)
    sun = root / "usr/java/j2sdk1.4.2_12"
    launcher(sun)
    launcher(sun / "jre")
    write_jar(sun / "jre/lib/rt.jar", SUN_1_4_2_12)
    runtime = root / "opt/app/runtime"
    launcher(runtime)
    write_jar(runtime / "lib/rt.jar", ORACLE_RI_1_8_0_41)
    (root / "opt/app/bin").mkdir(parents=True)
    (root / "opt/app/bin/start.sh").write_text("#!/bin/sh\nexec ../runtime/bin/java -jar app.jar\n")
    return root


def test_each_jvm_is_found_by_what_it_is_with_its_version(image):
    homes = homes_by_name(image)
    assert {name: (h.version, h.version_source, h.vendor) for name, h in homes.items()} == {
        "opt/java/openjdk": ("17.0.9", "release file", "Eclipse Temurin"),
        "usr/lib/jvm/java-17-openjdk-amd64": ("17.0.15", "release file", "OpenJDK"),
        "usr/java/j2sdk1.4.2_12": ("1.4.2_12", "rt.jar manifest", "Sun"),
        "opt/app/runtime": ("1.8.0_41", "rt.jar manifest", None),
    }
    assert homes["usr/java/j2sdk1.4.2_12"].version_read == (
        "Implementation-Version: 1.4.2_12 in /usr/java/j2sdk1.4.2_12/jre/lib/rt.jar (META-INF/MANIFEST.MF)")
    assert homes["usr/java/j2sdk1.4.2_12"].parsed.exact
    assert find_java_homes(View(str(image), image=True), {}.get).errors == []


@pytest.mark.parametrize(("mark", "found"), [
    ("release", True), ("lib/rt.jar", True), ("jre/lib/rt.jar", True), ("lib/security/", True), ("nothing", False),
])
def test_a_launcher_is_a_home_only_with_a_mark_of_a_jvm(tmp_path, mark, found):
    home = tmp_path / "image/opt/vendor/runtime"
    launcher(home)
    if mark == "release":
        (home / "release").write_text('JAVA_VERSION="11.0.2"\n')
    elif mark.endswith("rt.jar"):
        write_jar(home / mark, ORACLE_RI_1_8_0_41)
    elif mark.endswith("/"):
        (home / mark).mkdir(parents=True)
    assert list(homes_by_name(tmp_path / "image")) == (["opt/vendor/runtime"] if found else [])


@pytest.mark.parametrize(("name", "found"), [
    ("jdk1.8.0_292", True), ("j2sdk1.4.2_12", True), ("jre1.6.0_45", True), ("zulu11.50.19-ca-jdk11.0.12-linux_x64", True),
    ("tools", False), ("node-18.19.0", False), ("conda", False),
])
def test_a_launcher_in_a_folder_named_for_a_java_version_is_a_home(tmp_path, name, found):
    launcher(tmp_path / "image/opt" / name)
    assert list(homes_by_name(tmp_path / "image")) == ([f"opt/{name}"] if found else [])


def test_rt_jar_gives_jdk_7_its_update(tmp_path):
    home = tmp_path / "image/usr/java/jdk7"
    launcher(home)
    (home / "release").write_text('JAVA_VERSION="1.7.0"\nOS_NAME="Linux"\n')
    write_jar(home / "jre/lib/rt.jar", ORACLE_RI_1_8_0_41.replace("1.8.0_41", "1.7.0_80").replace("Version: 1.8", "Version: 1.7"))
    (found,) = homes_by_name(tmp_path / "image").values()
    assert (found.version, found.version_source, found.parsed.exact) == ("1.7.0_80", "rt.jar manifest", True)


def test_only_the_head_of_rt_jar_is_read(tmp_path):
    """A sparse 2 GB rt.jar: the manifest is in its first entries, and nothing past them is read."""
    jar = write_jar(tmp_path / "image/opt/jre/lib/rt.jar", SUN_1_4_2_12)
    launcher(tmp_path / "image/opt/jre")
    with open(jar, "r+b") as handle:
        handle.truncate(2 * 1024**3)
    (found,) = homes_by_name(tmp_path / "image").values()
    assert (found.version, found.version_source) == ("1.4.2_12", "rt.jar manifest")


def test_an_rt_jar_that_is_no_jar_is_an_error_entry_and_the_name_still_tells(tmp_path):
    home = tmp_path / "image/usr/java/jre1.6.0_45"
    launcher(home)
    (home / "lib").mkdir()
    (home / "lib/rt.jar").write_bytes(b"<html>404 Not Found</html>")
    javas = find_java_homes(View(str(tmp_path / "image"), image=True), {}.get)
    (found,) = javas.homes
    assert (found.version, found.version_source) == ("1.6.0_45", "directory name")
    assert [(e.location, e.message) for e in javas.errors] == [
        ("/usr/java/jre1.6.0_45/lib/rt.jar", "cannot read its manifest: not a jar (no zip entry at its start)")]


# -- a JVM without its cacerts, in a scan ------------------------------------------------------------

def test_scan_reports_each_jvm_and_a_critical_finding_for_its_missing_cacerts(image):
    report = scan_json("--root", image)
    javas = {c["location"]: c for c in report["components"] if c["kind"] == "java"}
    stores = {c["id"]: c for c in report["components"] if c["kind"] == "trust-store"}
    expected = {
        "/opt/java/openjdk": ("17.0.9", "release file", "/opt/java/openjdk/lib/security/cacerts", "does not exist"),
        "/usr/lib/jvm/java-17-openjdk-amd64": ("17.0.15", "release file", "/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts",
                                               "is a link to /etc/ssl/certs/java/cacerts, which does not exist"),
        "/usr/java/j2sdk1.4.2_12": ("1.4.2_12", "rt.jar manifest", "/usr/java/j2sdk1.4.2_12/jre/lib/security/cacerts", "does not exist"),
        "/opt/app/runtime": ("1.8.0_41", "rt.jar manifest", "/opt/app/runtime/lib/security/cacerts", "does not exist"),
    }
    assert set(javas) == set(expected)
    for home, (version, source, cacerts, state) in expected.items():
        java = javas[home]
        assert (java["version"], java["details"]["version_source"]) == (version, source)
        store = stores[java["details"]["trust_store_id"]]
        assert (store["location"], store["details"]["format"], store["details"]["problem"]) == (cacerts, "missing", state)
        (finding,) = findings_for(report, store)
        assert (finding["rule"], finding["severity"]) == ("ats-store-missing", "critical")
        assert finding["title"] == f"{cacerts} {state}: Java {version} cannot verify any server: every TLS connection fails"
        observed = [e["summary"] for e in finding["evidence"] if e["type"] == "observed"]
        assert observed[0] == f"{cacerts} {state}"
        assert observed[1].startswith(f"Java {version} at {home}: ") and "trustAnchors parameter must be non-empty" in observed[1]
        assert "ca-certificates-java" in finding["remediation"] and "javax.net.ssl.trustStore" in finding["remediation"]
    debian = stores[javas["/usr/lib/jvm/java-17-openjdk-amd64"]["details"]["trust_store_id"]]
    assert debian["details"]["link_target"] == "/etc/ssl/certs/java/cacerts"
