"""Property tests of the platform and SDK-manifest parsers: the OS identity files (os-release, lsb-release, the
Red Hat family's release lines, debian_version, macOS's SystemVersion.plist as XML and binary), Java's version
texts, `release` files and installer folder names, and the manifests of the other languages' AWS SDKs.

Each parser gets raw bytes, then documents built like the real ones: generated from the formats' rules, or
the fixtures mutated. A result or an error entry are the only acceptable outcomes; the scan-like calls and
the checks on what comes out (shapes, findings of the shipped packs, the JSON report against its schema)
are fuzz/targets_platform.py's, which the atheris runner uses too.
"""

import json
import os
import plistlib
import re
import time
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import example, given, settings, strategies as st

from auditor.collect.platform.java import parse_java_version, version_from_name
from auditor.checks.matrices import judge_os as judge
from auditor.collect.platform.os_identity import PRECISE_VERSION, RELEASE_NAMES
from auditor.collect.sdks import ManifestError, npm, xml as manifest_xml
from conftest import FIXTURES
from fuzz_targets import MODULES
from fuzzing import fuzz
from test_java_versions import CORRETTO_17, IBM_6, ORACLE_1_4_2, ORACLE_21, ZULU_8
from test_os_identity import MATRIX as OS_MATRIX

targets = MODULES["platform"]

ROOTS, MANIFESTS = FIXTURES / "os-roots", FIXTURES / "manifests"
PLIST = targets.OS_FILES["SystemVersion.plist"]
# A refused document must be refused at once: these bounds are hundreds of times what the readers need. Counted in
# this process's CPU time (time.process_time), which other work on the machine does not stretch as it does the clock.
QUICK = 2.0


@contextmanager
def image(files: dict[str, bytes]):
    """A directory holding `files` (path as the target names it -> content) for one example. Examples share
    one temporary directory and remove the files they wrote: removing a directory costs milliseconds here,
    and tmp_path would be shared by all the examples anyway."""
    root = targets.workdir("tests")
    written = [targets.write(root, path, data) for path, data in files.items()]
    try:
        yield root
    finally:
        for path in written:
            os.unlink(path)


def identify(files: dict[str, bytes], report: bool = False):
    """The OS a scan reads from an image holding `files`, checked and judged (the JSON report is checked
    where a test asks: the shapes it would catch are asserted on every example)."""
    with image(files) as root:
        return targets.identify(root, report)


def scan_manifest(name: str, data: bytes, report: bool = False):
    with image({}) as root:
        try:
            return targets.scan_manifest(root, name, data, report)
        finally:
            os.unlink(os.path.join(root, name))


def java_home(path: str, release: bytes):
    """The Java home at `path` of an image, with this release file."""
    with image({f"{path}/release": release}) as root:
        try:
            return targets.describe_java_home(root, path, report=False)
        finally:
            os.unlink(os.path.join(root, path.lstrip("/"), "lib/security/cacerts"))


def installed_java_home(path: str):
    """The Java home at `path` of an image, in an installer's folder (`path` up to /Contents/Home). The folder
    of the last example is moved into place and parked again afterwards, where no search looks: making and
    removing three folders an example cost more than the rest of the test."""
    root = targets.workdir("installers")
    folder = os.path.join(root, path.removesuffix("/Contents/Home").lstrip("/"))
    parked = os.path.join(root, "parked", "bundle" if path.endswith("/Contents/Home") else "folder")
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    if os.path.isdir(parked):
        os.rename(parked, folder)
    try:
        return targets.describe_java_home(root, path, report=False)
    finally:
        os.makedirs(os.path.dirname(parked), exist_ok=True)
        os.rename(folder, parked)


@lru_cache(maxsize=None)
def fixture_text(path: str, lines: int = 300) -> str:
    """A fixture's first lines: the large lockfiles' first 300 hold SDK packages and every construct of the
    format, and mutations of a short file land on them more often."""
    return "".join((MANIFESTS / path).read_text().splitlines(keepends=True)[:lines])


@lru_cache(maxsize=None)
def fixture_json(path: str, items: int = 30) -> str:
    """A JSON fixture with each object and array cut to its first items (the SDK packages come first)."""
    def cut(value):
        if isinstance(value, dict):
            return {key: cut(item) for key, item in list(value.items())[:items]}
        if isinstance(value, list):
            return [cut(item) for item in value[:items]]
        return value
    return json.dumps(cut(json.loads((MANIFESTS / path).read_text())))


def lines_of(text: str) -> str:
    return "".join(f"{line}\n" for line in text)


# Text that breaks parsers: quotes, escapes, NUL, line separators other than \n, huge numbers, shell syntax.
NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"', "'", "\\", "\x00", "\r", "\x0b", "\x1c", "\x85", "\u2028", "\ufeff", "9" * 5000, "1." + "9" * 5000,
                     "$(reboot)", "`id`", "#", "=", "a=b=c", " release ", "release 5", "(", ")", "\t", " " * 300,
                     "-1", "0.0.0.0.0.0.0.0", "١٢", "v1.2.3", "NaN", "[", "{", "<", "&amp;", "%s"]),
)


# -- raw input ----------------------------------------------------------------------------------------

RAW = st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")))


# The targets' parsers, called as the targets call them, without rendering a report for each example.
RAW_TARGETS = {**{f"os-{name}": lambda data, path=path: identify({path: data}) for name, path in targets.OS_FILES.items()},
               "java-version-text": targets.java_version_text, "java-directory-name": targets.java_directory_name,
               "java-release-file": lambda data: java_home(targets.JAVA_HOME, data),
               **{f"manifest-{name}": lambda data, name=name: scan_manifest(name, data) for name in targets.MANIFESTS}}


def test_the_raw_tests_cover_every_target():
    assert RAW_TARGETS.keys() == targets.TARGETS.keys()


# Raw bytes rarely pass a format's first check: a fifth of the example count per parser is enough for them.
@pytest.mark.parametrize("name", sorted(RAW_TARGETS))
@settings(fuzz, max_examples=max(fuzz.max_examples // 5, 10))
@given(data=RAW)
def test_every_parser_takes_any_bytes(name, data):
    RAW_TARGETS[name](data)


def test_every_target_takes_its_real_fixtures():
    """The fixtures the structured tests mutate go through the targets as a scan reads them, with results."""
    seeds = {f"os-{name}": list(ROOTS.glob(f"*{path}")) for name, path in targets.OS_FILES.items()}
    seeds.update({f"manifest-{name}": list(MANIFESTS.rglob(name)) for name in targets.MANIFESTS})
    assert [name for name, paths in seeds.items() if not paths] == ["manifest-Directory.Packages.props"]
    for name, paths in seeds.items():
        for path in paths:
            targets.TARGETS[name](path.read_bytes())
    for target in targets.TARGETS.values():
        target(b"")
    found = scan_manifest("pom.xml", (MANIFESTS / "java/maven/pom.xml").read_bytes(), report=True)
    assert found.components and not found.errors


# -- the operating system -----------------------------------------------------------------------------

LOWER, ALNUM = "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def word(first: str, rest: str, longest: int):
    """A word of `first` then up to `longest` characters of `rest` (cheaper to draw than st.from_regex)."""
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=longest))


def dotted(levels: tuple, largest: int = 9999):
    return st.lists(st.integers(0, largest), min_size=levels[0], max_size=levels[1]).map(lambda ns: ".".join(map(str, ns)))


PLAIN_ID = word(LOWER + LOWER.upper(), ALNUM + "._-", 15)
PLAIN_VERSION = dotted((1, 4))
QUOTES = st.sampled_from(["{}", '"{}"', "'{}'"])


@st.composite
def assignments(draw, name_key: str, version_key: str, other_keys: tuple):
    """KEY=value lines as os-release(5) and lsb-release write them, and the name and version a reader must
    take from them (the last plain assignment of each wins). Around them: other keys with any value, quoted
    or not, comments that look like assignments, lines that are not assignments, CRLF endings."""
    lines, name, version = [], None, None
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["name", "version", "other", "comment", "junk", "blank"]))
        if kind == "name":
            name = draw(PLAIN_ID)
            lines.append(f"{name_key}=" + draw(QUOTES).format(name))
        elif kind == "version":
            version = draw(PLAIN_VERSION)
            lines.append(f"{version_key}=" + draw(QUOTES).format(version))
        elif kind == "other":
            quoted = draw(st.sampled_from(['{}', '"{}"', "'{}'", '"{}'])).format(draw(NASTY_TEXT))
            lines.append(f"{draw(st.sampled_from(other_keys))}={quoted}")
        elif kind == "comment":
            lines.append(f"# {name_key}=evil {version_key}=666")
        elif kind == "junk":
            not_an_assignment = st.characters(blacklist_characters="=\n\r", blacklist_categories=("Cs",))
            lines.append(draw(st.text(alphabet=not_an_assignment, max_size=30)))
        else:
            lines.append("")
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return "".join(line + ending for line in lines), name, version


OS_RELEASE = assignments("ID", "VERSION_ID", ("NAME", "PRETTY_NAME", "ID_LIKE", "VERSION_CODENAME", "VERSION", "HOME_URL"))


@fuzz
@given(document=OS_RELEASE, where=st.sampled_from(["/etc/os-release", "/usr/lib/os-release"]),
       precise=st.one_of(st.none(), st.text(max_size=40), PLAIN_VERSION.map(lambda v: f"CentOS Linux release {v} (Core)")))
@example(document=("ID=centos\nVERSION_ID=" + "9" * 5000 + "\n", "centos", "9" * 5000), where="/etc/os-release", precise=None)
@example(document=('ID="debian"\r\nVERSION_ID="12"\r\n', "debian", "12"), where="/etc/os-release", precise="12.15")
@example(document=('ID=\nVERSION_ID="7.9"\n', None, "7.9"), where="/etc/os-release", precise=None)  # atheris: an empty name
def test_os_release_gives_its_last_plain_id_and_version(document, where, precise):
    text, os_id, version = document
    files = {where: text.encode()}
    if precise is not None and os_id and os_id.lower() in PRECISE_VERSION:
        files[PRECISE_VERSION[os_id.lower()]] = precise.encode()
    component, errors = identify(files)
    assert errors == []
    assert (component.name, component.location) == ((os_id or "linux").lower(), where)
    assert component.version == version or (version and component.version.startswith(f"{version}."))


@fuzz
@given(document=assignments("DISTRIB_ID", "DISTRIB_RELEASE", ("DISTRIB_CODENAME", "DISTRIB_DESCRIPTION", "LSB_VERSION")))
@example(document=('DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=8.10\nDISTRIB_DESCRIPTION="Ubuntu 8.10\n', "Ubuntu", "8.10"))
def test_lsb_release_names_a_system_only_with_both_fields(document):
    text, name, version = document
    component, errors = identify({"/etc/lsb-release": text.encode()})
    assert errors == []
    if name and version:
        assert (component.name, component.version) == (name.lower(), version)
    else:
        assert component is None


WORD = word(LOWER + LOWER.upper(), ALNUM, 8).filter(lambda w: w != "release")


@st.composite
def release_lines(draw):
    """'<name> release <version> (<codename>)' as the Red Hat family writes it, and what it says."""
    name = " ".join(draw(st.lists(st.one_of(WORD, st.sampled_from([p for p, _ in RELEASE_NAMES])), min_size=1, max_size=4)))
    version = draw(word("0123456789", ALNUM + "._-", 12))
    codename = draw(st.one_of(st.none(), st.text(alphabet="abcdefghij XYZ-.", max_size=12)))
    spaces = draw(st.sampled_from([" ", "  ", "\t", " " * 3000]))
    line = f"{name}{spaces}release{spaces}{version}" + ("" if codename is None else f" ({codename})")
    return line, name, version, codename


@fuzz
@given(release=release_lines(), path=st.sampled_from(["/etc/centos-release", "/etc/redhat-release", "/etc/system-release"]),
       rest=st.text(max_size=60))
@example(release=("Red Hat Enterprise Linux AS release 4 (Nahant Update 9)", "Red Hat Enterprise Linux AS", "4",
                  "Nahant Update 9"), path="/etc/redhat-release", rest="")
def test_release_line_gives_name_and_version(release, path, rest):
    line, name, version, codename = release
    component, errors = identify({path: f"{line}\n{rest}".encode()})
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
    assert errors == []
    assert component.name == next((known for prefix, known in RELEASE_NAMES if name.startswith(prefix)), slug)
    assert (component.version, component.details["name"], component.details.get("codename")) == (version, name, codename or None)


def test_a_long_release_line_without_the_word_is_passed_over_quickly():
    # The first regex backtracked over every split of the spaces: about 3 s for this 64 KiB line.
    line = "CentOS" + " " * 65000 + "x"
    started = time.process_time()
    component, errors = identify({"/etc/redhat-release": line.encode(), "/etc/debian_version": b"5.0.10\n"})
    assert time.process_time() - started < QUICK
    assert (component.name, component.version, errors) == ("debian", "5.0.10", [])


@fuzz
@given(line=st.one_of(PLAIN_VERSION, st.text(max_size=30)), trailer=st.sampled_from(["", "\n", "\r\n", "\n\nx\n"]))
@example(line="lenny/sid", trailer="\n")
@example(line=" ", trailer="\n\nx\n")
def test_debian_version_is_a_version_or_a_codename(line, trailer):
    text = line + trailer
    component, errors = identify({"/etc/debian_version": text.encode()})
    read = text.removeprefix("\ufeff")  # the reader takes a byte order mark for one
    first = read.strip().splitlines()[0].strip() if read.strip() else ""
    assert errors == []
    if not first:
        assert component is None
    elif re.fullmatch(r"\d+(?:\.\d+)*", first):
        assert (component.name, component.version) == ("debian", first)
    else:
        assert (component.name, component.version, component.details["codename"]) == ("debian", None, first)


PLIST_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn")), max_size=20)  # what XML can hold
PLIST_VALUES = st.recursive(
    st.one_of(PLIST_TEXT, st.integers(-(2 ** 63), 2 ** 63 - 1), st.floats(allow_nan=False, allow_infinity=False),
              st.booleans(), st.binary(max_size=20), st.datetimes(datetime(1901, 1, 1), datetime(2100, 1, 1))),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(PLIST_TEXT, children, max_size=3), max_leaves=8)


@st.composite
def mutations(draw, data: bytes):
    """`data`, unchanged or truncated, with bytes flipped, inserted or removed at drawn places."""
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(
                [b"\x00", b"\xff" * 8, b"<dict>" * 40, b"<!ENTITY a 'b'>", b"&a;", b"\xd1\x01\x01"])))
        else:
            del data[at:at + draw(st.integers(1, 16))]
    return bytes(data)


@fuzz
@given(version=st.one_of(PLAIN_VERSION, PLIST_TEXT, PLIST_VALUES), extra=st.dictionaries(PLIST_TEXT, PLIST_VALUES, max_size=4),
       binary=st.booleans(), data=st.data())
@example(version="10.4.11", extra={"ProductName": "Mac OS X"}, binary=False, data=None)
def test_system_version_plist_xml_and_binary(version, extra, binary, data):
    document = {**extra, "ProductVersion": version}
    written = plistlib.dumps(document, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML)
    component, errors = identify({PLIST: written})
    if isinstance(version, str):
        assert (component.name, component.version, errors) == ("macos", version or None, [])
    else:
        assert component is None and [e.message for e in errors] == ["no ProductVersion string in the property list"]
    if data is not None:  # the same document damaged: a result or an error entry
        identify({PLIST: data.draw(mutations(written))})


@fuzz
@given(data=st.data(), fixture=st.sampled_from(["macos-10.4.11", "macos-14"]))
def test_real_property_lists_damaged(data, fixture):
    identify({PLIST: data.draw(mutations((ROOTS / fixture / PLIST.lstrip("/")).read_bytes()))})


PLIST_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
PLIST_BODY = b'<plist version="1.0"><dict><key>ProductVersion</key><string>%s</string></dict></plist>'
BILLION_LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
                  + b"]>\n")
EXTERNAL_ENTITY = b'<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
PARAMETER_ENTITY = b'<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>\n'
EXTERNAL_DTD = b'<!DOCTYPE x SYSTEM "file:///etc/passwd">\n'
BOMBS = {"billion laughs": (BILLION_LAUGHS, b"&lol9;"), "external entity": (EXTERNAL_ENTITY, b"&secret;"),
         "parameter entity": (PARAMETER_ENTITY, b"x"), "external DTD": (EXTERNAL_DTD, b"x")}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_property_list_entities_are_refused_quickly(bomb):
    declaration, reference = BOMBS[bomb]
    started = time.process_time()
    component, errors = identify({PLIST: PLIST_HEAD + declaration + PLIST_BODY % reference})
    assert time.process_time() - started < QUICK
    assert "root:" not in repr((component, errors))  # nothing of /etc/passwd
    if bomb == "external DTD":  # named, never fetched: the document itself is read
        assert component.version == "x" and errors == []
    else:
        assert component is None and [e.message.split(":")[0] for e in errors] == ["not a property list"]


@pytest.mark.parametrize("body", [
    b'<plist version="1.0"><dict><key>ProductVersion</key><date>not a date</date></dict></plist>',  # AttributeError
    b'<plist version="1.0"><key>ProductVersion</key></plist>',  # IndexError
    b'<plist version="1.0"><dict><key>ProductVersion</key><integer>' + b"9" * 5000 + b"</integer></dict></plist>",
])
def test_property_lists_plistlib_chokes_on_are_error_entries(body):
    component, errors = identify({PLIST: PLIST_HEAD + body})
    assert component is None and len(errors) == 1 and errors[0].message.startswith("not a property list")


def test_a_huge_version_is_judged_unknown_not_a_crash():
    component, errors = identify({"/etc/os-release": b"ID=rhel\nVERSION_ID=" + b"9" * 5000 + b"\n"}, report=True)
    assert (component.version, errors) == ("9" * 5000, [])
    assert judge(OS_MATRIX, component).status == OS_MATRIX["unknown_version"]["status"] == "verify"


# -- Java ---------------------------------------------------------------------------------------------

@st.composite
def java_versions(draw):
    """A Java version as the JDKs write it, and its levels: 1.x.y_uu up to 8, $FEATURE.$INTERIM.$UPDATE from 9."""
    if draw(st.booleans()):
        major, minor = draw(st.integers(2, 8)), draw(st.integers(0, 9))
        update = draw(st.one_of(st.none(), st.integers(0, 999)))
        text = f"1.{major}.{minor}" + ("" if update is None else f"_{update:02d}")
        parts = (major, minor) + (() if update is None else (update,))
    else:
        parts = tuple(draw(st.lists(st.integers(0, 40), max_size=3)))
        parts = (draw(st.integers(9, 99)),) + parts
        text = ".".join(map(str, parts))
    build = draw(st.sampled_from(["", "+9", "-ea", "-b09", "+35-2724"]))
    return text + build, parts


JAVA_OUTPUTS = ('java version "{v}"\nJava(TM) SE Runtime Environment (build {v}-b01)\nJava HotSpot(TM) 64-Bit Server VM (mixed mode)\n',
                'openjdk version "{v}" 2023-10-17\nOpenJDK Runtime Environment Temurin (build {v})\n',
                'Picked up JAVA_TOOL_OPTIONS: -Dx="1.2"\nopenjdk version "{v}" LTS\n')


@fuzz
@given(version=java_versions(), template=st.sampled_from(JAVA_OUTPUTS))
def test_java_version_output_gives_its_levels(version, template):
    text, parts = version
    parsed = parse_java_version(template.format(v=text))
    assert (parsed.raw, parsed.parts, parsed.exact) == (text, parts, True)
    bare = parse_java_version(text)  # a release file's JAVA_VERSION: exact only with the update level
    assert (bare.parts, bare.exact) == (parts, len(parts) >= 3 or parts[0] >= 9)


@fuzz
@given(data=st.data(), output=st.sampled_from([ORACLE_1_4_2, IBM_6, ZULU_8, CORRETTO_17, ORACLE_21]))
@example(data=None, output='java version "1.' + "9" * 5000 + '"')
@example(data=None, output="1.8292")  # atheris: read as Java 8292
def test_real_java_version_outputs_damaged(data, output):
    damaged = output.encode() if data is None else data.draw(mutations(output.encode()))
    targets.java_version_text(damaged)


@fuzz
@given(version=java_versions(), vendor=st.one_of(NASTY_TEXT, st.sampled_from(["Eclipse Adoptium", "Oracle Corporation"])),
       noise=st.lists(NASTY_TEXT, max_size=4), quote=st.sampled_from(['"{}"', "{}", "'{}'"]))
@example(version=("1." + "9" * 5000, None), vendor="", noise=[], quote='"{}"')
def test_release_file_gives_java_version(version, vendor, noise, quote):
    text, parts = version
    release = lines_of([f"IMPLEMENTOR={quote.format(vendor)}", *noise, f"JAVA_VERSION={quote.format(text)}", 'OS_NAME="Linux"'])
    home = java_home(targets.JAVA_HOME, release.encode("utf-8", "surrogatepass"))
    if parts is None or quote == "'{}'":  # the reader strips double quotes only, as the JDK writes them
        assert home.parsed is None and home.version_source is None
    else:
        assert (home.version, home.parsed.parts, home.version_source) == (text, parts, "release file")


@fuzz
@given(version=java_versions(), pattern=st.sampled_from([
    "/usr/lib/jvm/jdk{v}", "/usr/java/jre{v}", "/opt/jdk-{v}", "/usr/java/j2sdk{v}", "/opt/amazon-corretto-{v}-linux-x64",
    "/Library/Java/JavaVirtualMachines/jdk{v}.jdk/Contents/Home"]))
def test_installer_folder_names_give_the_java_version(version, pattern):
    text, parts = version
    home = installed_java_home(pattern.format(v=text))
    assert (home.parsed.parts, home.version_source) == (parts, "directory name")


@fuzz
@given(name=st.one_of(st.text(max_size=255), st.lists(st.sampled_from(["jdk", "jre", "1.8.0_", "-", "17", ".", "+", "_", "zulu",
                                                                         "9" * 30, "openjdk", "amd64"]), max_size=12).map("".join)))
@example(name="java-1.555550-openjdk")  # atheris: read as Java 555550
def test_any_folder_name_gives_a_version_or_none(name):
    targets.check_java_version(version_from_name(name))


def test_a_1_x_version_beyond_any_java_is_none():
    assert [parse_java_version(text) for text in ("1.8292", "1.100.0_1", 'java version "1.555550"')] == [None] * 3
    assert parse_java_version("1.17.0").parts == (17, 0)  # Debian's java-1.17.0-openjdk link


# -- SDK manifests --------------------------------------------------------------------------------------

SDK_NAMES = ("aws-sdk", "@aws-sdk/client-s3", "node_modules/@aws-sdk/client-s3", "node_modules/aws-sdk", "aws/aws-sdk-php",
             "AWSSDK.Core", "aws-sdk-cpp", "dependencies", "packages", "version", "name", "")
HUGE_NUMBER, DEEP_ARRAY = "\x00huge", "\x00deep"  # written into the JSON text after json.dumps, which cannot write them
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), NASTY_TEXT, st.sampled_from(SDK_NAMES),
              st.sampled_from([HUGE_NUMBER, DEEP_ARRAY])),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.one_of(st.sampled_from(SDK_NAMES), NASTY_TEXT),
                                                                      children, max_size=3), max_leaves=8)
JSON_FIXTURES = {"package.json": ["npm/lock-v3/package.json"],
                 "package-lock.json": ["npm/lock-v1/package-lock.json", "npm/lock-v2/package-lock.json", "npm/lock-v3/package-lock.json"],
                 "composer.lock": ["php/composer.lock"], "packages.lock.json": ["dotnet/sdk-style/packages.lock.json"],
                 "vcpkg.json": ["cpp/vcpkg.json"]}


def mutate_json(data, tree):
    """The tree with one node reached by drawn steps replaced, removed or renamed to an SDK's name."""
    node = tree
    for _ in range(data.draw(st.integers(0, 8), label="depth")):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        if not children:
            break
        key, child = children[data.draw(st.integers(0, len(children) - 1), label="child")]
        if not isinstance(child, (dict, list)) or data.draw(st.booleans(), label="stop here"):
            op = data.draw(st.sampled_from(["replace", "remove", "rename"]), label="op")
            if op == "replace":
                node[key] = data.draw(JSON_VALUES, label="value")
            elif op == "remove":
                del node[key]
            elif isinstance(node, dict):
                node[data.draw(st.sampled_from(SDK_NAMES), label="name")] = node.pop(key)
            break
        node = child
    return tree


def dump_json(data, tree) -> bytes:
    text = json.dumps(tree, indent=data.draw(st.sampled_from([None, 2])), ensure_ascii=data.draw(st.booleans()))
    text = text.replace(json.dumps(HUGE_NUMBER), "9" * 5000).replace(json.dumps(DEEP_ARRAY), "[" * 100000 + "]" * 100000)
    encoding = data.draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "utf-16"]), label="encoding")
    return text.encode(encoding, "surrogatepass")


# The formats of a family share a test, each example drawing one: 200 examples a family keep CI short.
@fuzz
@given(data=st.data())
def test_json_manifests_mutated(data):
    name, fixture = data.draw(st.sampled_from([(n, f) for n, paths in JSON_FIXTURES.items() for f in paths]), label="fixture")
    tree = json.loads(fixture_json(fixture))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        tree = mutate_json(data, tree)
    written = dump_json(data, tree)
    scan_manifest(name, data.draw(st.one_of(st.just(written), mutations(written)), label="bytes"))


@pytest.mark.parametrize("name,data,reason", [
    ("package.json", b'{"dependencies": {"aws-sdk": ' + b"9" * 5000 + b"}}", "invalid JSON: Exceeds the limit"),
    ("vcpkg.json", b'{"dependencies": [{"name": "aws-sdk-cpp", "features": 1}]}', "'features' is not a list"),
    ("vcpkg.json", b'{"dependencies": ["aws-sdk-cpp"], "overrides": 1}', "'overrides' is not a list"),
    ("package-lock.json", b'{"lockfileVersion": 1, "dependencies": ' + b"[" * 100000 + b"]" * 100000 + b"}", "maximum recursion"),
])
def test_json_with_the_wrong_shape_is_an_error_entry(name, data, reason):
    found = scan_manifest(name, data)
    assert found.components == [] and [e.message.split(": ", 1)[0] for e in found.errors] == [f"cannot read as {name}"]
    assert reason in found.errors[0].message


def test_vcpkg_override_and_feature_objects_keep_their_strings():
    found = scan_manifest("vcpkg.json", json.dumps({
        "dependencies": [{"name": "aws-sdk-cpp", "features": ["s3", {"name": "dynamodb", "platform": "linux"}, 7]}],
        "overrides": [{"name": ["aws-sdk-cpp"], "version": "0.1"}, {"name": "aws-sdk-cpp", "version": ["1.11.285"]}]}).encode())
    (component,) = found.components
    assert (component.version, component.details["constraint"]) == (None, "")
    assert component.details["notes"] == ["features: s3, dynamodb"]


@st.composite
def line_mutations(draw, text: str) -> str:
    """The text with lines deleted, repeated, swapped, re-indented, cut or replaced, and hostile lines added:
    70 levels of nesting, a 70,000-character line, an unclosed quote."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["delete", "repeat", "swap", "indent", "cut", "replace", "insert"]))
        line = lines[at] if lines else ""
        if op == "delete" and lines:
            del lines[at]
        elif op == "repeat":
            lines[at:at] = [line] * draw(st.integers(1, 3))
        elif op == "swap" and lines:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], line
        elif op == "indent":
            lines[at:at + 1] = [draw(st.sampled_from(["", " ", "    ", "\t", " \t"])) + line.lstrip()]
        elif op == "cut":
            lines[at:at + 1] = [line[:draw(st.integers(0, len(line)))]]
        elif op == "replace":
            lines[at:at + 1] = [draw(NASTY_TEXT)]
        else:
            lines[at:at] = [draw(st.sampled_from([
                "\n".join("  " * depth + f"k{depth}:" for depth in range(70)), "x" * 70000, "'com.amazonaws:aws-java-sdk" + "-s3" * 20000,
                '"aws-sdk@npm:^2":', "  version:", "    aws-sdk-core (", "require github.com/aws/aws-sdk-go v", "require (",
                "com.amazonaws:aws-java-sdk-core:=x", "implementation group: 'com.amazonaws', name: 'aws-java-sdk-s3'",
                "  /@aws-sdk/client-s3/3.1.0:", "  '@aws-sdk/client-s3@':", "    specifier:", "DEPENDENCIES", "GEM"]))]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


LINE_FIXTURES = {"yarn.lock": ["npm/yarn-classic/yarn.lock", "npm/yarn-berry/yarn.lock"], "pnpm-lock.yaml": ["npm/pnpm/pnpm-lock.yaml"],
                 "go.mod": ["go/go.mod"], "build.gradle": ["java/gradle/build.gradle"],
                 "build.gradle.kts": ["java/gradle-kts/build.gradle.kts"], "gradle.lockfile": ["java/gradle/gradle.lockfile"],
                 "Gemfile.lock": ["ruby/v1/Gemfile.lock", "ruby/v2-0/Gemfile.lock", "ruby/v3-bundled/Gemfile.lock"]}


@fuzz
@given(data=st.data())
def test_line_manifests_mutated(data):
    name, fixture = data.draw(st.sampled_from([(n, f) for n, paths in LINE_FIXTURES.items() for f in paths]), label="fixture")
    text = data.draw(line_mutations(fixture_text(fixture)), label="text")
    written = text.encode(data.draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "latin-1", "utf-16"])), "replace")
    scan_manifest(name, data.draw(st.one_of(st.just(written), mutations(written)), label="bytes"))


def test_an_unclosed_gradle_string_is_passed_over_quickly():
    # The first regex backtracked over every split of the artifact: about 18 s for this 64 KB line.
    text = "implementation 'com.amazonaws:aws-java-sdk-s3:" + "1" * 64000 + "\nimplementation 'com.amazonaws:aws-java-sdk-sqs:1.12.0'\n"
    started = time.process_time()
    found = scan_manifest("build.gradle", text.encode())
    assert time.process_time() - started < QUICK
    assert [(c.name, c.version, c.line) for c in found.components] == [("com.amazonaws:aws-java-sdk-sqs", "1.12.0", 2)]


def test_pnpm_specifier_that_is_a_mapping_is_no_constraint():
    text = ("lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      aws-sdk:\n        specifier:\n          x: 1\n"
            "        version: 2.1.0\npackages:\n  aws-sdk@2.1.0:\n    resolution: {}\n")
    (component,) = scan_manifest("pnpm-lock.yaml", text.encode()).components
    assert (component.version, component.details["constraint"], component.details["direct"]) == ("2.1.0", "", True)


def test_a_lockfile_naming_thousands_of_sdk_packages_is_read_in_linear_time():
    # Each package's line was found by searching and counting from the top: 386 s for 186,000 packages (8 MB).
    entries = ",\n".join(f'    "node_modules/@aws-sdk/client-{i}": {{"version": "3.{i}.0"}}' for i in range(40000))
    text = '{\n  "lockfileVersion": 3,\n  "packages": {\n' + entries + "\n  }\n}\n"
    started = time.process_time()
    refs = npm.parse_package_lock(text.encode())
    assert time.process_time() - started < QUICK
    assert len(refs) == 40000 and (refs[-1].name, refs[-1].version, refs[-1].line) == ("@aws-sdk/client-39999", "3.39999.0", 40003)


XML_FIXTURES = {"pom.xml": "java/maven/pom.xml", "Orders.Api.csproj": "dotnet/sdk-style/Orders.Api.csproj",
                "packages.config": "dotnet/legacy/packages.config"}
XML_INSERTS = st.one_of(NASTY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), st.sampled_from([
    BILLION_LAUGHS, EXTERNAL_ENTITY + b"&secret;", PARAMETER_ENTITY, EXTERNAL_DTD, b"&amp;" * 1000, b"&#0;", b"&#x110000;",
    b"&undefined;", b"<![CDATA[<dependency>]]>", b"<!-- -- -->", b"<?php echo 1; ?>", b"<a>" * 70 + b"</a>" * 70,
    b"<x:dependency xmlns:x='urn:x'><x:groupId>com.amazonaws</x:groupId><x:artifactId>aws-java-sdk-s3</x:artifactId></x:dependency>",
    b"<dependencies><dependency><groupId>software.amazon.awssdk</groupId><artifactId>s3</artifactId>"
    b"<version>${missing}</version><scope>test</scope></dependency></dependencies>",
    b'<PackageReference Include="AWSSDK.S3" Version="[3.7.0]" />',
    b'<PackageReference Update="awssdk.core"><Version>3.7</Version></PackageReference>',
    b'<package id="AWSSDK.Core" />', b'<package version="1" />', b"<properties><a>${a}</a></properties>",
    b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding="bogus"?>']))


@fuzz
@given(data=st.data())
def test_xml_manifests_mutated(data):
    name = data.draw(st.sampled_from(sorted(XML_FIXTURES)), label="format")
    written = bytearray((MANIFESTS / XML_FIXTURES[name]).read_bytes())
    tags = [m.start() for m in re.finditer(rb"<", written)] + [len(written)]
    for _ in range(data.draw(st.integers(1, 3), label="inserts")):
        at = data.draw(st.sampled_from(tags), label="at")
        written[at:at] = data.draw(XML_INSERTS, label="insert")
    if data.draw(st.booleans(), label="utf-16"):
        written = bytearray(written.decode("utf-8", "replace").encode("utf-16"))
    scan_manifest(name, data.draw(st.one_of(st.just(bytes(written)), mutations(bytes(written))), label="bytes"))


@pytest.mark.parametrize("name", sorted(XML_FIXTURES))
@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_xml_manifest_declarations_are_refused_quickly(name, bomb):
    declaration, reference = BOMBS[bomb]
    original = (MANIFESTS / XML_FIXTURES[name]).read_bytes()
    head, end, body = original.partition(b"?>") if original.startswith(b"<?xml") else (b"", b"", original)
    body = body.replace(b"</", reference + b"</", 1)
    started = time.process_time()
    found = scan_manifest(name, head + end + b"\n" + declaration + body)
    assert time.process_time() - started < QUICK
    assert found.components == [] and len(found.errors) == 1
    assert "a DTD or entity declaration; refused (never expanded or fetched)" in found.errors[0].message


@pytest.mark.parametrize("document,reason", [
    (b"<project>" + b"<a/>" * 200_000 + b"</project>", "more than 100000 elements"),
    (b"<project>" + b"<a>" * 65 + b"</a>" * 65 + b"</project>", "nested deeper than 64 elements"),
])
def test_xml_manifests_beyond_the_bounds_are_refused(document, reason):
    started = time.process_time()
    with pytest.raises(ManifestError, match=reason):
        manifest_xml.read_xml(document)
    assert time.process_time() - started < QUICK


def test_xml_text_of_many_pieces_is_joined_in_linear_time():
    # Each entity reference is a piece of text; adding them one by one to a string took minutes at 10 MB.
    started = time.process_time()
    elements = manifest_xml.read_xml(b"<project><name>" + b"&amp;x" * 2_000_000 + b"</name></project>")
    assert time.process_time() - started < QUICK * 2
    assert elements[1].text == "&x" * 2_000_000


# -- round trips: what a well-formed file says is what the scan reports ---------------------------------

VERSION = dotted((3, 3))
NPM_NAME = st.one_of(st.sampled_from(["aws-sdk", "@aws-sdk/client-s3", "@aws-sdk/client-dynamodb", "@aws-sdk/types"]),
                     st.builds(str.__add__, st.sampled_from(["", "@types/", "@aws-sdk/", "@smithy/"]),
                               word(LOWER, LOWER + "0123456789.-", 12)))


@fuzz
@given(packages=st.dictionaries(st.lists(NPM_NAME, min_size=1, max_size=3).map("/node_modules/".join), VERSION, max_size=12),
       direct=st.sets(NPM_NAME, max_size=4), indent=st.sampled_from([None, 2]))
def test_package_lock_v3_round_trip(packages, direct, indent):
    lock = {"name": "app", "lockfileVersion": 3, "packages": {
        "": {"name": "app", "dependencies": {name: "*" for name in sorted(direct)}},
        **{f"node_modules/{path}": {"version": version} for path, version in packages.items()}}}
    text = json.dumps(lock, indent=indent)
    found = scan_manifest("package-lock.json", text.encode())
    expected = {}  # (name, version) -> direct: the first entry of each release decides
    for path, version in packages.items():
        name = path.rpartition("node_modules/")[2]
        if npm.is_sdk(name):
            expected.setdefault((name, version), (path, path == name and name in direct))
    assert {(c.name, c.version): c.details["direct"] for c in found.components} == {k: d for k, (_, d) in expected.items()}
    assert found.errors == []
    for component in found.components:
        path = expected[component.name, component.version][0]
        assert f'"node_modules/{path}"' in text.splitlines()[component.line - 1]


@fuzz
@given(modules=st.lists(st.tuples(st.sampled_from(["github.com/aws/aws-sdk-go", "github.com/aws/aws-sdk-go-v2",
                                                    "github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/smithy-go",
                                                    "golang.org/x/net"]), VERSION.map("v{}".format), st.booleans()),
                        max_size=8, unique_by=lambda m: m[0]), block=st.booleans())
def test_go_mod_round_trip(modules, block):
    requires = [f"{path} {version}" + (" // indirect" if indirect else "") for path, version, indirect in modules]
    body = ("require (\n" + lines_of("\t" + r for r in requires) + ")\n") if block else lines_of("require " + r for r in requires)
    found = scan_manifest("go.mod", f"module example.com/app\n\ngo 1.22\n\n{body}".encode())
    assert [(c.name, c.version, c.details["direct"]) for c in found.components] == [
        (path, version, not indirect) for path, version, indirect in modules if path.startswith("github.com/aws/aws-sdk-go")]


@fuzz
@given(entries=st.lists(st.tuples(st.sampled_from(["com.amazonaws:aws-java-sdk-core", "com.amazonaws:jmespath-java",
                                                    "software.amazon.awssdk:s3", "org.slf4j:slf4j-api"]), VERSION,
                                  st.sampled_from(["compileClasspath,runtimeClasspath", "testRuntimeClasspath"])), max_size=8))
def test_gradle_lockfile_round_trip(entries):
    text = "# This is a Gradle generated file for dependency locking.\n" + lines_of(f"{c}:{v}={conf}" for c, v, conf in entries)
    found = scan_manifest("gradle.lockfile", (text + "empty=annotationProcessor\n").encode())
    assert [(c.name, c.version, c.line, c.details.get("dev", False)) for c in found.components] == [
        (c, v, i + 2, conf == "testRuntimeClasspath") for i, (c, v, conf) in enumerate(entries)
        if c.startswith("software.amazon.awssdk:") or c.split(":")[1].startswith("aws-java-sdk")]


@fuzz
@given(packages=st.lists(st.tuples(st.one_of(st.sampled_from(["AWSSDK.Core", "AWSSDK.S3", "awssdk.dynamodbv2"]), NASTY_TEXT),
                                   NASTY_TEXT), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-16", "iso-8859-1"]))
def test_packages_config_round_trip(packages, encoding):
    packages = [(i, v) for i, v in packages if all(ch.isprintable() or ch in "\t\n" for ch in i + v) and "\x00" not in i + v]
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n<packages>\n' + lines_of(
        f"  <package id={quoteattr(i)} version={quoteattr(v)} targetFramework=\"net45\" />" for i, v in packages) + "</packages>\n"
    try:
        written = text.encode(encoding)
    except UnicodeEncodeError:
        written = text.replace(f'encoding="{encoding}"', 'encoding="utf-8"').encode()
    found = scan_manifest("packages.config", written)
    assert [(c.name, c.version, c.line) for c in found.components] == [
        (i, v or None, n + 3) for n, (i, v) in enumerate(packages) if i.lower().startswith("awssdk.")]


@fuzz
@given(specs=st.lists(st.tuples(st.sampled_from(["aws-sdk-core", "aws-sdk-v1", "aws-sdk", "aws-sdk-s3", "jmespath"]), VERSION),
                      max_size=6, unique_by=lambda s: s[0]), direct=st.sets(st.sampled_from(["aws-sdk-core", "aws-sdk", "rails"])))
def test_gemfile_lock_round_trip(specs, direct):
    text = ("GEM\n  remote: https://rubygems.org/\n  specs:\n" + lines_of(f"    {n} ({v})" for n, v in specs)
            + "\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n" + lines_of(f"  {n}" for n in sorted(direct)) + "\nBUNDLED WITH\n   2.5.7\n")
    found = scan_manifest("Gemfile.lock", text.encode())
    v1 = {n for n, v in specs if n == "aws-sdk-v1" or (n == "aws-sdk" and v.startswith("1."))}
    assert [(c.name, c.version, c.line, c.details["direct"]) for c in found.components] == [
        (n, v, i + 4, n in direct) for i, (n, v) in enumerate(specs) if n == "aws-sdk-core" or n in v1]
