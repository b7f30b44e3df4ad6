"""JDKs and JREs of a machine or an image: where they are, which Java version and vendor each is, and
where that stands in a Java matrix (rules/java-matrix.toml).

Where (:func:`find_java_homes`), every path read through the View, in this order: ``JAVA_HOME``; the
``java`` on ``PATH`` (through its links: /usr/bin/java -> /etc/alternatives/java -> …/bin/java); the
install folders /usr/lib/jvm/*, /usr/java/*, /opt/* and /opt/*/* (Docker images use /opt/java/openjdk),
macOS's /Library/Java/JavaVirtualMachines/*/Contents/Home (and /System/Library/… for Apple's Java 6);
on Windows, the vendors' folders in Program Files. A directory is a Java home if it has a cacerts in
lib/security (Java 9 and later) or jre/lib/security (8 and earlier), or bin/java (bin/java.exe) and
something only a JVM has beside its launcher: a ``release`` file, an rt.jar (jre/lib/rt.jar in a JDK,
lib/rt.jar in a JRE: Java 8 and earlier), one of those security directories, or a name that names a
Java version (``j2sdk1.4.2_12``, ``jdk1.8.0_292``: see below). A launcher alone is not a JDK (macOS's
/usr/bin/java is a stub, and a conda prefix's bin/java a link into its lib/jvm); a JDK whose cacerts is
missing, or whose cacerts link dangles, still is one, and is reported: it cannot verify any server.
Homes are told apart by real path:
Debian's /usr/lib/jvm/java-1.17.0-openjdk-amd64 is a link to java-17-openjdk-amd64, one home. The JRE
nested in a Java 8 JDK (…/jre, found through PATH) is taken as that JDK.

The version, first found wins (``version_source``):

1. ``release file``: the ``release`` file in the home (every JDK since 7) holds shell-style lines,
   ``JAVA_VERSION="1.8.0_292"`` (or "11.0.2", "17.0.15", "21"), ``IMPLEMENTOR="Eclipse Adoptium"``,
   ``IMPLEMENTOR_VERSION="Temurin-17.0.9+9"``. JDK 7's says only "1.7.0", without its update.
2. ``rt.jar manifest``: Java 8 and earlier keep the class library in rt.jar (jre/lib/rt.jar in a JDK,
   lib/rt.jar in a JRE), whose META-INF/MANIFEST.MF says ``Implementation-Version: 1.4.2_12`` (and
   ``Implementation-Vendor: Sun Microsystems, Inc.``); read from the jar's first entries, nothing
   extracted (auditor.collect.platform.jar). It also gives the update that JDK 7's release file leaves out.
3. ``directory name``: the installers name the directory after the version, and where the layout puts
   the home below another directory (a macOS bundle, …/jdk1.8.0_292.jdk/Contents/Home), that one:
   ``jdk1.8.0_292``, ``jre1.6.0_45``, ``j2sdk1.4.2_12``, ``jdk-17.0.9+9``, Red Hat's
   ``java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64`` (its RPM version, update after the third dot),
   ``zulu11.50.19-ca-jdk11.0.12-linux_x64`` (Zulu's own number first, Java's after "jdk"),
   ``amazon-corretto-17.0.9.8.1-linux-x64``. Debian's ``java-17-openjdk-amd64`` and
   ``temurin-25-jdk-amd64`` name only the feature release: such a version is not exact.
4. ``java -version`` (only when allowed, and never for an image of another machine: the caller decides):
   ``<home>/bin/java -version``, run with a minimal environment (no JAVA_TOOL_OPTIONS, _JAVA_OPTIONS,
   JDK_JAVA_OPTIONS: an agent or option there would run code), in an empty directory, with a timeout after
   which it is killed with its process group. It prints to standard error, e.g.::

       java version "1.4.2_12"
       Java(TM) 2 Runtime Environment, Standard Edition (build 1.4.2_12-b03)
       Java HotSpot(TM) Client VM (build 1.4.2_12-b03, mixed mode)

       openjdk version "17.0.9" 2023-10-17
       OpenJDK Runtime Environment Temurin-17.0.9+9 (build 17.0.9+9)
       OpenJDK 64-Bit Server VM Temurin-17.0.9+9 (build 17.0.9+9, mixed mode, sharing)

   The quoted string is the version (IBM's Java 6 says "1.6.0" in every service refresh: IBM numbers
   its releases by service refresh, in the build line), the next lines name the vendor.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Callable

from auditor.bounded_run import RunFailed, run_bounded
from auditor.collect.platform.jar import JarError, main_attributes, manifest_text
from auditor.facts.java import JavaFacts
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record, record, replace

RELEASE_CAP = 64 * 1024  # a release file is a few kilobytes
OUTPUT_CAP = 64 * 1024  # `java -version` prints three lines
RUNTIME_TIMEOUT = 5.0  # seconds for `java -version`; read at each call
# Install folders as the target names them; only entries that look like a Java home are taken.
INSTALL_GLOBS = ("/usr/lib/jvm/*", "/usr/java/*", "/opt/*", "/opt/*/*",
                 "/Library/Java/JavaVirtualMachines/*/Contents/Home",
                 "/System/Library/Java/JavaVirtualMachines/*/Contents/Home")
PROGRAM_FILES_VARIABLES = ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")
PROGRAM_FILES_DEFAULTS = (r"C:\Program Files", r"C:\Program Files (x86)")
WINDOWS_VENDOR_FOLDERS = ("Java", "Eclipse Adoptium", "AdoptOpenJDK", "Zulu", "Amazon Corretto", "Microsoft")
LAUNCHERS = ("java", "java.exe")
SECURITY_DIRS = (("lib", "security"), ("jre", "lib", "security"))  # where cacerts is: 9 and later, 8 and earlier
RT_JARS = (("jre", "lib", "rt.jar"), ("lib", "rt.jar"))  # Java 8 and earlier: a JDK's, a JRE's
JAR_HEAD = 256 * 1024  # the manifest is among a jar's first entries; rt.jar itself is tens of megabytes
# Vendor names as they appear in IMPLEMENTOR, `java -version` output and directory names, first match
# wins: IBM's and Azul's output also says "Java(TM)" or "OpenJDK".
VENDORS = ((r"IBM|International Business Machines|\bJ9\b", "IBM"), (r"Zulu|Azul", "Azul Zulu"),
           (r"Temurin|Adoptium", "Eclipse Temurin"), (r"AdoptOpenJDK", "AdoptOpenJDK"),
           (r"Corretto|Amazon", "Amazon Corretto"), (r"JRockit", "Oracle JRockit"), (r"GraalVM", "GraalVM"),
           (r"Liberica|BellSoft", "BellSoft Liberica"), (r"SapMachine|SAP SE", "SapMachine"),
           (r"Microsoft", "Microsoft"), (r"Red[ _]Hat", "Red Hat"), (r"libgcj", "GNU gcj"),
           (r"Sun Microsystems", "Sun"), (r"Java\(TM\)|HotSpot\(TM\)|Oracle", "Oracle"),
           (r"OpenJDK|IcedTea|Debian|Ubuntu", "OpenJDK"))
_QUOTED = re.compile(r'\bversion "([^"]+)"')
_NUMBERS = re.compile(r"(\d+(?:[._]\d+)*)(?:[-+][\w.+-]*)?")
# A version in a directory name follows one of these words, or starts the name ("1.6.0.jdk").
_NAMED = re.compile(r"(?:^|jdk|jre|j2sdk|j2re|java|openjdk|sun|corretto|temurin|zulu-)[-_]?(\d+(?:[._]\d+)*(?:\+\d+)?)",
                    re.IGNORECASE)


@record
class JavaVersion:
    """A Java version as numbers: the feature release ("major"), then the minor and update levels.

    The 1.x names drop the "1.": 1.4.2_12 is (4, 2, 12), 1.8.0_292 is (8, 0, 292). Since Java 9 the
    numbers are $FEATURE.$INTERIM.$UPDATE[.$PATCH] (JEP 322): 11.0.2 is (11, 0, 2), "21" is 21.0.0.
    Vendors' extra numbers follow (Corretto 17.0.9.8.1 is (17, 0, 9, 8, 1)). `exact` is False when the
    text named fewer levels than the Java release has (Debian's "java-17-openjdk-amd64", JDK 7's
    release file "1.7.0"): `parts` then holds only the levels read, and any update may follow them."""

    raw: str
    parts: tuple[int, ...]
    exact: bool = True

    @property
    def major(self) -> int:
        return self.parts[0]

    @property
    def update(self) -> int | None:
        if len(self.parts) > 2:
            return self.parts[2]
        return 0 if self.exact else None

    @property
    def key(self) -> tuple[int, ...]:
        """For comparing: the levels not read count as 0, the lowest version they may be."""
        return self.parts + (0,) * (3 - len(self.parts))


def parse_java_version(text: str) -> JavaVersion | None:
    """The version in a release file's JAVA_VERSION, a `java -version` output (its quoted string) or a
    version string: "1.4.2_12", "1.5.0_02-b09", "1.8.0.292" (RPM), "11.0.2", "17.0.9+9", "21". None if
    the text holds none."""
    quoted = _QUOTED.search(text)
    if quoted:
        version = _from_numbers(quoted.group(1).strip())
        return replace(version, exact=True) if version else None  # a release says all its levels: "1.6.0" is 1.6.0_00
    return _from_numbers(text.strip())


def _from_numbers(text: str) -> JavaVersion | None:
    match = _NUMBERS.fullmatch(text)
    if match is None:
        return None
    levels = re.split(r"[._]", match.group(1))
    if any(len(level) > 18 for level in levels):  # no Java has such a level, and int() refuses over 4,300 digits
        return None
    numbers = tuple(int(n) for n in levels)
    if numbers[0] == 1 and len(numbers) > 1 and 1 <= numbers[1] < 100:  # 1.x.y_uu (Debian also links java-1.17.0-…)
        return JavaVersion(text, numbers[1:], exact=len(numbers) > 3)
    if not 5 <= numbers[0] < 100:
        return None
    if numbers[0] <= 8 and len(numbers) > 1 and numbers[1] >= 10:  # Corretto 8: 8.<update>.<build>.<revision>
        return JavaVersion(text, (numbers[0], 0, *numbers[1:]))
    return JavaVersion(text, numbers)


def version_from_name(name: str) -> JavaVersion | None:
    """The most precise version a directory name carries (see the module's notes); exact only when the
    name has the update level or a build ("jdk-17+35" is the 17 release itself)."""
    best = None
    for match in _NAMED.finditer(name):
        token = match.group(1)
        version = parse_java_version(token)
        if version is None:
            continue
        version = replace(version, exact=version.exact and (len(version.parts) >= 3 or "+" in token))
        if best is None or (len(version.parts), version.exact) > (len(best.parts), best.exact):
            best = version
    return best


def vendor_of(text: str) -> str | None:
    """The vendor a release file, a `java -version` output or a directory name names, if any."""
    return next((name for pattern, name in VENDORS if re.search(pattern, text, re.IGNORECASE)), None)


@mutable_record
class JavaHome:
    home: str  # host path, links resolved
    version: str | None  # as read: "1.8.0_292", "17", "1.8.0.292"
    vendor: str | None
    parsed: JavaVersion | None = None
    version_source: str | None = None  # "release file", "rt.jar manifest", "directory name", "java -version"
    version_read: str | None = None  # what was read, and where
    found_by: list[str] = field(default_factory=list)  # "JAVA_HOME=…", "PATH: /usr/bin/java", "/usr/lib/jvm/*"

    def facts(self) -> JavaFacts:
        """The facts for the "java" component, once every way it was found is known."""
        return JavaFacts(self.vendor, self.version_source, self.version_read,
                         None if self.parsed is None else self.parsed.exact, tuple(self.found_by))


@mutable_record
class JavaHomes:
    """The Java homes found, and the error entries met describing them, home by home (each names the file it is
    about: a release file, an rt.jar, a `java` launcher)."""

    homes: list[JavaHome]
    errors: list[ScanError]


def find_java_homes(view: View, environ_get: Callable[[str], str | None], runtime: bool = False) -> JavaHomes:
    """The JDKs and JREs in `view`, each once, in the order found. `environ_get` reads the target's
    environment (JAVA_HOME, PATH); `runtime` allows running `<home>/bin/java -version` for a home whose
    version the files do not tell exactly."""
    homes: dict[str, JavaHome] = {}
    errors: list[ScanError] = []
    for host, how in _candidates(view, environ_get):
        real = _home_of(view, host)
        if real is None:
            continue
        if real not in homes:
            homes[real] = _describe(view, real, runtime, errors)
        if how not in homes[real].found_by:
            homes[real].found_by.append(how)
    return JavaHomes(list(homes.values()), errors)


def _candidates(view: View, environ_get: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """(host path, how it was found) of every directory that may be a Java home."""
    found = []
    java_home = environ_get("JAVA_HOME")
    if java_home and os.path.isabs(java_home):
        found.append((view.locate(view.top, java_home), f"JAVA_HOME={java_home}"))
    for directory in (environ_get("PATH") or "").split(os.pathsep):
        if not os.path.isabs(directory):
            continue  # relative to a working directory the scan does not know
        for name in LAUNCHERS if sys.platform == "win32" else LAUNCHERS[:1]:
            launcher = view.locate(view.top, os.path.join(directory, name))
            if view.kind(launcher) == "file":
                try:
                    found.append((os.path.dirname(os.path.dirname(view.resolve(launcher))), f"PATH: {view.display(launcher)}"))
                except FsError:
                    continue
    for pattern in INSTALL_GLOBS:
        found.extend((path, pattern) for path in view.glob(pattern))
    if sys.platform == "win32":
        for folder in _program_files_folders(environ_get):
            found.extend((path, os.path.join(folder, "*")) for path in view.glob("*", base=folder))
    return found


def _program_files_folders(environ_get: Callable[[str], str | None]) -> list[str]:
    """The vendors' folders under every Program Files (os.environ on Windows has upper-case names)."""
    bases = [environ_get(v) or environ_get(v.upper()) for v in PROGRAM_FILES_VARIABLES] + list(PROGRAM_FILES_DEFAULTS)
    unique = dict.fromkeys(b for b in bases if b and os.path.isabs(b))
    return [os.path.join(base, vendor) for base in unique for vendor in WINDOWS_VENDOR_FOLDERS]


def _home_of(view: View, host: str) -> str | None:
    """The real path of the Java home at `host`, or None if it is none; a JDK's nested jre is the JDK."""
    try:
        real = view.resolve(host)
    except FsError:
        return None
    if not view.is_dir(real) or not _looks_like_home(view, real):
        return None
    parent = os.path.dirname(real)
    if os.path.basename(real) == "jre" and _looks_like_home(view, parent):
        return parent
    return real


def _looks_like_home(view: View, directory: str) -> bool:
    security = [os.path.join(directory, *parts) for parts in SECURITY_DIRS]
    if any(view.kind(os.path.join(path, "cacerts")) is not None for path in security):
        return True
    if not any(view.is_file(os.path.join(directory, "bin", name)) for name in LAUNCHERS):
        return False
    return (view.kind(os.path.join(directory, "release")) is not None or _rt_jar(view, directory) is not None
            or any(map(view.is_dir, security)) or version_from_name(_version_name(directory)) is not None)


def _rt_jar(view: View, home: str) -> str | None:
    return next((p for p in (os.path.join(home, *parts) for parts in RT_JARS) if view.kind(p) is not None), None)


def _describe(view: View, home: str, runtime: bool, errors: list[ScanError]) -> JavaHome:
    """The home's version and vendor, from its files (and `java -version` when `runtime`); what could not be
    read is added to `errors`."""
    java = JavaHome(home, None, None)
    _from_release(view, java, errors)
    if java.parsed is None or not java.parsed.exact:
        _from_rt_jar(view, java, errors)
    if java.parsed is None:
        name = _version_name(home)
        parsed = version_from_name(name)
        if parsed is not None:
            _set_version(java, parsed, "directory name", f"{parsed.raw} in the directory name {name}")
        java.vendor = java.vendor or vendor_of(name)
    if runtime and (java.parsed is None or not java.parsed.exact):
        _from_runtime(view, java, errors)
    return java


def _set_version(java: JavaHome, parsed: JavaVersion, source: str, read: str) -> None:
    java.version, java.parsed, java.version_source, java.version_read = parsed.raw, parsed, source, read


def _from_release(view: View, java: JavaHome, errors: list[ScanError]) -> None:
    """JAVA_VERSION and the vendor from the home's `release` file."""
    path = os.path.join(java.home, "release")
    data = view.read_if_present(path, RELEASE_CAP, errors)
    if data is None:
        return
    text = data.decode("utf-8", "replace")
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    implementor = " ".join(filter(None, (values.get("IMPLEMENTOR"), values.get("IMPLEMENTOR_VERSION"))))
    java.vendor = vendor_of(implementor) or values.get("IMPLEMENTOR") or None
    parsed = parse_java_version(values.get("JAVA_VERSION", ""))
    if parsed is not None:
        _set_version(java, parsed, "release file", f'JAVA_VERSION="{values["JAVA_VERSION"]}" in {view.display(path)}')


def _from_rt_jar(view: View, java: JavaHome, errors: list[ScanError]) -> None:
    """Implementation-Version (else Specification-Version) and the vendor from rt.jar's manifest; a version
    already read is replaced only by an exact one (JDK 7's release file says "1.7.0")."""
    path = _rt_jar(view, java.home)
    if path is None:
        return
    shown = view.display(path)
    try:
        attributes = main_attributes(manifest_text(view.read_bytes(path, JAR_HEAD, head=True)))
    except (FsError, JarError) as exc:
        errors.append(ScanError(shown, f"cannot read its manifest: {exc}"))
        return
    for key in ("Implementation-Version", "Specification-Version"):
        parsed = parse_java_version(attributes.get(key, ""))
        if parsed is None:
            continue
        if java.parsed is None or (parsed.exact and not java.parsed.exact):
            _set_version(java, parsed, "rt.jar manifest", f"{key}: {attributes[key]} in {shown} (META-INF/MANIFEST.MF)")
        break
    java.vendor = java.vendor or vendor_of(attributes.get("Implementation-Vendor", ""))


def _version_name(home: str) -> str:
    """The directory named after the release: the home's own, or a macOS bundle's (…/X.jdk/Contents/Home)."""
    parts = home.rstrip(os.sep).split(os.sep)
    return parts[-3] if parts[-2:] == ["Contents", "Home"] and len(parts) > 2 else parts[-1]


def _from_runtime(view: View, java: JavaHome, errors: list[ScanError]) -> None:
    launcher = next((p for p in (os.path.join(java.home, "bin", name) for name in LAUNCHERS) if view.is_file(p)), None)
    if launcher is None:
        return
    shown = view.display(launcher)
    output, problem = _java_version_output(view.resolve(launcher))
    output = output or ""
    parsed = parse_java_version(output)
    if parsed is None:
        problem = problem or f"`java -version` printed no version: {output.strip()[:200]!r}"
        errors.append(ScanError(shown, problem))
        return
    lines = [line.strip() for line in output.strip().splitlines()]
    _set_version(java, parsed, "java -version", f"{shown} -version: " + " / ".join(lines[:2]))
    java.vendor = java.vendor or vendor_of(output)


def _java_version_output(java: str) -> tuple[str | None, str | None]:
    """What `java -version` prints (on standard error; both streams are read, up to OUTPUT_CAP), or None and
    why not. The JVM runs bounded (auditor.bounded_run): a minimal environment, an empty directory, killed
    with its process group when it ends or after RUNTIME_TIMEOUT seconds."""
    try:
        return run_bounded([java, "-version"], RUNTIME_TIMEOUT, OUTPUT_CAP, merge_stderr=True).out, None
    except RunFailed as exc:
        return None, f"`java -version` {exc}"
