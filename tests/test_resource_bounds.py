"""Resource bounds. The programs a scan runs (only with --runtime: `java -version`, `openssl version`, a
target's interpreter) leave nothing running, print at most OUTPUT_CAP bytes and are killed at their timeout;
reads of a target's files and of the files named on the command line stop at their caps, also when a file
lies about its size.

The programs are shell scripts standing in for the real ones: they print what the real ones print, and
start a child that would sleep for ever, writing its pid where the test can check it.
"""

import json
import os
import shutil
import struct
import time
import tracemalloc
import zlib

import pytest

from auditor.bounded_run import OUTPUT_CAP
from auditor.collect.platform import java as java_module
from auditor.collect.platform import openssl
from auditor.collect.platform.java import find_java_homes
from auditor.fs import View
from auditor.inputs import read_input
from auditor.report.saved import MAX_BYTES as SAVED_REPORT_CAP
from auditor.checks.waivers import MAX_BYTES as WAIVERS_CAP
from auditor.checks.waivers import load_waivers
from conftest import ENVS, run, scan_json

OPENSSL_RHEL7 = "OpenSSL 1.0.2k-fips  26 Jan 2017"
# `java -version` of Temurin 8, on standard error as a JVM prints it
JAVA_TEMURIN_8 = ('openjdk version "1.8.0_392"\nOpenJDK Runtime Environment (Temurin)(build 1.8.0_392-b08)\n'
                  'OpenJDK 64-Bit Server VM (Temurin)(build 25.392-b08, mixed mode)\n')
# What the probe script prints under Ubuntu 12.04's Python 2.7.3 (auditor.collect.platform.openssl._PROBE).
UBUNTU_1204_PYTHON = "python=2.7.3\nssl=ok\nopenssl=OpenSSL 1.0.1 14 Mar 2012\nsni=0\ntls1_2=1"
EGG = ENVS / "py27-easy-install" / "lib" / "python2.7" / "site-packages" / "boto-2.9.0-py2.7.egg"
MIB = 1 << 20


# -- programs of the scanned machine -----------------------------------------------------------------------

def script(path, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def background(pid_file, holds_output=False):
    """Shell lines that start a child sleeping for ever and record its pid. A child that holds the output
    pipe keeps it open after the program itself has ended."""
    redirect = "" if holds_output else " >/dev/null 2>&1"
    return f"sleep 1000{redirect} &\necho $! > '{pid_file}'\n"


def jdk_home(tmp_path, body):
    """A Java 8 JDK home whose files tell no version (no release file, no version in its name), so only
    `java -version` can tell it; its bin/java is the script `body`."""
    home = tmp_path / "vendor" / "jvm-a"
    (home / "jre" / "lib" / "security").mkdir(parents=True)
    (home / "jre" / "lib" / "security" / "cacerts").write_bytes(b"\xfe\xed\xfe\xed")
    script(home / "bin" / "java", body)
    return home


def java_run(tmp_path, home):
    found = find_java_homes(View(str(tmp_path)), {"JAVA_HOME": str(home)}.get, runtime=True)
    assert len(found.homes) == 1
    return found


def alive(pid_file) -> bool:
    """Whether the process whose pid the file holds runs (a zombie waiting to be reaped does not)."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{int(pid_file.read_text())}/stat") as handle:
                if handle.read().rpartition(") ")[2].startswith("Z"):
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("holds_output", [False, True], ids=["detached", "holding-the-output-pipe"])
def test_a_runtime_scan_leaves_nothing_of_java_or_openssl_running(tmp_path, monkeypatch, holds_output):
    java_child, openssl_child = tmp_path / "java-child.pid", tmp_path / "openssl-child.pid"
    home = jdk_home(tmp_path, background(java_child, holds_output) + f"cat >&2 <<'EOF'\n{JAVA_TEMURIN_8}EOF\n")
    binary = script(tmp_path / "bin" / "openssl", background(openssl_child, holds_output) + f"echo '{OPENSSL_RHEL7}'\n")
    monkeypatch.setenv("PATH", f"{binary.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("JAVA_HOME", str(home))
    report = scan_json("--runtime")
    (command,) = [c for c in report["components"] if c["location"] == str(binary)]
    (jdk,) = [c for c in report["components"] if c["kind"] == "java" and c["location"] == str(home)]
    assert (command["version"], command["details"]["version_text"]) == ("1.0.2k", OPENSSL_RHEL7)
    assert (jdk["version"], jdk["details"]["version_source"]) == ("1.8.0_392", "java -version")
    assert not [e for e in report["errors"] if e["location"] in (str(binary), f"{home}/bin/java")]
    assert not alive(java_child) and not alive(openssl_child)


def test_a_target_interpreter_run_for_its_openssl_leaves_nothing_running(tmp_path):
    venv, child = tmp_path / "venv", tmp_path / "child.pid"
    (venv / "lib" / "python2.7" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 2.7.3\n")
    script(venv / "bin" / "python", background(child, holds_output=True) + f"echo '{UBUNTU_1204_PYTHON}'\n")
    report = scan_json(venv, "--runtime")
    (fact,) = [c for c in report["components"] if c["kind"] == "openssl"]
    assert (fact["version"], fact["details"]["python_version"]) == ("1.0.1", "2.7.3")
    assert not alive(child)


def test_java_printing_100_mb_is_cut_at_the_cap_and_killed(tmp_path):
    writer = tmp_path / "writer.pid"
    home = jdk_home(tmp_path, f"head -c {100 * MIB} /dev/zero >&2 &\necho $! > '{writer}'\nwait\n")
    tracemalloc.start()
    started = time.monotonic()
    try:
        found = java_run(tmp_path, home)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert found.homes[0].version is None
    assert [e.message for e in found.errors] == [f"`java -version` printed more than {OUTPUT_CAP:,} bytes; killed"]
    assert peak < 4 * MIB and not alive(writer)


def test_openssl_printing_100_mb_is_cut_at_the_cap_and_killed(tmp_path):
    writer = tmp_path / "writer.pid"
    binary = script(tmp_path / "bin" / "openssl", f"yes '{OPENSSL_RHEL7}' | head -c {100 * MIB} &\necho $! > '{writer}'\nwait\n")
    tracemalloc.start()
    started = time.monotonic()
    try:
        (error,) = openssl.command_openssl(str(binary), "this machine").errors
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert (error.location, error.message) == (str(binary), f"openssl version printed more than {OUTPUT_CAP:,} bytes; killed")
    assert peak < 4 * MIB and not alive(writer)


@pytest.mark.parametrize("program", ["java", "openssl"])
def test_a_hang_is_killed_at_the_timeout_with_what_it_started(tmp_path, monkeypatch, program):
    child = tmp_path / "child.pid"
    hang = background(child) + "sleep 1000\n"
    started = time.monotonic()
    if program == "java":
        monkeypatch.setattr(java_module, "RUNTIME_TIMEOUT", 0.5)
        (message,) = [e.message for e in java_run(tmp_path, jdk_home(tmp_path, hang)).errors]
        assert message == "`java -version` did not end within 0.5 s; killed"
    else:
        (error,) = openssl.command_openssl(str(script(tmp_path / "bin" / "openssl", hang)), "this machine", timeout=0.5).errors
        assert error.message == "openssl version did not answer within 0.5 s; killed"
    assert 0.5 <= time.monotonic() - started < 3
    assert not alive(child)


# -- reads of a target's files -----------------------------------------------------------------------------

def deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes (size a multiple of 1 MiB), in milliseconds: after a full
    flush a compressor starts afresh, so one compressed MiB repeated is a valid stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * (size // MIB) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def zip_archive(members) -> bytes:
    """A zip file written field by field, so a member's directory entry can state any size:
    members are (name, method, data as stored, CRC-32, uncompressed size the entry declares)."""
    body, directory = bytearray(), bytearray()
    for name, method, data, crc, size in members:
        offset, encoded = len(body), name.encode()
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        body += encoded + data
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                                 len(encoded), 0, 0, 0, 0, 0o644 << 16, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0)
    return bytes(body + directory + end)


def bomb_egg(tmp_path, declared: int, expands_to: int):
    """The py27-easy-install virtualenv, its zipped boto 2.9.0 egg rebuilt with the real boto/__init__.py
    and an EGG-INFO/PKG-INFO that declares `declared` bytes and inflates to `expands_to`."""
    import zipfile

    venv = tmp_path / "py27"
    shutil.copytree(ENVS / "py27-easy-install", venv, symlinks=True)
    with zipfile.ZipFile(EGG) as real:
        init = real.read("boto/__init__.py")
    bomb = deflated_zeros(expands_to)
    egg = venv / "lib" / "python2.7" / "site-packages" / EGG.name
    egg.write_bytes(zip_archive([("boto/__init__.py", zipfile.ZIP_STORED, init, zlib.crc32(init), len(init)),
                                 ("EGG-INFO/PKG-INFO", zipfile.ZIP_DEFLATED, bomb, 0, declared)]))
    return venv, egg


def traced_scan(*args) -> tuple[dict, int]:
    tracemalloc.start()
    try:
        report = scan_json(*args)
        return report, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zipped_egg_whose_metadata_claims_a_gigabyte_is_refused_before_inflating(tmp_path):
    venv, egg = bomb_egg(tmp_path, declared=1 << 30, expands_to=1 << 30)
    report, peak = traced_scan(venv)
    errors = [e["message"] for e in report["errors"] if e["location"] == str(egg)]
    assert errors == ["cannot read zipped egg: EGG-INFO/PKG-INFO is 1073741824 bytes, over the 4194304-byte limit"]
    assert peak < 32 * MIB
    names = {c["name"]: c["version"] for c in report["components"] if c["kind"] == "python-package"}
    assert names["botocore"] == "0.21.0" and "boto" not in names  # the rest of the environment is read


def test_a_zipped_egg_whose_metadata_lies_about_its_size_is_never_inflated_whole(tmp_path):
    venv, egg = bomb_egg(tmp_path, declared=6034, expands_to=64 * MIB)
    report, peak = traced_scan(venv)
    errors = [e["message"] for e in report["errors"] if e["location"] == str(egg)]
    assert errors == ["cannot read zipped egg: Bad CRC-32 for file 'EGG-INFO/PKG-INFO'"]
    assert peak < 16 * MIB


# -- files named on the command line -----------------------------------------------------------------------

def sparse(path, size: int, head: bytes = b""):
    """A file of `size` bytes that takes no disk: `head`, then a hole."""
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def test_a_saved_report_over_the_cap_is_refused_and_one_at_the_cap_is_read(tmp_path):
    head = b'{"schema_version": "1.0", "findings": ['
    over = sparse(tmp_path / "over.json", SAVED_REPORT_CAP + 1, head)
    for command in (["render", over], ["merge", over, over], ["diff", over, over]):
        result = run("report", *command)
        assert (result.code, result.err) == (2, f"auditor: error: {over}: larger than {SAVED_REPORT_CAP:,} bytes; not read\n")
    at_cap = sparse(tmp_path / "at-cap.json", SAVED_REPORT_CAP, head)
    result = run("report", "render", at_cap)
    assert result.code == 2 and f"{at_cap}: not valid JSON" in result.err  # read whole, then parsed


WAIVER = """\
[[waivers]]
rule = "ats-python-sdk-before-cutoff"
component = "botocore"
location = "services/batch-{n:05d}/.venv/**"
reason = "Batch job {n} retired in Q1 2027; replacement tracked in OPS-{n}"
owner = "platform-team@example.com"
expires = 2026-12-31

"""


def test_a_waiver_file_over_the_cap_is_refused_and_one_under_it_is_loaded(tmp_path):
    entries, size = [], 0
    while size <= WAIVERS_CAP:  # the last one takes the file over the cap
        entries.append(WAIVER.format(n=len(entries)))
        size += len(entries[-1])
    under = tmp_path / "under.toml"
    under.write_text("".join(entries[:-1]))
    assert os.path.getsize(under) <= WAIVERS_CAP and len(load_waivers(str(under))) == len(entries) - 1
    over = tmp_path / "over.toml"
    over.write_text("".join(entries))
    assert os.path.getsize(over) > WAIVERS_CAP
    result = run("scan", ENVS / "py3-old-botocore", "--waivers", over)
    assert (result.code, result.err) == (2, f"auditor: error: --waivers {over}: larger than {WAIVERS_CAP:,} bytes; not read\n")


def test_an_env_file_over_the_cap_is_refused(tmp_path):
    from auditor.collect.config.environ import ENV_FILE_CAP

    env = tmp_path / "service.env"
    lines = [f"FEATURE_FLAG_{n:06d}=enabled\n" for n in range(ENV_FILE_CAP // 27 + 1)]
    env.write_text("AWS_CA_BUNDLE=/etc/pki/corp-ca.pem\n" + "".join(lines))
    assert os.path.getsize(env) > ENV_FILE_CAP
    result = run("scan", ENVS / "py3-old-botocore", "--env-file", env)
    assert result.code == 2 and result.err.endswith(f"{env}: larger than {ENV_FILE_CAP:,} bytes; not read\n")


def test_read_input_reads_at_most_one_byte_past_the_cap(tmp_path):
    """A file named on the command line is read up to cap + 1 bytes, however large it is; /dev/zero behind
    a link, which would never end, is refused as not a regular file."""
    class Refused(Exception):
        pass

    path = sparse(tmp_path / "growing.json", 10 * MIB)
    tracemalloc.start()
    try:
        with pytest.raises(Refused, match="larger than 1,024 bytes"):
            read_input(str(path), 1024, Refused)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    os.symlink("/dev/zero", tmp_path / "zero.json")
    with pytest.raises(Refused, match="not a regular file"):
        read_input(str(tmp_path / "zero.json"), 1024, Refused)
    assert json.loads(read_input(str(sparse(tmp_path / "small.json", 2, b"{}")), 1024, Refused)) == {}


@pytest.mark.parametrize("line", [
    "botocore[" + ",".join(["a"] * 400_000) + "]==0.21.0",  # extras: minutes for packaging to parse at 50 MB
    "botocore==0.21.0 " + "a# " * 300_000,  # no comment starts (each '#' follows a letter): one huge requirement
    "botocore==0.21.0 \\\n" * 20_000,  # continuations joined into one logical line
])
def test_a_requirement_line_past_the_cap_is_an_error_entry_and_the_rest_is_read(tmp_path, line):
    lockfile = tmp_path / "requirements.txt"
    lockfile.write_text(f"{line}\nboto==2.9.0\n")
    started = time.monotonic()
    report = scan_json(lockfile)
    assert time.monotonic() - started < 30  # bounded: today's parser takes minutes and gigabytes at this size
    (error,) = report["errors"]
    assert error["message"] == "line 1: longer than 65,536 characters, which no requirement is; not read"
    assert [(c["name"], c["version"]) for c in report["components"]] == [("boto", "2.9.0")]
    assert report["summary"]["not_scanned"] == 1


def test_a_manifest_naming_more_sdk_packages_than_any_project_is_capped(tmp_path):
    """400,000 `@aws-sdk/*` dependencies took 34 s and 2.95 GB: past 5,000 the rest is an error entry."""
    manifest = tmp_path / "package.json"
    dependencies = {f"@aws-sdk/client-service{i}": "^3.400.0" for i in range(6_000)}
    manifest.write_text(json.dumps({"name": "shop", "version": "1.0.0", "dependencies": dependencies}, indent=2))
    report = scan_json(manifest)
    assert len([c for c in report["components"] if c["kind"] == "sdk-manifest"]) == 5_000
    (error,) = report["errors"]
    assert error["message"] == "names 6,000 AWS SDK packages, more than the 5,000 a real project has; the first 5,000 are read"


def test_three_hundred_targets_scan_under_a_limit_of_128_open_files(tmp_path):
    """Each target is a View that reads through folder descriptors: the folders kept open are bounded for the whole
    process, not per View (300 targets once held 64 each: 'Too many open files' in every error entry)."""
    import resource
    import subprocess
    import sys

    targets = []
    for number in range(300):
        site = tmp_path / f"svc{number}" / ".venv" / "lib" / "python3.11" / "site-packages"
        (site / "botocore-1.31.0.dist-info").mkdir(parents=True)
        (site / "botocore-1.31.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: botocore\n"
                                                                      "Version: 1.31.0\n")
        (tmp_path / f"svc{number}" / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        targets.append(str(tmp_path / f"svc{number}"))

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    done = subprocess.run([sys.executable, "-m", "auditor", "scan", "-q", "--format", "json", *targets],
                          capture_output=True, text=True, preexec_fn=limit, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == []
    assert len([c for c in report["components"] if c["name"] == "botocore"]) == 300
