"""A real distribution image: a small Debian root made by mmdebstrap (the essential packages, ca-certificates and
Debian's python3-botocore, from the mirror and suite this machine's apt uses), made an OCI image by umoci and a
docker-archive by skopeo, with later layers made by the distribution's own tools run in the unpacked root: the
Amazon and Starfield roots deselected in /etc/ca-certificates.conf and update-ca-certificates run (its whiteouts
delete their links), then python3-botocore purged by dpkg (its whiteouts delete the SDK).

`scan --image` of the layout and of the archive find what `scan --root` finds in the unpacked image, and what the
distribution's packages mean is said: the OS store with its ATS anchors, Debian's botocore with its version and
the store it really uses (Debian's certifi, patched to return the OS bundle).

mmdebstrap needs a Debian mirror (about a minute here); the test skips only when mmdebstrap is absent and
AUDITOR_REQUIRE_IMAGE_TOOLS is unset. Everything it makes is below pytest's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import scan_json
from test_images import errors, findings, installs, named, sh, tools

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
DIST_PACKAGES = "usr/lib/python3/dist-packages"
MERGED_USR_HOOKS = Path("/usr/share/mmdebstrap/hooks/merged-usr")
# What a slim image leaves out (as the Debian images' own dpkg excludes do), and botocore's 80 MB of service models,
# which no scan reads: the root stays small.
EXCLUDED = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", f"/{DIST_PACKAGES}/botocore/data/*")
ATS_ANCHORS = {"Amazon Root CA 1", "Starfield Services Root Certificate Authority - G2"}


def apt_source() -> tuple[str, str]:
    """The mirror and suite of this machine's first Debian source (deb822 .sources or one-line sources.list)."""
    files = sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]
    for path in files:
        text = path.read_text() if path.is_file() else ""
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^(Types|URIs|Suites):\s*(.+)$", stanza, re.M))
            if "deb" in fields.get("Types", "").split() and fields.get("URIs") and fields.get("Suites"):
                return fields["URIs"].split()[0], fields["Suites"].split()[0]
        for line in text.splitlines():
            match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
            if match:
                return match.group(1), match.group(2)
    pytest.fail("no Debian source in /etc/apt/sources.list*: mmdebstrap needs a mirror")


# In a user and mount namespace (no privilege needed): the host's /dev/null bound where the root has none (an
# image's /dev is its runtime's), then the command run chrooted as the namespace's root.
CHROOTED = 'mkdir "$0/dev" && touch "$0/dev/null" && mount --bind /dev/null "$0/dev/null" && exec chroot "$0" "$@"'


def in_root(root: Path, *command: str) -> None:
    """Run one of the image's own programs in its root, as its root user; the root is left as the program left it."""
    assert not (root / "dev").exists()
    done = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c", CHROOTED, root, *command],
                          capture_output=True, text=True)
    (root / "dev" / "null").unlink()
    (root / "dev").rmdir()
    assert done.returncode == 0, f"{' '.join(command)} in {root}: {done.stderr}"


def deselect_amazon_and_starfield(root: Path) -> None:
    conf = root / "etc/ca-certificates.conf"
    conf.write_text(re.sub(r"^(mozilla/(Amazon|Starfield)_)", r"!\1", conf.read_text(), flags=re.M))
    in_root(root, "/usr/sbin/update-ca-certificates", "--fresh")


def purge_botocore(root: Path) -> None:
    in_root(root, "/usr/bin/dpkg", "--purge", "python3-botocore")


@pytest.fixture(scope="module")
def debian(tmp_path_factory):
    """The OCI layout with `base` (the mmdebstrap root), `hardened` (+ the CA layer) and `slim` (+ the purge layer),
    the docker-archive twins of the first two, the `--root` scans of their roots unpacked."""
    if shutil.which("mmdebstrap") is None and os.environ.get("AUDITOR_REQUIRE_IMAGE_TOOLS") != "1":
        pytest.skip("mmdebstrap not on PATH")
    tools()
    for tool in ("mmdebstrap", "unshare"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not on PATH (apt-get install mmdebstrap uidmap)")
    work = tmp_path_factory.mktemp("debian")
    mirror, suite = apt_source()
    rootfs = work / "rootfs.tar"
    command = ["mmdebstrap", "--variant=essential", "--include=ca-certificates,python3-botocore", "--skip=output/dev",
               *(f"--dpkgopt=path-exclude={path}" for path in EXCLUDED),
               f"--dpkgopt=path-include=/{DIST_PACKAGES}/botocore/data/endpoints.json"]
    if MERGED_USR_HOOKS.is_dir():  # merged /usr without the usrmerge package (and the perl it pulls in)
        command.append(f"--hook-dir={MERGED_USR_HOOKS}")
    done = subprocess.run([*command, suite, str(rootfs), mirror], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mmdebstrap ({suite} from {mirror}) failed: {done.stderr[-3000:]}"
    layout = work / "layout"
    sh("umoci", "init", "--layout", layout)
    sh("umoci", "new", "--image", f"{layout}:base")
    sh("umoci", "raw", "add-layer", "--image", f"{layout}:base", rootfs)
    rootfs.unlink()
    # One bundle, unpacked once, changed and repacked layer after layer (each repack diffs against the last): umoci
    # writes whiteouts for what each change deleted. Before each change, its root is the image unpacked: scanned
    # with --root then (what the image's own packages installed is read from it too).
    bundle, by_root = work / "bundle", {}
    sh("umoci", "unpack", "--rootless", "--image", f"{layout}:base", bundle)
    root = bundle / "rootfs"
    debian_version = (root / "etc/debian_version").read_text().strip()
    (egg_info,) = [p.name for p in (root / DIST_PACKAGES).glob("botocore-*.egg-info")]
    for before, tag, change in (("base", "hardened", deselect_amazon_and_starfield), ("hardened", "slim", purge_botocore)):
        by_root[before] = scan_json("--root", root)
        change(root)
        sh("umoci", "repack", "--refresh-bundle", "--image", f"{layout}:{tag}", bundle)
    shutil.rmtree(bundle)
    archives = {}
    for tag in ("base", "hardened"):
        archives[tag] = work / f"{tag}.tar"
        sh("skopeo", "copy", f"oci:{layout}:{tag}", f"docker-archive:{archives[tag]}:debian-botocore:{tag}")
    return {"layout": layout, "archives": archives, "by_root": by_root, "debian_version": debian_version,
            "egg_info": egg_info}


def store(report: dict, location: str) -> dict:
    (found,) = [c for c in report["components"] if c["kind"] == "trust-store" and c["location"] == location]
    return found


def rules_on(report: dict, location: str) -> set[str]:
    ids = {c["id"] for c in report["components"] if c["location"] == location}
    return {f["rule"] for f in report["findings"] if f["component"] in ids}


@pytest.mark.parametrize("tag", ["base", "hardened"])
def test_layout_and_archive_find_what_root_finds_in_the_unpacked_debian_image(debian, tag):
    by_layout = scan_json("--image", f"{debian['layout']}:{tag}")
    by_archive = scan_json("--image", debian["archives"][tag])
    by_root = debian["by_root"][tag]
    assert findings(by_layout) == findings(by_archive) == findings(by_root)
    assert installs(by_layout) == installs(by_archive) == installs(by_root)
    assert errors(by_layout) == errors(by_archive) == errors(by_root) == []
    kinds = {c["kind"] for c in by_layout["components"]}
    assert {"os", "trust-store", "python-package", "openssl"} <= kinds


def test_the_distribution_s_own_store_and_botocore(debian):
    """The OS store holds the ATS anchors Debian's ca-certificates ships; Debian's botocore is found with the
    version its package installed, and it uses the OS bundle (Debian's certifi returns it), not its cacert.pem."""
    report = scan_json("--image", f"{debian['layout']}:base")
    (os_component,) = [c for c in report["components"] if c["kind"] == "os"]
    assert (os_component["name"], os_component["version"]) == ("debian", debian["debian_version"])
    for location in ("/etc/ssl/certs", BUNDLE):
        assert ATS_ANCHORS <= set(store(report, location)["details"]["anchors"]), location
    assert "ats-store-trusted" in rules_on(report, BUNDLE)
    egg_info = debian["egg_info"]  # the version Debian's package installed
    version = egg_info[len("botocore-"):-len(".egg-info")]
    (botocore,) = named(report, "botocore")
    assert (botocore["version"], botocore["location"]) == (version, f"/{DIST_PACKAGES}/{egg_info}/PKG-INFO")
    assert botocore["details"]["trust_store"] == BUNDLE
    assert any("certifi" in reason and "patched" in reason for reason in botocore["details"]["trust_reasons"])


def test_later_layers_deselect_the_ats_roots_and_purge_the_sdk(debian):
    """The CA layer's whiteouts delete the Amazon and Starfield links and replace the bundle: the OS store, which
    Debian's botocore uses, holds no ATS anchor. The purge layer's whiteouts delete botocore itself."""
    hardened = scan_json("--image", f"{debian['layout']}:hardened")
    for location in ("/etc/ssl/certs", BUNDLE):
        assert store(hardened, location)["details"]["anchors"] == [], location
        assert "ats-store-without-anchor" in rules_on(hardened, location)
    (botocore,) = named(hardened, "botocore")
    assert botocore["details"]["trust_store"] == BUNDLE
    slim = scan_json("--image", f"{debian['layout']}:slim")
    assert named(slim, "botocore") == []
    assert not [c for c in slim["components"] if c["location"].startswith(f"/{DIST_PACKAGES}/botocore")]
    assert store(slim, BUNDLE)["details"]["anchors"] == []
    (target,) = [t for t in slim["targets"] if t["kind"] == "image"]
    assert target["details"]["layers"] == 3
