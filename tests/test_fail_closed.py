"""Fail closed: applications where they really live, vendored SDK copies, targets that cannot be read, and
parts not scanned counted. Each case is one a user found passing in silence before."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ENVS, FIXTURES, run, scan_json
from test_hostile_trees import open_tmp, scan_as_nobody  # noqa: F401 (a fixture)
from test_truststore import AMAZON_ROOT_CA_1

OLD_BOTOCORE_VENV = ENVS / "py3-old-botocore"  # a real venv: awscli 1.2.1 and botocore 0.21.0, both pre-cutoff
BOTO_2_9 = ENVS / "no-metadata" / "lib" / "python2.7" / "site-packages" / "boto"  # boto 2.9.0 without metadata
BOTOCORE_0_21 = OLD_BOTOCORE_VENV / "lib" / "python3.11" / "site-packages" / "botocore"
BOTOCORE_1_35 = ENVS / "trust" / "botocore-1.35.0" / "site-packages"
AWSCLI_1_46 = FIXTURES / "vendored" / "awscli-1.46.3" / "site-packages"


def copy_package(source: Path, destination: Path) -> Path:
    """A package folder copied as a project vendors it: the files only, no metadata beside it."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def python_packages(report) -> dict[str, dict]:
    return {f"{c['name']} {c['version']} {c['location']}": c for c in report["components"] if c["kind"] == "python-package"}


def findings_at(report, location_part: str) -> set[str]:
    ids = {c["id"] for c in report["components"] if location_part in c["location"]}
    return {f["rule"] for f in report["findings"] if f["component"] in ids}


@pytest.fixture
def image(tmp_path) -> Path:
    """An OS image whose applications live outside every install location, as issue reports found them."""
    root = tmp_path / "image"
    (root / "etc" / "ssl" / "certs").mkdir(parents=True)
    (root / "etc" / "ssl" / "certs" / "ca-certificates.crt").write_bytes(AMAZON_ROOT_CA_1)
    (root / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    shutil.copytree(OLD_BOTOCORE_VENV, root / "srv" / "orders" / ".venv", symlinks=True)
    (root / "srv" / "orders" / "app.py").write_text(
        "import boto3\n\ns3 = boto3.client('s3', verify=False)\n")
    shutil.copytree(OLD_BOTOCORE_VENV, root / "opt" / "exporter" / "venv", symlinks=True)
    (root / "opt" / "exporter" / "run.sh").write_text("#!/bin/sh\naws s3 sync /data s3://bucket --no-verify-ssl\n")
    (root / "app").mkdir()
    (root / "app" / "requirements.txt").write_text("boto==2.9.0\nrequests>=2.0\n")
    (root / "home" / "ops" / "tools").mkdir(parents=True)
    (root / "home" / "ops" / "tools" / "requirements.txt").write_text("# deploy helpers\nbotocore==0.21.0\n")
    third_party = root / "usr" / "lib" / "google-cloud-sdk" / "lib" / "third_party"
    copy_package(BOTOCORE_1_35 / "botocore", third_party / "botocore")
    product_code = root / "usr" / "lib" / "google-cloud-sdk" / "lib" / "googlecloudsdk" / "s3_client.py"
    product_code.parent.mkdir(parents=True)
    product_code.write_text("import boto3\n\ndef client(verify_ssl):\n    return boto3.client('s3', verify=verify_ssl)\n")
    return root


def test_an_image_scan_finds_applications_where_they_live(image):
    result = run("scan", "--root", image, "--format", "json", "-q")
    assert result.code == 1, result.err
    report = result.json
    found = {(c["name"], c["version"], c["location"]) for c in report["components"] if c["kind"] == "python-package"}
    for venv in ("/srv/orders/.venv", "/opt/exporter/venv"):
        site = f"{venv}/lib/python3.11/site-packages"
        assert ("botocore", "0.21.0", f"{site}/botocore-0.21.0.dist-info/METADATA") in found
        assert ("awscli", "1.2.1", f"{site}/awscli-1.2.1.dist-info/METADATA") in found
        assert "ats-python-sdk-before-cutoff" in findings_at(report, venv)
    assert ("boto", "2.9.0", "/app/requirements.txt") in found
    assert ("botocore", "0.21.0", "/home/ops/tools/requirements.txt") in found
    assert ("botocore", "1.35.0", "/usr/lib/google-cloud-sdk/lib/third_party/botocore/__init__.py") in found
    settings = {(c["location"], c["name"], c["details"]["effect"]) for c in report["components"] if c["kind"] == "trust-config"}
    assert ("/srv/orders/app.py", "verify", "disabled") in settings
    assert ("/opt/exporter/run.sh", "--no-verify-ssl", "disabled") in settings
    assert not [s for s in settings if "google-cloud-sdk" in s[0]]  # a product's own code is not this machine's setting
    (target,) = [t for t in report["targets"] if t["kind"] == "image"]
    assert {"application folder /srv/orders", "application folder /opt/exporter", "application folder /app",
            "application folder /home/ops", "application folder /usr/lib/google-cloud-sdk"} <= set(target["details"]["searched"])
    assert target["details"]["not_scanned"] == 0 and report["summary"]["not_scanned"] == 0


def test_install_locations_are_not_read_twice_by_the_application_search(image):
    site = image / "opt" / "conda" / "lib" / "python3.11" / "site-packages"
    copy_package(BOTOCORE_0_21, site / "botocore")
    report = scan_json("--root", image)
    environments = [t["location"] for t in report["targets"] if t["kind"] == "environment"]
    assert environments.count("/opt/conda") == 1, environments


def test_targets_inside_an_image_are_read_confined_to_it(image):
    (image / "srv" / "orders" / "ca.pem").symlink_to("/etc/ssl/certs/ca-certificates.crt")
    report = scan_json("--root", image, "/srv/orders")
    assert [t["location"] for t in report["targets"] if t["kind"] == "tree"] == ["/srv/orders"]
    locations = {c["location"] for c in report["components"] if c["kind"] == "python-package"}
    assert locations and all(location.startswith("/srv/orders/") for location in locations)
    assert run("scan", "--root", image, "/srv/missing").code == 2


def test_vendored_copies_anywhere_in_a_tree_are_installs(tmp_path):
    project = tmp_path / "service"
    copy_package(BOTOCORE_0_21, project / "vendor" / "botocore")
    copy_package(BOTO_2_9, project / "lib" / "third_party" / "boto")
    (project / "handler.py").write_text("from vendor import botocore\n")
    report = scan_json(project)
    packages = python_packages(report)
    botocore = packages[f"botocore 0.21.0 {project}/vendor/botocore/__init__.py"]
    boto = packages[f"boto 2.9.0 {project}/lib/third_party/boto/__init__.py"]
    assert botocore["source"] == "__version__ in botocore/__init__.py (no metadata)"
    assert {"ats-python-sdk-before-cutoff"} <= findings_at(report, "/vendor/botocore/")
    assert {"ats-python-sdk-before-cutoff"} <= findings_at(report, "/third_party/boto/")
    # the copy is resolved to the bundle it ships, read from the tree
    assert boto["details"]["trust_store"] == f"{project}/lib/third_party/boto/cacerts/cacerts.txt"
    assert "ships no bundle" in botocore["details"]["trust_reasons"][0]
    # the SDK's own modules are not the application's code: no trust settings read from them
    assert not [c for c in report["components"] if c["kind"] == "trust-config" and "/vendor/botocore/" in c["location"]]
    assert {t["details"]["layout"] for t in report["targets"] if t["kind"] == "environment"} == {"vendored"}


def test_a_vendored_copy_named_as_the_target_is_read(tmp_path):
    copy_package(BOTOCORE_0_21, tmp_path / "vendor" / "botocore")
    report = scan_json(tmp_path / "vendor" / "botocore")
    assert f"botocore 0.21.0 {tmp_path}/vendor/botocore/__init__.py" in python_packages(report)


def test_a_folder_named_like_an_sdk_without_a_version_is_not_an_install(tmp_path):
    (tmp_path / "docs" / "boto").mkdir(parents=True)
    (tmp_path / "docs" / "boto" / "__init__.py").write_text("# examples of using boto\n")
    (tmp_path / "docs" / "boto" / "example.py").write_text("import boto3\nboto3.client('s3', verify=False)\n")
    report = scan_json(tmp_path)
    assert not python_packages(report)
    assert [c["location"] for c in report["components"] if c["kind"] == "trust-config"] == [f"{tmp_path}/docs/boto/example.py"]


def test_the_cli_uses_the_botocore_it_carries(tmp_path):
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    shutil.copytree(AWSCLI_1_46, site)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n")
    copy_package(BOTOCORE_0_21, site / "botocore")  # an old botocore beside it, which the CLI does not use
    report = scan_json(tmp_path / "venv")
    packages = python_packages(report)
    carried = packages[f"botocore 1.43.62 {site}/awscli/botocore/__init__.py"]
    assert carried["source"] == "__version__ in awscli/botocore/__init__.py (the copy awscli carries)"
    assert carried["details"]["carried_by"] == "awscli 1.46.3"
    cli = next(c for c in packages.values() if c["name"] == "awscli")
    for client in (cli, carried):
        assert client["details"]["trust_store"] == f"{site}/awscli/botocore/cacert.pem"
    assert "certifi is not importable here" in cli["details"]["trust_reasons"][-1]
    store = next(c for c in report["components"] if c["id"] == cli["details"]["trust_store_id"])
    assert store["details"]["anchors"]  # the bundle it carries holds the ATS anchors
    beside = packages[f"botocore 0.21.0 {site}/botocore/__init__.py"]
    assert beside["details"].get("trust_store") != cli["details"]["trust_store"]


def test_a_missing_target_beside_a_read_one_is_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("scan", tmp_path / "empty", tmp_path / "no-such-dir")
    assert result.code == 2
    assert f"{tmp_path / 'no-such-dir'}: no such file or directory" in result.err
    assert "result: PASS (0 at or above 'high') · 1 part not scanned · 1 target not read" in result.out


def test_a_dangling_link_as_target_is_said_so(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    result = run("scan", "--format", "json", tmp_path / "link")
    assert result.code == 2 and "no such file or directory (a dangling link)" in result.err


def test_parts_not_scanned_are_counted_and_strict_fails(open_tmp):  # noqa: F811 (the fixture)
    tree = open_tmp / "repo"
    shutil.copytree(OLD_BOTOCORE_VENV, tree / "venv", symlinks=True)
    locked = tree / "private"
    locked.mkdir(parents=True)
    (locked / "requirements.txt").write_text("boto==2.9.0\n")
    for folder, _, files in os.walk(tree):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(locked, 0o000)
    result = scan_as_nobody(open_tmp, tree)
    report = result.json
    assert report["summary"]["not_scanned"] == 1
    (error,) = report["errors"]
    assert (error["location"], error["target"]) == (str(locked), str(tree))
    assert "Permission denied" in error["message"]
    (target,) = [t for t in report["targets"] if t["kind"] == "tree"]
    assert target["details"]["not_scanned"] == 1
    assert {"virtualenvs", "vendored SDK copies", "archives (.zip Lambda packages and layers, .whl, .egg)"} <= set(
        target["details"]["searched"])
    strict = scan_as_nobody(open_tmp, tree, "--strict", codes=(2,))
    assert "--strict: 1 part could not be scanned" in strict.err


def test_an_unreadable_target_is_permission_denied_not_missing(open_tmp):  # noqa: F811 (the fixture)
    tree = open_tmp / "locked"
    tree.mkdir()
    (open_tmp / "readable").mkdir()
    os.chmod(tree, 0o000)
    result = scan_as_nobody(open_tmp, open_tmp / "readable", tree, codes=(2,))
    if os.geteuid() == 0:  # nobody cannot list it; root could
        assert f"{tree}: permission denied" in result.err
        assert {"kind": "unreadable", "location": str(tree), "details": {"reason": "permission denied: cannot list directory"}} \
            in result.json["targets"]


LEGACY = FIXTURES / "lockfiles" / "legacy"


@pytest.mark.parametrize("fixture, renamed, why", [
    ("pipenv/Pipfile.lock", "Pipfile.lock.orig", "neither a CycloneDX SBOM"),  # JSON: read as an SBOM, if it is one
    ("poetry/poetry.lock", "poetry.lock.bak", "line 3: '[[package]]' is not a requirement"),
])
def test_a_renamed_lockfile_named_on_the_command_line_is_not_a_pass(tmp_path, fixture, renamed, why):
    """A name that announces no format is read as a requirements file, as pip -r would (a JSON object as an SBOM);
    a real lock of another tool under such a name is neither, and what it pins was not understood: an unreadable
    target, exit 2, never a pass."""
    shutil.copy(LEGACY / fixture, tmp_path / renamed)
    result = run("scan", tmp_path / renamed, "--format", "json", "-q")
    assert result.code == 2, result.err
    assert f"{renamed}: {why}" in result.err, result.err


def test_a_requirements_file_of_any_name_is_read_and_judged(tmp_path):
    compiled = (LEGACY / "pip-tools" / "requirements.txt").read_text()  # hashes on continued lines, comments
    (tmp_path / "deps.lock").write_text("--index-url https://pypi.org/simple\n" + compiled)
    result = run("scan", tmp_path / "deps.lock", "--format", "json", "-q")
    report = result.json
    assert result.code == 1 and report["errors"] == [], result.err
    assert {("botocore", "0.21.0"), ("awscli", "1.2.1")} <= {(c["name"], c["version"]) for c in report["components"]}
    (target,) = report["targets"]
    assert target["details"]["searched"] == ["the file, read as requirements (its name announces no format)"]


def test_a_readme_named_as_a_target_is_an_unreadable_target(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# service\n\nInstall with pip install -r requirements.txt, then run it.\n")
    result = run("scan", readme, tmp_path, "--format", "json", "-q")
    assert result.code == 2 and "README.md: line 3" in result.err
    assert ("unreadable", str(readme)) in {(t["kind"], t["location"]) for t in result.json["targets"]}
