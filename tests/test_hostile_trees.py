"""Hostile trees, made here, for the three kinds of scan: an image (--root), a virtualenv, a repository tree.

Each tree is a realistic install (copied from tests/fixtures/envs) with hostile files where the scan reads:
symlink loops, links out of the target, FIFOs and devices, sparse multi-gigabyte files, a folder of
100,000 files, names that are not UTF-8, unreadable files, and code that would run if anything executed it.
Every scan must end within a bound, exit 0 or 1, and report each problem as an error entry. Scans that could
hang run in a subprocess with a timeout, so a bug fails the test instead of hanging pytest.
"""

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from conftest import ENVS, Result, run
from test_truststore import AMAZON_ROOT_CA_1

BOUND = 60  # seconds: generous on a loaded 2-core machine; every scan here takes well under 5
FORMATS = ("table", "json", "html", "markdown", "sarif", "junit", "csv", "cyclonedx")
TOKEN = "canary5e1f0c9a7d"  # the content of the files outside the target: it must never reach a report
SITE = ENVS / "py3-old-botocore"  # a venv made by pip: botocore 0.21.0 and awscli 1.2.1, both pre-cutoff
DEBIAN_OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                     'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')
GIB = 1 << 30


# -- running scans ----------------------------------------------------------------------------------------

def scan(*args, timeout=BOUND, limit_memory=None, codes=(0, 1)) -> Result:
    """`auditor scan -q ARGS` in a subprocess, killed after `timeout` seconds. The output must be UTF-8
    and the exit code one of `codes`, with no traceback. `limit_memory`: an address-space limit in bytes."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit_memory, limit_memory))

    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "auditor", "scan", "-q", *map(str, args)], capture_output=True,
                              timeout=timeout, preexec_fn=limit if limit_memory else None)
    except subprocess.TimeoutExpired:
        pytest.fail(f"auditor scan {' '.join(map(str, args))} did not finish within {timeout} s")
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode in codes and "Traceback" not in err, err
    result = Result(done.returncode, done.stdout.decode("utf-8"), err)  # strict: the report is valid UTF-8
    result.seconds = time.monotonic() - started
    return result


def every_format(*args) -> dict[str, str]:
    """The report in every format, after one bounded subprocess run proved the scan ends (the other
    formats run in process, faster). Each must be valid UTF-8 text, as a terminal or file receives it."""
    outputs = {"json": scan(*args, "--format", "json").out}
    for name in FORMATS:
        if name != "json":
            result = run("scan", "-q", "--format", name, *args)
            assert result.code in (0, 1), result.err
            result.out.encode("utf-8")  # a lone surrogate (a non-UTF-8 name) would fail here, as it fails on stdout
            outputs[name] = result.out
    return outputs


def assert_error(messages: dict[str, list[str]], where: str, text: str) -> None:
    """An error entry at `where` (as the report shows it) whose message holds `text`."""
    assert any(text in m for m in messages.get(where, [])), (where, text, sorted(messages.items()))


def errors_at(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in report["errors"]:
        found.setdefault(error["location"], []).append(error["message"])
    return found


def versions(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for component in report["components"]:
        if component["kind"] == "python-package":
            found.setdefault(component["name"], []).append(component["version"])
    return found


# -- trees ------------------------------------------------------------------------------------------------

def make_venv(path):
    """A virtualenv pip made: botocore 0.21.0 and awscli 1.2.1. Returns its site-packages."""
    shutil.copytree(SITE, path, symlinks=True)
    return path / "lib" / "python3.11" / "site-packages"


def make_repo(path):
    """A service repository: a pinned requirements file, code, and its .venv. Returns the venv's site-packages."""
    path.mkdir(parents=True)
    (path / "requirements.txt").write_text("boto3==1.4.0\nrequests==2.31.0\n")
    (path / "app.py").write_text('import boto3\n\nclient = boto3.client("dynamodb", verify=False)\n')
    return make_venv(path / ".venv")


def make_image(path):
    """A Debian 12 image: os-release, the OS bundle with Amazon Root CA 1, python3-boto in dist-packages.
    Returns its dist-packages."""
    (path / "etc" / "ssl" / "certs").mkdir(parents=True)
    (path / "etc" / "os-release").write_text(DEBIAN_OS_RELEASE)
    (path / "etc" / "ssl" / "certs" / "ca-certificates.crt").write_bytes(AMAZON_ROOT_CA_1)
    shutil.copytree(ENVS / "debian-dist-packages" / "usr" / "lib" / "python3", path / "usr" / "lib" / "python3")
    return path / "usr" / "lib" / "python3" / "dist-packages"


def make(kind, path):
    """A fresh tree of `kind` at `path`: (its site directory, the arguments that scan it)."""
    if kind == "image":
        return make_image(path), ("--root", path)
    return (make_venv(path) if kind == "venv" else make_repo(path)), (path,)


def shown_as(kind, top, path) -> str:
    """`path` as the report shows it: inside an image, from the image's /."""
    return "/" + os.path.relpath(path, top) if kind == "image" else str(path)


def expected_packages(kind) -> dict[str, list[str]]:
    return {"boto": ["2.49.0"]} if kind == "image" else (
        {"awscli": ["1.2.1"], "botocore": ["0.21.0"]} | ({"boto3": ["1.4.0"]} if kind == "repo" else {}))


def plain(report: dict) -> dict[str, list[str]]:
    """The packages found, without the ones the hostile part of a tree may add."""
    return {name: sorted(v, key=str) for name, v in versions(report).items() if name in ("boto", "awscli", "botocore", "boto3")}


KINDS = ("image", "venv", "repo")


# -- 1. symlink loops -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_symlink_loops_end_as_error_entries(tmp_path, kind):
    top = tmp_path / kind
    site, args = make(kind, top)
    (site / "boto3-1.0.0.dist-info").symlink_to("boto3-1.0.0.dist-info")  # itself
    (site / "s3transfer-0.1.0.dist-info").mkdir()
    (site / "s3transfer-0.1.0.dist-info" / "METADATA").symlink_to("PKG-INFO")  # a two-link cycle
    (site / "s3transfer-0.1.0.dist-info" / "PKG-INFO").symlink_to("METADATA")
    (site / "loop.pth").symlink_to("loop.pth")
    (site / "up").symlink_to("..")  # a directory link to its parent, and one to the top
    (site / "top").symlink_to(os.path.relpath(top, site))
    (site / "paths.pth").write_text("up/up/up\ntop\nup/site-packages/up\n")
    (top / "again").symlink_to(".")
    if kind == "image":
        (top / "etc" / "ssl" / "cert.pem").symlink_to("cert.pem")
        (top / "etc" / "ssl" / "ca-bundle.pem").symlink_to("/etc/pki/tls/certs/ca-bundle.crt")
        (top / "etc" / "pki" / "tls" / "certs").mkdir(parents=True)
        (top / "etc" / "pki" / "tls" / "certs" / "ca-bundle.crt").symlink_to("/etc/ssl/ca-bundle.pem")
        (top / "usr" / "lib" / "os-release").symlink_to("../../etc/os-release")
        (top / "etc" / "lsb-release").symlink_to("lsb-release")
        (top / "opt").mkdir()
        (top / "opt" / "app").symlink_to("/opt")  # application folders and homes are searched for manifests
        (top / "srv").mkdir()
        (top / "srv" / "shop").symlink_to("shop")
        (top / "home" / "alice").mkdir(parents=True)
        (top / "home" / "alice" / "up").symlink_to("..")
        (top / "home" / "bob").symlink_to("bob")
    if kind == "repo":
        (top / "requirements-dev.txt").symlink_to("requirements-dev.txt")
        (top / "constraints.txt").symlink_to("requirements-ci.txt")
        (top / "requirements-ci.txt").symlink_to("constraints.txt")
    result = scan(*args, "--format", "json")
    report = result.json
    assert plain(report) == expected_packages(kind)
    loops = [location for location, messages in errors_at(report).items()
             if any("symlink loop" in m for m in messages)]
    assert shown_as(kind, top, site / "boto3-1.0.0.dist-info" / "METADATA") in loops
    assert shown_as(kind, top, site / "s3transfer-0.1.0.dist-info" / "METADATA") in loops
    assert shown_as(kind, top, site / "loop.pth") in loops
    if kind == "image":
        assert {"/etc/ssl/cert.pem", "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/certs/ca-bundle.crt", "/home/bob"} <= set(loops)
        stores = {c["location"]: c["details"] for c in report["components"] if c["kind"] == "trust-store"}
        assert stores["/etc/ssl/certs/ca-certificates.crt"]["anchors"] == ["Amazon Root CA 1"]
    if kind == "repo":
        assert {str(top / n) for n in ("requirements-dev.txt", "constraints.txt", "requirements-ci.txt")} <= set(loops)


# -- 2 and 9. links out of the target, and the canary behind them ------------------------------------------

def make_outside(path):
    """What lies outside the target, every file carrying TOKEN: a site directory with botocore, a bundle
    holding Amazon Root CA 1 (no store inside the targets holds an anchor), an os-release, a requirements
    file, code, a .pth file."""
    site = path / "site"
    (site / "botocore-0.0.1.dist-info").mkdir(parents=True)
    (site / "botocore-0.0.1.dist-info" / "METADATA").write_text(f"Metadata-Version: 2.1\nName: botocore\nVersion: 0.0.1+{TOKEN}\n")
    (site / "botocore").mkdir()
    (site / "botocore" / "__init__.py").write_text(f"__version__ = '0.0.1+{TOKEN}'\n")
    canary = AMAZON_ROOT_CA_1.replace(b"-----END", f"{TOKEN}\n-----END".encode())
    (path / "canary.pem").write_bytes(f"{TOKEN}\n".encode() + canary)
    (path / "os-release").write_text(f'ID={TOKEN}\nVERSION_ID="1"\nPRETTY_NAME="{TOKEN}"\n')
    (path / "requirements.txt").write_text(f"botocore==0.0.1+{TOKEN}\n-r {TOKEN}.txt\n")
    (path / "app.py").write_text(f'import boto3\n\nboto3.client("s3", verify="/{TOKEN}.pem")\n')
    (path / "evil.pth").write_text(f"{site}\n{TOKEN}\n")
    return site


def link_out(link, target, relative):
    """A symlink at `link` to `target` outside, absolute or climbing with '..'."""
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(target, link.parent) if relative else target)


def hostile_links(site, top, outside):
    """Links out of the target from a site directory: files and directories, absolute and '..', a chain,
    and .pth path lines."""
    for relative in (False, True):
        tag = "rel" if relative else "abs"
        link_out(site / f"boto3-1.{int(relative)}.0.dist-info", outside / "site" / "botocore-0.0.1.dist-info", relative)
        link_out(site / f"s3transfer-0.{int(relative)}.0.dist-info" / "METADATA",
                 outside / "site" / "botocore-0.0.1.dist-info" / "METADATA", relative)
        link_out(site / f"out-{tag}.pth", outside / "evil.pth", relative)
        link_out(site / f"vendor-{tag}", outside / "site", relative)
        link_out(site / ("boto3" if relative else "botocore"), outside / "site" / "botocore", relative)
    (site / "chain-1").symlink_to("chain-2")
    link_out(site / "chain-2", outside / "site", relative=False)
    (site / "zz-paths.pth").write_text(f"{outside / 'site'}\n{os.path.relpath(outside / 'site', site)}\nchain-1\n")
    link_out(top / "outside", outside, relative=True)


@pytest.mark.parametrize("kind", KINDS)
def test_links_out_of_the_target_are_not_followed(tmp_path, kind):
    outside = tmp_path / "outside"
    make_outside(outside)
    top = tmp_path / kind
    site, args = make(kind, top)
    if kind != "image":
        shutil.rmtree(site / "botocore")  # linked out below; the dist-info still says 0.21.0
    hostile_links(site, top, outside)
    if kind == "image":
        etc = top / "etc"
        (etc / "ssl" / "certs" / "ca-certificates.crt").unlink()
        link_out(etc / "ssl" / "certs" / "ca-certificates.crt", outside / "canary.pem", relative=False)
        link_out(etc / "ssl" / "cert.pem", outside / "canary.pem", relative=True)
        link_out(etc / "ssl" / "certs" / "ce5e74ef.0", outside / "canary.pem", relative=True)
        link_out(etc / "pki" / "tls" / "certs" / "ca-bundle.crt", outside / "canary.pem", relative=False)
        (etc / "os-release").unlink()
        link_out(etc / "os-release", outside / "os-release", relative=False)
        link_out(top / "usr" / "lib" / "os-release", outside / "os-release", relative=True)
        link_out(top / "usr" / "local" / "lib" / "python3.11" / "site-packages", outside / "site", relative=True)
        link_out(top / "usr" / "lib" / "python3.11" / "site-packages", outside / "site", relative=False)
        link_out(top / "root" / ".local" / "lib" / "python3.11" / "site-packages", outside / "site", relative=False)
        link_out(top / "home" / "alice", outside, relative=True)
    if kind == "repo":
        (top / "requirements-abs.txt").symlink_to(outside / "requirements.txt")
        link_out(top / "requirements-rel.txt", outside / "requirements.txt", relative=True)
        (top / "requirements-dev.txt").write_text(f"-r {outside / 'requirements.txt'}\n-r ../outside/requirements.txt\n")
        link_out(top / "src" / "app.py", outside / "app.py", relative=True)
        link_out(top / "src" / "vendor", outside / "site", relative=False)
        link_out(top / "third_party", outside, relative=True)
    outputs = every_format(*args)
    for name, text in outputs.items():
        assert TOKEN not in text, f"the --format {name} report holds what lies outside the target"
    report = json.loads(outputs["json"])
    # The boto3 package folder is a link out: the package is there for Python, its version cannot be read.
    expected = expected_packages(kind)
    expected["boto3"] = sorted(expected.get("boto3", []) + [None], key=str)
    assert plain(report) == expected
    assert errors_at(report).get(shown_as(kind, top, site / "boto3" / "__init__.py"))
    stores = {c["location"]: c["details"] for c in report["components"] if c["kind"] == "trust-store"}
    configs = [c["location"] for c in report["components"] if c["kind"] == "trust-config"]
    errors = errors_at(report)
    if kind == "image":  # its absolute links mean the image's own files, its '..' stop at its /: all missing here
        assert stores["/etc/ssl/certs"]["certificates"] == 0
        assert not [loc for loc, details in stores.items() if loc.startswith("/etc/") and details["certificates"]]
        assert not [c for c in report["components"] if c["kind"] == "os"]
        return
    assert configs == ([f"{top}/app.py"] if kind == "repo" else []), "code outside the target was read"
    refused = {loc for loc, messages in errors.items() if any("leaves the scanned target; not followed" in m for m in messages)}
    for tag, version in (("abs", "0"), ("rel", "1")):
        assert {f"{site}/boto3-1.{version}.0.dist-info/METADATA", f"{site}/s3transfer-0.{version}.0.dist-info/METADATA",
                f"{site}/out-{tag}.pth"} <= refused
    assert [m.split(":")[0] for m in errors[f"{site}/zz-paths.pth"]] == ["line 1", "line 2", "line 3"]  # line 3: a link chain that leads out
    if kind == "repo":
        assert {f"{top}/requirements-abs.txt", f"{top}/requirements-rel.txt", f"{top}/src/app.py"} <= refused
        assert [m.split(":")[0] for m in errors[f"{top}/requirements-dev.txt"]] == ["line 1", "line 2"]


# -- 3. FIFOs and devices where files are expected ---------------------------------------------------------

def fifo(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)


def device(path):
    """A character device with /dev/zero's numbers: reading it never ends. Only root can make one (CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mknod(path, stat.S_IFCHR | 0o644, os.stat("/dev/zero").st_rdev)


@pytest.mark.parametrize("kind", KINDS)
def test_fifos_and_devices_are_error_entries(tmp_path, kind):
    top = tmp_path / kind
    site, args = make(kind, top)
    specials = {site / "boto3-1.0.0.dist-info" / "METADATA": fifo, site / "s3transfer-0.1.0.dist-info" / "METADATA": device,
                site / "fifo.pth": fifo, site / "zero.pth": device}
    if kind == "image":
        etc = top / "etc"
        specials |= {etc / "ssl" / "certs" / "ca-certificates.crt": fifo, etc / "ssl" / "cert.pem": device,
                     etc / "ssl" / "certs" / "zero.pem": device, etc / "os-release": fifo, top / "usr" / "lib" / "os-release": device,
                     etc / "lsb-release": fifo, etc / "debian_version": device, etc / "ca-certificates.conf": fifo}
    else:
        specials |= {site / "requests" / "cacert.pem": fifo, site.parent.parent.parent / "pyvenv.cfg": device}
    if kind == "repo":
        specials |= {top / "requirements.txt": fifo, top / "constraints.txt": device, top / "app.py": fifo,
                     top / "deploy.sh": device, top / "package-lock.json": fifo, top / "Gemfile.lock": device}
    for path, make_special in specials.items():
        make_special(path)
    report = scan(*args, "--format", "json").json
    messages = errors_at(report)
    for path, make_special in specials.items():
        what = "a FIFO" if make_special is fifo else "a device"
        assert_error(messages, shown_as(kind, top, path), f"not a regular file ({what}); not read")
    expected = expected_packages(kind)
    if kind == "repo":
        del expected["boto3"]  # its requirements file is the FIFO
    assert plain(report) == expected


# -- 4. sparse multi-gigabyte files ------------------------------------------------------------------------

def sparse(path, size=4 * GIB):
    """A file of `size` bytes that takes no disk space (a hole), as a hostile image or a broken copy holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    with open(path, "wb"):
        pass
    os.truncate(path, size)


@pytest.mark.parametrize("kind", KINDS)
def test_sparse_huge_files_are_refused_unread(tmp_path, kind):
    top = tmp_path / kind
    site, args = make(kind, top)
    huge = [site / "boto3-1.0.0.dist-info" / "METADATA", site / "huge.pth"]
    if kind == "image":
        huge += [top / "etc" / "ssl" / "certs" / "ca-certificates.crt", top / "etc" / "os-release",
                 top / "etc" / "ssl" / "certs" / "huge.pem"]
    else:
        huge += [site / "requests" / "cacert.pem"]
    if kind == "repo":
        huge += [top / "requirements.txt", top / "app.py", top / "package-lock.json"]
    for path in huge:
        sparse(path)
    # Reading any of them whole would need 4 GiB: the scan runs with 1 GiB of address space.
    result = scan(*args, "--format", "json", limit_memory=GIB)
    report = result.json
    messages = errors_at(report)
    for path in huge:
        assert_error(messages, shown_as(kind, top, path), f"file is {4 * GIB} bytes, over the")


# -- 5. 100,000 files in one folder ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hundred_thousand_files(tmp_path_factory):
    """One folder of 100,000 empty Python files, made once (about a second) and moved into each tree."""
    folder = tmp_path_factory.mktemp("many") / "handlers"
    folder.mkdir()
    started = time.monotonic()
    for i in range(100_000):
        os.close(os.open(folder / f"handler_{i:06d}.py", os.O_CREAT | os.O_WRONLY, 0o644))
    print(f"100,000 files made in {time.monotonic() - started:.1f} s")
    return folder


@pytest.mark.parametrize("kind", KINDS)
def test_a_folder_of_100000_files_is_scanned_within_the_bound(tmp_path, kind, hundred_thousand_files):
    top = tmp_path / kind
    site, args = make(kind, top)
    # the image's and the venv's site directory; in the repository, a folder of code read for trust settings
    folder = top / "generated" if kind == "repo" else site
    moved = os.listdir(folder) if folder.exists() else []
    for name in moved:  # the site directory's own few entries join the 100,000 files, which take its place
        os.rename(folder / name, hundred_thousand_files / name)
    if moved:
        folder.rmdir()
    os.rename(hundred_thousand_files, folder)
    try:
        result = scan(*args, "--format", "json")
    finally:
        os.rename(folder, hundred_thousand_files)
        for name in moved:
            entry = hundred_thousand_files / name
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    print(f"{kind}: a folder of 100,000 files scanned in {result.seconds:.1f} s")
    report = result.json
    assert plain(report) == expected_packages(kind)
    if kind == "repo":
        assert next(t for t in report["targets"] if t["kind"] == "tree")["details"]["source_files"] == 100_001
    else:  # listed whole, each file passed over unread
        environment = next(t for t in report["targets"] if t["kind"] == "environment")
        assert environment["details"]["distributions"] == len([n for n in moved if n.endswith((".dist-info", ".egg-info"))])


# -- 6. names that are not UTF-8 ---------------------------------------------------------------------------

def raw(name: bytes) -> str:
    """A file name as Python holds a non-UTF-8 name: undecodable bytes as lone surrogates."""
    return os.fsdecode(name)


def escaped(text: str) -> str:
    """How a report shows such a name: each undecodable byte as \\xNN."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


@pytest.mark.parametrize("kind", KINDS)
def test_names_that_are_not_utf8_are_written_in_every_format(tmp_path, kind):
    top = tmp_path / kind
    site, args = make(kind, top)
    (site / raw(b"\xff\xfe.dist-info")).mkdir()
    botocore = site / raw(b"botocore-0.20.0\xe9.dist-info") / "METADATA"  # pre-cutoff: a finding, shown in every format
    botocore.parent.mkdir()
    botocore.write_text("Metadata-Version: 2.1\nName: botocore\nVersion: 0.20.0\n")
    (site / "s3transfer-0.1.0.dist-info").mkdir()
    (site / "s3transfer-0.1.0.dist-info" / "METADATA").symlink_to(raw(b"/\xff\xfe/METADATA"))
    expected = {escaped(shown_as(kind, top, botocore))}
    if kind == "image":
        bundle = top / "etc" / "ssl" / "certs" / raw(b"ca-\xe9.pem")
        bundle.write_bytes(b"not a certificate\n")
        expected.add(escaped(shown_as(kind, top, bundle)))
    if kind == "repo":
        folder = top / raw(b"caf\xe9")
        folder.mkdir()
        (folder / "requirements.txt").write_text("botocore==0.20.0\n")
        (folder / raw(b"app-\xe9.py")).write_text('import boto3\n\nboto3.client("s3", verify=False)\n')
        expected |= {escaped(str(folder / "requirements.txt")), escaped(str(folder / raw(b"app-\xe9.py")))}
    outputs = every_format(*args)
    report = json.loads(outputs["json"])
    locations = {c["location"] for c in report["components"]} | {e["location"] for e in report["errors"]}
    assert expected <= locations
    if kind != "image":  # the link's own text, escaped in the message
        assert_error(errors_at(report), str(site / "s3transfer-0.1.0.dist-info" / "METADATA"),
                     "symlink to /\\xff\\xfe/METADATA leaves the scanned target")
    for name, text in outputs.items():
        assert "xe9" in text, name  # \xe9, or %5Cxe9 in SARIF's URIs


@pytest.mark.parametrize("kind", KINDS)
def test_a_target_whose_own_name_is_not_utf8(tmp_path, kind):
    top = tmp_path / raw(kind.encode() + b"-\xe9")
    _, args = make(kind, top)
    report = scan(*args, "--format", "json").json
    assert escaped(str(top)) in {t["location"] for t in report["targets"]}


# -- 7. files and folders the scanning user may not read ---------------------------------------------------

NOBODY = 65534


@pytest.fixture
def open_tmp():
    """A temporary folder the user nobody can reach: pytest's tmp_path lies below a folder only root may enter."""
    path = tempfile.mkdtemp(prefix="auditor-hostile-")
    os.chmod(path, 0o755)
    yield Path(path)
    _unlock(path)  # the tests lock folders; an unprivileged user could not remove them
    shutil.rmtree(path)


def _unlock(folder: str) -> None:
    os.chmod(folder, 0o755)  # before listing it: a locked folder cannot be listed
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            _unlock(entry.path)


def scan_as_nobody(tmp, *args, timeout=BOUND, codes=(0, 1)) -> Result:
    """The scan in a forked child that drops to nobody (uid and gid 65534), as CI runs the tests as root.
    The interpreter and the package may lie below root's 0700 home, so nothing may be imported after the drop:
    the same scan runs first as root, in this process, which imports every module it needs. The rule data is
    read by every scan, so the child reads a copy of it in `tmp`."""
    from auditor.rule_data import rules_dir

    if os.geteuid() != 0:  # already unprivileged: the locked files are as unreadable to this user
        return scan(*args, "--format", "json", timeout=timeout, codes=codes)
    warm = run("scan", "-q", "--format", "json", *args)
    assert warm.code in (0, 1, 2), warm.err  # root may read what nobody cannot
    shutil.copytree(rules_dir(), tmp / "rules", dirs_exist_ok=True)
    (tmp / "home").mkdir(mode=0o755, exist_ok=True)
    output = tempfile.TemporaryFile()  # the child's report, written through the descriptor it inherits
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        payload = {"code": "crashed", "out": "", "err": ""}
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.environ.update(HOME=str(tmp / "home"), AUDITOR_RULES_DIR=str(tmp / "rules"))
            result = run("scan", "-q", "--format", "json", *args)
            payload = {"code": result.code, "out": result.out, "err": result.err, "uid": os.getuid()}
        except BaseException:
            payload["err"] = traceback.format_exc()
        finally:
            output.write(json.dumps(payload).encode())
            output.flush()
            os._exit(0)
    deadline = time.monotonic() + timeout
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the scan as nobody did not finish within {timeout} s")
        time.sleep(0.02)
    with output:
        output.seek(0)
        payload = json.loads(output.read())
    assert payload["code"] in codes and payload.get("uid") == NOBODY, payload["err"]
    return Result(payload["code"], payload["out"], payload["err"])


@pytest.mark.parametrize("kind", KINDS)
def test_unreadable_files_and_folders_are_error_entries(open_tmp, kind):
    top = open_tmp / kind
    site, args = make(kind, top)
    for folder, _, files in os.walk(top):  # copied from the fixtures: make every part readable to all first
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    locked_metadata = site / "boto3-1.0.0.dist-info" / "METADATA"
    locked_metadata.parent.mkdir()
    locked_metadata.write_text("Metadata-Version: 2.1\nName: boto3\nVersion: 1.0.0\n")
    locked_dist = site / "s3transfer-0.1.0.dist-info"
    locked_dist.mkdir()
    (locked_dist / "METADATA").write_text("Metadata-Version: 2.1\nName: s3transfer\nVersion: 0.1.0\n")
    (site / "locked.pth").write_text("vendor\n")
    unreadable = [locked_metadata, locked_dist / "METADATA", site / "locked.pth"]
    locked = [locked_metadata, locked_dist, site / "locked.pth"]
    if kind == "image":
        etc = top / "etc"
        (etc / "pki" / "tls" / "certs").mkdir(parents=True)
        (etc / "pki" / "tls" / "certs" / "ca-bundle.crt").write_bytes(AMAZON_ROOT_CA_1)
        (etc / "ssl" / "cert.pem").write_bytes(AMAZON_ROOT_CA_1)
        local = top / "usr" / "local" / "lib" / "python3.11"
        (local / "site-packages").mkdir(parents=True)
        (top / "home" / "alice" / ".local").mkdir(parents=True)
        unreadable += [etc / "ssl" / "cert.pem", etc / "pki" / "tls" / "certs" / "ca-bundle.crt", etc / "os-release",
                       local / "site-packages", top / "home" / "alice"]
        locked += [etc / "ssl" / "cert.pem", etc / "pki" / "tls", etc / "os-release", local, top / "home" / "alice"]
    else:
        unreadable.append(site / "requests" / "cacert.pem")
        locked.append(site / "requests" / "cacert.pem")
    if kind == "repo":
        (top / "services" / "billing").mkdir(parents=True)
        (top / "services" / "billing" / "requirements.txt").write_text("botocore==0.20.0\n")
        unreadable += [top / "requirements.txt", top / "app.py", top / "services"]
        locked += [top / "requirements.txt", top / "app.py", top / "services"]
    for path in locked:
        os.chmod(path, 0)
    result = scan_as_nobody(open_tmp, *args)
    report = result.json
    messages = errors_at(report)
    for path in unreadable:
        assert_error(messages, shown_as(kind, top, path), "Permission denied")
    expected = expected_packages(kind)
    if kind == "repo":
        del expected["boto3"]  # pinned in the unreadable requirements file
    assert plain(report) == expected


# -- 8. code that would run if anything executed it --------------------------------------------------------

def marker_code(markers, name):
    return f"open({str(markers / name)!r}, 'w').write('ran')"


def plant_code(site, markers):
    """sitecustomize, usercustomize, .pth import lines and a package __init__ that each leave a marker when run."""
    markers.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(marker_code(markers, "sitecustomize") + "\n")
    (site / "usercustomize.py").write_text(marker_code(markers, "usercustomize") + "\n")
    (site / "aaa-evil.pth").write_text(f"import os; {marker_code(markers, 'pth')}\n")
    (site / "easy-install.pth").write_text(f"import sys; sys.__plen = len(sys.path); {marker_code(markers, 'egginsert')}\n"
                                           "./botocore-0.21.0-py3.11.egg\n"
                                           "import sys; new = sys.path[sys.__plen:]; del sys.path[sys.__plen:]; "
                                           "p = getattr(sys, '__egginsert', 0); sys.path[p:p] = new; sys.__egginsert = p + len(new)\n")
    (site / "botocore").mkdir(exist_ok=True)
    (site / "botocore" / "__init__.py").write_text(f"{marker_code(markers, 'botocore-init')}\n__version__ = '0.21.0'\n")


def fake_program(path, markers, name):
    """A program of the image that leaves a marker when run (an image's programs are never run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch {markers / name}\n")
    path.chmod(0o755)


@pytest.mark.parametrize("kind", KINDS)
def test_no_code_of_the_target_runs(tmp_path, kind):
    markers = tmp_path / "markers"
    top = tmp_path / kind
    site, args = make(kind, top)
    if kind == "image":
        plant_code(site, markers)
        user_site = top / "root" / ".local" / "lib" / "python3.11" / "site-packages"
        user_site.mkdir(parents=True)
        plant_code(user_site, markers)
        fake_program(top / "usr" / "bin" / "python3", markers, "image-python3")
        fake_program(top / "usr" / "bin" / "openssl", markers, "image-openssl")
        pipx = top / "opt" / "pipx" / "venvs" / "awscli"
        (pipx / "pyvenv.cfg").parent.mkdir(parents=True)
        (pipx / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n")
        fake_program(pipx / "bin" / "python", markers, "pipx-python")
        (pipx / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
        plant_code(pipx / "lib" / "python3.11" / "site-packages", markers)
    else:
        # A real interpreter for --runtime: the venv's own bin/python, as python -m venv makes it.
        venv = site.parent.parent.parent
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        plant_code(site, markers)
    if kind == "repo":
        (top / "setup.py").write_text(f"{marker_code(markers, 'setup.py')}\nfrom setuptools import setup\nsetup(name='svc')\n")
        (top / "sitecustomize.py").write_text(marker_code(markers, "repo-sitecustomize") + "\n")
        (top / "conftest.py").write_text(marker_code(markers, "conftest") + "\n")
    plain_scan = scan(*args, "--format", "json").json
    if kind == "image":  # nothing in an image is ever run: --runtime is refused (test_image_context.py)
        refused = scan(*args, "--format", "json", "--runtime", codes=(2,))
        assert refused.code == 2 and "nothing in an image is ever run" in refused.err
        runtime_scan = plain_scan
    else:
        runtime_scan = scan(*args, "--format", "json", "--runtime").json
    assert sorted(os.listdir(markers)) == [], "code of the target ran"
    # botocore/__init__.py was read as text: its __version__ literal is reported, its code never ran
    expected = {"boto": ["2.49.0"], "botocore": ["0.21.0"] * 3} if kind == "image" else expected_packages(kind)
    assert plain(plain_scan) == plain(runtime_scan) == expected
    ran = [c for c in runtime_scan["components"] if c["kind"] == "openssl" and "--runtime" in c["source"]]
    if kind != "image":
        assert [c["location"] for c in ran] == [str(site.parent.parent.parent / "bin" / "python3")]


# -- problems once passed over in silence ------------------------------------------------------------------

def test_a_package_init_that_is_a_fifo_is_an_error_entry(tmp_path):
    site = make_venv(tmp_path / "venv")
    fifo(site / "botocore" / "__init__.py")
    report = scan(tmp_path / "venv", "--format", "json").json
    assert "not a regular file (a FIFO); not read" in errors_at(report).get(str(site / "botocore" / "__init__.py"), [])


def test_a_pth_line_through_a_link_out_is_an_error_entry(tmp_path):
    make_outside(tmp_path / "outside")
    site = make_venv(tmp_path / "venv")
    (site / "vendor").symlink_to(tmp_path / "outside" / "site")
    (site / "vendor.pth").write_text("vendor\n")
    report = scan(tmp_path / "venv", "--format", "json").json
    assert any("line 1" in m for m in errors_at(report).get(str(site / "vendor.pth"), []))
