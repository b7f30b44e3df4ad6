"""`scan --image`: container images made by the real tools (umoci builds the OCI layout from a root folder, skopeo
copies it to a docker-archive), read without a daemon and without unpacking, compared with `--root` of the same
image unpacked by umoci."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform as platform_module
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
import zstandard
from cryptography import x509
from cryptography.x509.oid import NameOID

from auditor.image.layers import Layer
from auditor.image.streams import Region
from auditor.image.tree import Tree
from auditor.image.source import machine_platform
from conftest import ENVS, run, scan_json
from test_truststore import AMAZON_ROOT_CA_1, pem, self_signed

OS_ROOT = Path(__file__).parent / "fixtures" / "os-roots" / "debian-12"
BUNDLE = "etc/ssl/certs/ca-certificates.crt"
SITE = "srv/app/.venv/lib/python3.11/site-packages"
ENV = "AWS_CA_BUNDLE=/etc/ssl/cert.pem"


def tools() -> None:
    missing = [t for t in ("umoci", "skopeo") if shutil.which(t) is None]
    if missing:
        if os.environ.get("AUDITOR_REQUIRE_IMAGE_TOOLS") == "1":
            pytest.fail(f"AUDITOR_REQUIRE_IMAGE_TOOLS=1 but {' and '.join(missing)} not on PATH (apt-get install umoci skopeo)")
        pytest.skip(f"{' and '.join(missing)} not on PATH")


def sh(*args) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, args))}: {done.stderr}"


def debian_like_root(root: Path) -> None:
    """A small Debian-like root: its identity, the OS bundle with Amazon Root CA 1 (a hard link keeps a second name
    for it, an absolute symlink a third), an application's venv with an old botocore, two AWS CLI v2 installs."""
    shutil.copytree(OS_ROOT, root, dirs_exist_ok=True, symlinks=True)
    (root / BUNDLE).parent.mkdir(parents=True)
    (root / BUNDLE).write_bytes(AMAZON_ROOT_CA_1)
    os.link(root / BUNDLE, root / "etc/ssl/certs/Amazon_Root_CA_1.pem")
    os.symlink("/" + BUNDLE, root / "etc/ssl/cert.pem")
    shutil.copytree(ENVS / "py3-old-botocore", root / "srv/app/.venv", symlinks=True)
    shutil.copytree(ENVS / "aws-cli-v2", root, dirs_exist_ok=True, symlinks=True)  # `current`: an absolute link


def layer_tar(path: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    """A layer written by hand with tarfile (what umoci would refuse to make)."""
    with tarfile.open(path, "w") as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    if kind == tarfile.CHRTYPE:
        info.devmajor, info.devminor = 1, 3
    return info


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """An OCI layout with the tags `base` (one layer: the root), `app` (a second layer, made by umoci from the
    modified root: the old botocore deleted and the OS bundle replaced by one without ATS anchors, so whiteouts),
    `opaque` (base + a layer making /srv/app opaque), `hostile` (base + a hand-made hostile layer); its docker-archive
    twins; and `app` unpacked by umoci."""
    tools()
    work = tmp_path_factory.mktemp("images")
    layout = work / "layout"
    sh("umoci", "init", "--layout", layout)
    sh("umoci", "new", "--image", f"{layout}:base")
    sh("umoci", "config", "--image", f"{layout}:base", "--config.env", ENV)
    sh("umoci", "unpack", "--rootless", "--image", f"{layout}:base", work / "b1")
    debian_like_root(work / "b1" / "rootfs")
    sh("umoci", "repack", "--image", f"{layout}:base", work / "b1")
    sh("umoci", "unpack", "--rootless", "--image", f"{layout}:base", work / "b2")
    site = work / "b2" / "rootfs" / SITE
    for name in os.listdir(site):
        if name.startswith("botocore"):
            shutil.rmtree(site / name)
    other = self_signed(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corp Root")]))
    (work / "b2" / "rootfs" / BUNDLE).unlink()
    (work / "b2" / "rootfs" / BUNDLE).write_bytes(pem(other))
    sh("umoci", "repack", "--image", f"{layout}:app", work / "b2")
    opaque = layer_tar(work / "layer-opaque.tar", [(entry("srv/app/", tarfile.DIRTYPE), None),
                                             (entry("srv/app/.wh..wh..opq"), b""),
                                             (entry("srv/app/requirements.txt"), b"botocore==1.20.0\n")])
    sh("umoci", "raw", "add-layer", "--image", f"{layout}:base", "--tag", "opaque", opaque)
    canary = work / "canary.pem"
    canary.write_bytes(AMAZON_ROOT_CA_1)
    hostile = layer_tar(work / "layer-hostile.tar", [
        (entry("../../escaped.txt"), b"out"),
        (entry(BUNDLE, tarfile.SYMTYPE, "/" + "../" * 12 + str(canary).lstrip("/")), None),
        (entry("etc/ssl/certs/climb.pem", tarfile.SYMTYPE, "../../../../../../../../" + str(canary).lstrip("/")), None),
        (entry("dev/evil", tarfile.CHRTYPE), None),
        (entry(".wh."), b""),
        (entry(".wh..wh..opq"), b""),
    ])
    sh("umoci", "raw", "add-layer", "--image", f"{layout}:base", "--tag", "hostile", hostile)
    archives = {}
    for tag in ("base", "app", "opaque"):
        archives[tag] = work / f"{tag}.tar"
        sh("skopeo", "copy", f"oci:{layout}:{tag}", f"docker-archive:{archives[tag]}:orders:{tag}")
    for tag in ("base", "app"):
        sh("umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", work / f"unpacked-{tag}")
    env_file = work / "image.env"
    env_file.write_text(ENV + "\n")
    return {"layout": layout, "archives": archives, "unpacked": {t: work / f"unpacked-{t}" / "rootfs" for t in ("base", "app")}, "env": env_file,
            "work": work, "canary": canary}


def findings(report: dict) -> list[tuple]:
    """What a report found, without how the scan was given the environment (the image's config, an --env-file)."""
    components = {c["id"]: c for c in report["components"]}

    def where(component: dict) -> str:
        return "environment" if component["location"].startswith("environment (") else component["location"]

    return sorted((f["rule"], f["severity"], components[f["component"]]["kind"], components[f["component"]]["name"],
                   components[f["component"]]["version"] or "", where(components[f["component"]]))
                  for f in report["findings"])


def errors(report: dict) -> list[tuple]:
    return sorted((e["location"], e["message"]) for e in report["errors"])


def installs(report: dict) -> list[tuple]:
    return sorted((c["name"], c["version"], c["location"], c["details"].get("active"))
                  for c in report["components"] if c["kind"] == "python-package")


def named(report: dict, name: str) -> list[dict]:
    return [c for c in report["components"] if c["name"] == name]


def os_bundle(report: dict) -> dict:
    """The OS bundle's store, under the first name a client reached it by (AWS_CA_BUNDLE names its symlink)."""
    (found,) = [c for c in report["components"]
                if c["kind"] == "trust-store" and c["location"] in ("/etc/ssl/cert.pem", "/" + BUNDLE)]
    return found


@pytest.mark.parametrize("tag, layers, found", [
    ("base", 1, {"ats-python-sdk-before-cutoff", "ats-custom-bundle"}),  # the old botocore, the bundle named by Env
    ("app", 2, {"ats-store-without-anchor"}),  # the OS bundle replaced by one without an ATS anchor
])
def test_layout_and_archive_find_what_root_finds_in_the_unpacked_image(images, tag, layers, found):
    layout, archive = images["layout"], images["archives"][tag]
    by_layout = scan_json("--image", f"{layout}:{tag}")
    by_archive = scan_json("--image", archive)
    by_root = scan_json("--root", images["unpacked"][tag], "--env-file", images["env"])
    assert findings(by_layout) == findings(by_archive) == findings(by_root)
    assert found <= {f[0] for f in findings(by_layout)}
    assert installs(by_layout) == installs(by_archive) == installs(by_root)
    assert ("awscli", "2.15.30", "/usr/local/aws-cli/v2/2.15.30", True) in installs(by_layout)
    (target,) = [t for t in by_layout["targets"] if t["kind"] == "image"]
    assert target["location"] == f"{layout}:{tag}"
    manifest = next(d for d in json.loads((layout / "index.json").read_text())["manifests"]
                    if d["annotations"]["org.opencontainers.image.ref.name"] == tag)
    assert target["details"]["manifest_digest"] == manifest["digest"]
    assert (target["details"]["tags"], target["details"]["layout"], target["details"]["layers"]) == ([tag], "oci", layers)
    (twin,) = [t for t in by_archive["targets"] if t["kind"] == "image"]
    assert twin["details"]["tags"] == [f"docker.io/library/orders:{tag}"]
    assert twin["details"]["config_digest"] == target["details"]["config_digest"]
    assert errors(by_layout) == errors(by_archive) == errors(by_root)


def test_a_later_layer_deletes_the_sdk_and_replaces_the_bundle(images):
    base = scan_json("--image", f"{images['layout']}:base")
    app = scan_json("--image", f"{images['archives']['app']}:orders:app")
    assert [c["version"] for c in named(base, "botocore")] == ["0.21.0"]
    assert named(app, "botocore") == []  # its files whited out by the second layer
    assert os_bundle(base)["details"]["anchors"] == ["Amazon Root CA 1"]
    assert os_bundle(app)["details"]["anchors"] == []
    # the image's config Env is the environment: AWS_CA_BUNDLE names /etc/ssl/cert.pem, an absolute link in the image
    variable = next(c for c in base["components"] if c["name"] == "AWS_CA_BUNDLE")
    assert variable["details"]["value"] == "/etc/ssl/cert.pem"


def test_an_opaque_folder_hides_what_the_layers_below_put_there(images):
    for image in (f"{images['layout']}:opaque", images["archives"]["opaque"]):
        report = scan_json("--image", image)
        assert not any(c["location"].startswith("/srv/app/.venv") for c in report["components"]), image
        assert [(c["version"], c["location"]) for c in named(report, "botocore")] == [("1.20.0", "/srv/app/requirements.txt")]


def test_hostile_layer_entries_are_error_entries_and_nothing_outside_is_read(images):
    report = scan_json("--image", f"{images['layout']}:hostile")
    errors = {e["location"]: e["message"] for e in report["errors"]}
    assert "climbs out of the image with '..'" in errors["/escaped.txt"]
    assert "leaves the image; not followed" in errors["/" + BUNDLE]
    assert "leaves the image; not followed" in errors["/etc/ssl/certs/climb.pem"]
    assert "a device in the image; not read" in errors["/dev/evil"]
    root_problems = [e["message"] for e in report["errors"] if e["location"] == "/"]
    assert any("a whiteout of the image's root" in m for m in root_problems)
    assert any("opaque marker at the image's root" in m for m in root_problems)
    assert {e["target"] for e in report["errors"]} == {f"{images['layout']}:hostile"}
    # the layers below stay: the root's files were not hidden, the venv is read
    assert [c["version"] for c in named(report, "botocore")] == ["0.21.0"]
    # the bundle is now a link out: never followed to the canary (which holds the anchor), so no store holds it
    assert all(c["details"].get("anchors") in (None, []) for c in report["components"]
               if c["kind"] == "trust-store" and c["location"] in ("/" + BUNDLE, "/etc/ssl/cert.pem"))
    assert not (images["work"].parent / "escaped.txt").exists()


def test_several_images_need_a_ref_and_a_wrong_ref_says_what_there_is(images):
    layout = images["layout"]
    result = run("scan", "-q", "--image", layout)
    assert result.code == 2
    assert "holds several images" in result.err and "app, base, hostile, opaque" in result.err
    result = run("scan", "-q", "--image", f"{layout}:nope")
    assert result.code == 2 and "no image named 'nope'" in result.err


def manifest_of(layout: Path, tag: str) -> dict:
    index = json.loads((layout / "index.json").read_text())
    (descriptor,) = [d for d in index["manifests"] if d["annotations"]["org.opencontainers.image.ref.name"] == tag]
    return json.loads((layout / "blobs" / "sha256" / descriptor["digest"].split(":")[1]).read_text())


def blob_path(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":")[1]


def test_a_zstd_image_scans_as_its_gzip_twin(images, tmp_path):
    """skopeo recompresses the image's layers with zstd (the OCI media type tar+zstd); the scan reads them as the
    gzip ones: the same findings, installs and errors, the same config."""
    twin = tmp_path / "zstd"
    sh("skopeo", "copy", "--dest-compress-format", "zstd", f"oci:{images['layout']}:app", f"oci:{twin}:app")
    layers = manifest_of(twin, "app")["layers"]
    assert [d["mediaType"] for d in layers] == ["application/vnd.oci.image.layer.v1.tar+zstd"] * 2
    assert all(blob_path(twin, d["digest"]).read_bytes()[:4] == b"\x28\xb5\x2f\xfd" for d in layers)
    by_zstd = scan_json("--image", f"{twin}:app")
    by_gzip = scan_json("--image", f"{images['layout']}:app")
    assert findings(by_zstd) == findings(by_gzip) and {f[0] for f in findings(by_zstd)} >= {"ats-store-without-anchor"}
    assert installs(by_zstd) == installs(by_gzip)
    assert errors(by_zstd) == errors(by_gzip)
    details = [next(t for t in r["targets"] if t["kind"] == "image")["details"] for r in (by_zstd, by_gzip)]
    assert details[0]["config_digest"] == details[1]["config_digest"]  # the same uncompressed layers (diff_ids)
    assert details[0]["manifest_digest"] != details[1]["manifest_digest"]


def test_a_tampered_layer_blob_is_refused_and_none_of_its_files_used(images, tmp_path):
    """One byte of the app's second layer changed (its gzip header's time stamp: the tar inflates as before, only
    the digest tells): the layer is refused as a runtime refuses to pull it, so the image is read as its base."""
    layout = tmp_path / "tampered"
    shutil.copytree(images["layout"], layout)
    second = manifest_of(layout, "app")["layers"][1]["digest"]
    blob = blob_path(layout, second)
    data = bytearray(blob.read_bytes())
    data[4] ^= 0x01
    blob.write_bytes(bytes(data))
    report = scan_json("--image", f"{layout}:app")
    (message,) = [e["message"] for e in report["errors"] if e["location"] == "/"]
    assert message.startswith(f"layer 2 ({second[:19]}) not applied: its blob does not match its digest {second} "
                              "(it hashes to sha256:")
    assert message.endswith("a runtime would refuse it; none of its files are used")
    base = scan_json("--image", f"{images['layout']}:base")
    assert findings(report) == findings(base) and installs(report) == installs(base)
    assert [e for e in errors(report) if e[0] != "/"] == errors(base)
    assert [c["version"] for c in named(report, "botocore")] == ["0.21.0"]  # the second layer's deletion not applied


def test_a_tampered_archive_layer_is_refused_by_its_diff_id(images, tmp_path):
    """A docker-archive names its layers by no manifest: each layer tar is checked against the config's
    rootfs.diff_ids. A letter of the CA bundle changed inside the archive's layer is caught, nothing of it used."""
    archive = tmp_path / "base.tar"
    data = bytearray(images["archives"]["base"].read_bytes())
    at = data.index(b"-----BEGIN CERTIFICATE-----\n") + 40
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    archive.write_bytes(bytes(data))
    report = scan_json("--image", archive)
    (message,) = [e["message"] for e in report["errors"] if e["location"] == "/"]
    with tarfile.open(images["archives"]["base"]) as tar:
        config = json.load(tar.extractfile(json.load(tar.extractfile("manifest.json"))[0]["Config"]))
    diff_id = config["rootfs"]["diff_ids"][0]
    assert message.startswith(f"layer 1 ({diff_id[:19]}) not applied: its uncompressed tar does not match its "
                              f"digest {diff_id}")
    assert not [c for c in report["components"] if c["kind"] in ("python-package", "os")]
    assert all(not c["details"].get("anchors") for c in report["components"] if c["kind"] == "trust-store")
    untouched = scan_json("--image", images["archives"]["base"])
    assert not [e for e in untouched["errors"] if e["location"] == "/"] and named(untouched, "botocore")


def test_a_damaged_zstd_layer_and_a_zstd_bomb_are_error_entries(tmp_path):
    """Hand-made layers (unchecked digests): a zstd stream cut short inside its frame, and a member that declares
    200 MB inflated from a few KB (the decompression bound holds for zstd as for gzip)."""
    layer_tar(tmp_path / "plain.tar", [(entry("etc/os-release"), b"ID=debian\n" * 2000)])
    cut = zstandard.ZstdCompressor().compress((tmp_path / "plain.tar").read_bytes())[:-40]
    bomb_tar = tmp_path / "bomb.tar"
    with tarfile.open(bomb_tar, "w") as tar:
        info = entry("zeros")
        info.size = 200 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    with open(bomb_tar, "rb") as source, open(tmp_path / "bomb.zst", "wb") as target:
        zstandard.ZstdCompressor().copy_stream(source, target)
    (tmp_path / "cut.zst").write_bytes(cut)
    tree = Tree()
    for number, name in enumerate(("cut.zst", "bomb.zst"), 1):
        blob = tmp_path / name
        tree.apply(Layer(number, "", Region(str(blob), 0, blob.stat().st_size)))
    assert [p.message for p in tree.problems] == [
        "layer 1 not applied: not a readable tar (the zstd stream ends inside a frame); none of its files are used",
        f"layer 2 not applied: its members declare over {200 << 20:,} bytes from {(tmp_path / 'bomb.zst').stat().st_size:,} "
        "compressed, a ratio over the 100:1 limit; none of its files are used"]
    assert tree.children(tree.root) == []
    tree.close()


def test_a_tar_of_the_layout_is_read_in_place(images, tmp_path):
    packed = tmp_path / "layout.tar"
    with tarfile.open(packed, "w") as tar:
        tar.add(images["layout"], arcname=".")
    by_tar = scan_json("--image", f"{packed}:app")
    assert findings(by_tar) == findings(scan_json("--image", f"{images['layout']}:app"))
    (target,) = [t for t in by_tar["targets"] if t["kind"] == "image"]
    assert target["details"]["tags"] == ["app"]


def blob(layout: Path, document: dict) -> dict:
    """Write a JSON blob into the layout; its descriptor."""
    data = json.dumps(document).encode()
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": document["mediaType"], "digest": f"sha256:{digest}", "size": len(data)}


def test_a_multi_platform_index_gives_the_image_of_the_platform_asked_for(images, tmp_path):
    layout = tmp_path / "multi"
    shutil.copytree(images["layout"], layout)
    index = json.loads((layout / "index.json").read_text())
    manifests = {d["annotations"]["org.opencontainers.image.ref.name"]: d for d in index["manifests"]}
    platforms = {"base": {"os": "linux", "architecture": "amd64"},
                 "app": {"os": "linux", "architecture": "arm", "variant": "v7"}}
    nested = blob(layout, {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                           "manifests": [{**{k: v for k, v in manifests[tag].items() if k != "annotations"},
                                          "platform": platform} for tag, platform in platforms.items()]})
    index["manifests"].append({**nested, "annotations": {"org.opencontainers.image.ref.name": "multi"}})
    (layout / "index.json").write_text(json.dumps(index))
    for platform, tag in (("linux/amd64", "base"), ("linux/arm/v7", "app"), ("linux/arm", "app")):
        report = scan_json("--image", f"{layout}:multi", "--platform", platform)
        (target,) = [t for t in report["targets"] if t["kind"] == "image"]
        assert target["details"]["manifest_digest"] == manifests[tag]["digest"], platform
        assert target["details"]["tags"] == sorted([tag, "multi"])  # the ref chosen, and the ref naming the manifest
    result = run("scan", "-q", "--image", f"{layout}:multi", "--platform", "linux/s390x")
    assert result.code == 2 and "no image for the platform linux/s390x; it offers linux/amd64, linux/arm/v7" in result.err
    assert machine_platform() == "linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(platform_module.machine(),
                                                                                          platform_module.machine())


def test_no_image_there_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    for spec, said in ((tmp_path / "missing", "no such file or directory"),
                       (tmp_path / "empty", "neither an OCI image layout"),
                       (OS_ROOT / "etc" / "os-release", "not an image layout folder nor a readable tar")):
        result = run("scan", "-q", "--image", spec)
        assert result.code == 2 and said in result.err, result.err


def test_the_config_user_s_home_is_the_image_s_own(tmp_path):
    """A config `User` is who the container runs as, so HOME is that account's home from the image's /etc/passwd (as
    docker sets it): its ~/.aws/config is what the image's own botocore reads, not root's."""
    tools()
    layout, bundle = tmp_path / "layout", "/etc/ssl/certs/corp.pem"
    sh("umoci", "init", "--layout", layout)
    sh("umoci", "new", "--image", f"{layout}:app")
    sh("umoci", "unpack", "--rootless", "--image", f"{layout}:app", tmp_path / "bundle")
    root = tmp_path / "bundle" / "rootfs"
    shutil.copytree(OS_ROOT, root, dirs_exist_ok=True, symlinks=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n")
    (root / "home/app/.aws").mkdir(parents=True)
    (root / "home/app/.aws/config").write_text(f"[default]\nca_bundle = {bundle}\n")
    (root / bundle.lstrip("/")).parent.mkdir(parents=True)
    (root / bundle.lstrip("/")).write_bytes(AMAZON_ROOT_CA_1)
    shutil.copytree(ENVS / "trust" / "botocore-1.35.0" / "site-packages", root / "srv/app/site-packages", symlinks=True)
    sh("umoci", "repack", "--image", f"{layout}:app", tmp_path / "bundle")
    sh("umoci", "config", "--image", f"{layout}:app", "--config.user", "app:app")  # once the image lists the user

    report = scan_json("--image", f"{layout}:app")
    (botocore,) = named(report, "botocore")
    assert botocore["details"]["trust_store"] == bundle, botocore["details"]
    assert any("/home/app/.aws/config" in reason for reason in botocore["details"]["trust_reasons"])


def test_paths_inside_an_image_are_scanned_as_inside_its_unpacked_root(images):
    """`--image X PATH…` reads only those paths, through the layers, as `--root` reads paths in the unpacked tree."""
    paths = ["/" + SITE, "/etc/ssl/cert.pem", "/no/such/folder"]
    by_image = run("scan", "--format", "json", "-q", "--image", f"{images['layout']}:base", *paths)
    by_root = run("scan", "--format", "json", "-q", "--root", images["unpacked"]["base"], "--env-file", images["env"],
                  *paths)
    assert by_image.code == by_root.code == 2, by_image.err + by_root.err  # a named path that is not there: read the others, exit 2
    image_report, root_report = by_image.json, by_root.json
    assert findings(image_report) == findings(root_report)
    assert installs(image_report) == installs(root_report) and named(image_report, "botocore")
    asked = [(t["kind"], t["location"]) for t in image_report["targets"] if t["kind"] != "image"]
    assert asked == [(t["kind"], t["location"]) for t in root_report["targets"]]
    assert ("unreadable", "/no/such/folder") in asked
    (image,) = [t for t in image_report["targets"] if t["kind"] == "image"]
    assert image["location"] == f"{images['layout']}:base" and image["details"]["manifest_digest"].startswith("sha256:")
    assert "/etc/os-release" not in json.dumps(image_report)  # the system as a whole was not scanned


def test_a_path_inside_an_image_cannot_leave_it(images):
    climb = run("scan", "--format", "json", "-q", "--image", f"{images['layout']}:hostile", "/etc/ssl/certs/climb.pem")
    assert climb.code == 2 and not climb.out, climb.err  # the one path asked for leads out: nothing to report on
    assert re.search(r"/etc/ssl/certs/climb\.pem: symlink to \S+canary\.pem leaves the image; not followed$", climb.err)
    # The bundle's link out is an error entry; the other path is read inside the image, the canary never.
    bundle = run("scan", "--format", "json", "-q", "--image", f"{images['layout']}:hostile", "/etc/ssl/certs/ca-certificates.crt", "/" + SITE)
    assert bundle.code == 2 and "ca-certificates.crt: symlink to" in bundle.err
    stores = {c["location"] for c in bundle.json["components"] if c["kind"] == "trust-store"}
    assert stores and "/" + BUNDLE not in stores and not any("canary" in store for store in stores)


def layer_of(path: Path, entries: list[tuple[str, bytes, str | bytes | None]]) -> Path:
    """A layer tar of (kind, name, data or link text) written by tarfile; names not UTF-8 kept as their bytes."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
        for kind, name, data in entries:
            info = entry(name, kind, data if isinstance(data, str) else "")
            if kind == tarfile.DIRTYPE:
                info.mode = 0o755
            payload = data if isinstance(data, bytes) else None
            if payload is not None:
                info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def walked(view, path: str = "") -> dict[str, tuple]:
    """Every name below `path` of a LayeredView, with its kind and its bytes or link text."""
    found: dict[str, tuple] = {}
    for item in view.listing(view.top + path)[1]:
        name = f"{path}/{item.name}"
        if item.is_symlink():
            found[name] = ("link", view.link_text(view.top + name))
        elif item.is_dir():
            found[name] = ("dir",)
            found.update(walked(view, name))
        else:
            found[name] = ("file", view.read_bytes(view.top + name))
    return found


def walked_on_disk(root: Path, path: str = "") -> dict[str, tuple]:
    """The same of a folder umoci unpacked."""
    found: dict[str, tuple] = {}
    for name in sorted(os.listdir(f"{root}{path}" or "/")):
        shown = f"{path}/{name}"
        where = f"{root}{shown}"
        if os.path.islink(where):
            found[shown] = ("link", os.readlink(where))
        elif os.path.isdir(where):
            found[shown] = ("dir",)
            found.update(walked_on_disk(root, shown))
        else:
            found[shown] = ("file", Path(where).read_bytes())
    return found


def test_layers_are_applied_as_umoci_unpacks_them(tmp_path):
    """Folders replaced by files and files by folders across layers, a whiteout then the same name again in one layer,
    an opaque folder, a symlink replaced by a folder, hard links to files later replaced or deleted, names that are
    not UTF-8: the tree of names read through the view is the tree umoci unpacks, name for name (and in the same
    order), byte for byte."""
    tools()
    from auditor.image.source import open_image
    from auditor.image.view import LayeredView

    file, folder, symlink, hardlink = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
    layers = [
        [(folder, "a/", None), (folder, "a/b/", None), (file, "a/b/c.txt", b"one"), (symlink, "a/link", "b/c.txt"),
         (hardlink, "a/hard", "a/b/c.txt"), (folder, "d/", None), (file, "d/x.txt", b"x"), (file, "e.txt", b"e-old"),
         (folder, "f/", None), (file, "f/inner.txt", b"inner"), (file, "g", b"a file"), (folder, "u/", None),
         (file, "u/caf\udce9", b"latin-1"), (file, "u/café", b"utf-8"), (file, "u/Z", b"Z"), (file, "u/a", b"a"),
         (file, "u/\udcff", b"ff")],
        [(file, "a/.wh.b", b""), (folder, "a/b/", None), (file, "a/b/new.txt", b"new"),
         (file, "d/.wh..wh..opq", b""), (file, "d/y.txt", b"y"), (file, "f", b"now a file"),
         (folder, "g/", None), (file, "g/new.txt", b"g's"), (hardlink, "a/hard2", "e.txt"), (file, "e.txt", b"e-new"),
         (folder, "a/link/", None), (file, "a/link/z.txt", b"z"), (folder, "h/", None), (file, "h/one.txt", b"1")],
        [(file, ".wh.f", b""), (file, "a/b/.wh.new.txt", b""), (file, "h/.wh.one.txt", b""), (file, "h/two.txt", b"2"),
         (file, "u/.wh.Z", b"")],
    ]
    layout = tmp_path / "layout"
    sh("umoci", "init", "--layout", layout)
    sh("umoci", "new", "--image", f"{layout}:edits")
    for number, entries in enumerate(layers, 1):
        blob = layer_of(tmp_path / f"layer-{number}.tar", entries)
        sh("umoci", "raw", "add-layer", "--image", f"{layout}:edits", blob)
    sh("umoci", "unpack", "--rootless", "--image", f"{layout}:edits", tmp_path / "bundle")
    unpacked = walked_on_disk(tmp_path / "bundle" / "rootfs")

    view = LayeredView(open_image(f"{layout}:edits").layers)
    try:
        assert not view.problems()
        read = walked(view)
    finally:
        view.close()
    assert list(read) == list(unpacked)  # the same names in the same order
    assert read == unpacked
    assert read["/a/hard2"] == ("file", b"e-old") and read["/e.txt"] == ("file", b"e-new")
    assert "/f" not in read and "/a/b/new.txt" not in read and read["/d/y.txt"] == ("file", b"y")


def test_the_names_are_kept_in_a_private_temporary_folder_removed_at_the_end(images, tmp_path, monkeypatch):
    """The image's names are kept on disk, in a folder only its user can open, removed when the scan ends, and
    when applying the layers stops half-way (too many names)."""
    from auditor.image import tree as tree_module
    from auditor.image.source import open_image
    from auditor.image.view import LayeredView

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    view = LayeredView(open_image(f"{images['layout']}:app").layers)
    (place,) = scratch.iterdir()
    assert place.stat().st_mode & 0o777 == 0o700 and (place / "names.sqlite").is_file()
    view.close()
    assert not place.exists()

    assert scan_json("--image", f"{images['layout']}:app")["targets"]
    assert list(scratch.iterdir()) == []
    monkeypatch.setattr(tree_module, "MAX_ENTRIES", 10)
    result = run("scan", "-q", "--image", f"{images['layout']}:app")
    assert result.code == 2 and "holds over 10 names" in result.err, result.err
    assert list(scratch.iterdir()) == []
