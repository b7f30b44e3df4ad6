"""Installed environments, on trees made by real installers (see fixtures/envs/PROVENANCE.md)."""

import os
import shutil

from conftest import ENVS, by_name, findings_for, package_findings, packages, scan_json


def only(report, name):
    (component,) = by_name(report)[name]
    return component


def test_modern_venv_has_no_findings_and_lists_every_aws_package():
    report = scan_json(ENVS / "py3-venv")
    found = {c["name"]: c["version"] for c in packages(report)}
    assert found == {"boto": "2.49.0", "boto3": "1.44.8", "botocore": "1.44.8", "s3transfer": "0.19.3"}
    assert package_findings(report) == []
    assert only(report, "boto")["source"] == "dist-info METADATA"
    assert only(report, "boto")["released"] == "2018-07-11T20:58:55Z"
    environment = [t for t in report["targets"] if t["kind"] == "environment"]
    assert environment[0]["details"]["layout"] == "virtualenv"
    assert environment[0]["details"]["python"] == "3.11.7"
    assert environment[0]["details"]["distributions"] >= 10


def test_pre_cutoff_botocore_and_awscli_are_high_with_both_kinds_of_evidence():
    report = scan_json(ENVS / "py3-old-botocore")
    botocore = only(report, "botocore")
    (finding,) = findings_for(report, botocore)
    assert finding["severity"] == "high"
    assert finding["rule"] == "ats-python-sdk-before-cutoff"
    kinds = [e["type"] for e in finding["evidence"]]
    assert kinds[0] == "documented" and "observed" in kinds
    observed = " ".join(e["summary"] for e in finding["evidence"] if e["type"] == "observed")
    assert "2013-10-24T23:56:13Z" in observed and "2013-10-29" in observed
    assert botocore["location"] in observed
    assert "https://www.amazontrust.com/repository/" in finding["references"]
    assert "0.22.0" in finding["remediation"]
    assert [f["severity"] for f in findings_for(report, only(report, "awscli"))] == ["high"]


def test_python27_easy_install_zipped_egg_and_egg_directory():
    report = scan_json(ENVS / "py27-easy-install")
    boto, botocore = only(report, "boto"), only(report, "botocore")
    assert (boto["version"], boto["source"]) == ("2.9.0", "zipped egg EGG-INFO/PKG-INFO")
    assert (botocore["version"], botocore["source"]) == ("0.21.0", "egg directory EGG-INFO/PKG-INFO")
    # easy-install.pth's import line moves its eggs to the front of sys.path
    assert "moved to the front" in boto["details"]["path_origin"]
    assert {f["severity"] for f in package_findings(report)} == {"high"}
    assert len(package_findings(report)) == 2
    # distutils wrote the License header over several unindented lines: still read, no error
    assert report["errors"] == []


def test_debian_single_file_egg_info_and_dist_packages_prefixes():
    report = scan_json(ENVS / "debian-dist-packages")
    versions = sorted((c["version"], c["source"], c["location"].split("debian-dist-packages/")[1]) for c in packages(report))
    assert versions == [
        ("2.49.0", "egg-info PKG-INFO", "usr/lib/python3/dist-packages/boto-2.49.0.egg-info/PKG-INFO"),
        ("2.49.0", "egg-info file", "usr/local/lib/python3.11/dist-packages/boto-2.49.0.egg-info"),
        ("2.9.0", "egg-info file", "usr/lib/python2.7/dist-packages/boto-2.9.0-py2.7.egg-info"),
    ]
    environments = sorted((t["location"].split("debian-dist-packages")[1], t["details"].get("python"))
                          for t in report["targets"] if t["kind"] == "environment")
    assert environments == [("/usr", "2.7"), ("/usr", "3"), ("/usr/local", "3.11")]
    assert [f["title"].split(" was")[0] for f in package_findings(report)] == ["boto 2.9.0"]


def test_package_directory_without_metadata_is_read_from_dunder_version():
    report = scan_json(ENVS / "no-metadata")
    boto = only(report, "boto")
    assert boto["version"] == "2.9.0"
    assert boto["source"] == "__version__ in boto/__init__.py (no metadata)"
    assert boto["location"].endswith("site-packages/boto/__init__.py")
    assert findings_for(report, boto)[0]["severity"] == "high"


def test_duplicate_installs_report_both_and_the_one_python_imports():
    report = scan_json(ENVS / "duplicate-installs")
    boto = {c["version"]: c for c in by_name(report)["boto"]}
    # two dist-info folders, one boto/ folder whose __init__ says 2.9.0: 2.9.0 is what runs
    assert boto["2.9.0"]["details"]["active"] is True
    assert boto["2.49.0"]["details"]["active"] is False
    assert boto["2.49.0"]["details"]["shadowed_by"] == boto["2.9.0"]["id"]
    assert boto["2.49.0"]["details"]["module_version"] == "2.9.0"
    botocore = {c["version"]: c for c in by_name(report)["botocore"]}
    # the egg listed in easy-install.pth comes before site-packages itself
    assert botocore["0.21.0"]["details"]["active"] is True
    assert botocore["1.20.112"]["details"]["shadowed_by"] == botocore["0.21.0"]["id"]
    severities = {(f["title"].split(" was")[0], f["severity"]) for f in package_findings(report)}
    assert severities == {("boto 2.9.0", "high"), ("botocore 0.21.0", "high")}


def test_shadowed_pre_cutoff_install_is_medium(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    shutil.copytree(ENVS / "py3-venv" / "lib" / "python3.11" / "site-packages" / "boto-2.49.0.dist-info", site / "boto-2.49.0.dist-info")
    shutil.copytree(ENVS / "py3-venv" / "lib" / "python3.11" / "site-packages" / "boto", site / "boto")
    older = tmp_path / "extra"
    shutil.copytree(ENVS / "no-metadata" / "lib" / "python2.7" / "site-packages" / "boto", older / "boto")
    (site / "zz-extra.pth").write_text("# added by hand\n../../../extra\n")
    report = scan_json(tmp_path)
    boto = {c["version"]: c for c in by_name(report)["boto"]}
    assert boto["2.49.0"]["details"]["active"] is True
    assert boto["2.9.0"]["details"]["path_origin"] == "zz-extra.pth line 2"
    (finding,) = package_findings(report)
    assert finding["component"] == boto["2.9.0"]["id"]
    assert finding["severity"] == "medium"
    assert any("shadowed by" in e["summary"] for e in finding["evidence"])


def test_aws_cli_v2_installer_layout():
    report = scan_json(ENVS / "aws-cli-v2")
    cli = {c["version"]: c for c in by_name(report)["awscli"]}
    assert set(cli) == {"2.0.30", "2.15.30"}
    assert cli["2.15.30"]["details"]["active"] is True
    assert cli["2.0.30"]["details"]["active"] is False
    assert package_findings(report) == []


def test_site_packages_directory_given_directly():
    site = ENVS / "py3-old-botocore" / "lib" / "python3.11" / "site-packages"
    report = scan_json(site)
    assert {c["name"] for c in packages(report)} == {"awscli", "botocore"}


def test_non_pep440_boto_release_is_judged_through_the_date_table(tmp_path):
    site = tmp_path / "site-packages"
    site.mkdir()
    # boto 0.9d predates wheels and PEP 440; a distutils egg-info file as that era wrote it
    (site / "boto-0.9d-py2.5.egg-info").write_text(
        "Metadata-Version: 1.0\nName: boto\nVersion: 0.9d\nSummary: Amazon Web Services Library\n"
        "Home-page: http://code.google.com/p/boto/\nAuthor: Mitch Garnaat\nAuthor-email: mitch@garnaat.com\n"
        "License: UNKNOWN\nDescription: UNKNOWN\nPlatform: Posix; MacOS X; Windows\n")
    report = scan_json(site)
    boto = only(report, "boto")
    assert boto["version"] == "0.9d"
    assert boto["released"] == "2007-10-17T01:17:06Z"
    assert findings_for(report, boto)[0]["severity"] == "high"


def test_local_build_not_on_pypi_is_judged_by_version_order(tmp_path):
    site = tmp_path / "site-packages"
    (site / "botocore-0.20.0+corp1.dist-info").mkdir(parents=True)
    (site / "botocore-0.20.0+corp1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: botocore\nVersion: 0.20.0+corp1\n\nbody\n")
    (site / "boto-2.99.0.dist-info").mkdir()
    (site / "boto-2.99.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: boto\nVersion: 2.99.0\n")
    (site / "awscli-weird_build.dist-info").mkdir()
    (site / "awscli-weird_build.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: awscli\nVersion: weird_build\n")
    report = scan_json(site)
    severity = {c["name"]: [f["severity"] for f in findings_for(report, c)] for c in packages(report)}
    assert severity == {"botocore": ["high"], "boto": [], "awscli": ["medium"]}
    (botocore_finding,) = findings_for(report, only(report, "botocore"))
    assert any("not on PyPI" in e["summary"] and "0.21.0" in e["summary"] for e in botocore_finding["evidence"])


def test_bad_metadata_becomes_error_entries_and_the_scan_goes_on(tmp_path):
    site = tmp_path / "site-packages"
    (site / "boto-2.9.0.dist-info").mkdir(parents=True)
    (site / "boto-2.9.0.dist-info" / "METADATA").write_bytes(b"\x00\xff\xfe garbage with no headers")
    (site / "botocore-0.21.0.dist-info").mkdir()
    os.mkfifo(site / "botocore-0.21.0.dist-info" / "METADATA")
    (site / "awscli-1.2.1.dist-info").mkdir()
    (site / "awscli-1.2.1.dist-info" / "METADATA").write_bytes("Name: awscli\nVersion: 1.2.1\nAuthor: J\xf6rg\n".encode("latin-1"))
    (site / "boto3-1.0.0.dist-info").mkdir()
    (site / "boto3-1.0.0.dist-info" / "METADATA").symlink_to("METADATA")  # a loop
    report = scan_json(site)
    errors = {e["location"].rsplit("/", 2)[-2]: e["message"] for e in report["errors"]}
    assert "no Name and Version header" in errors["boto-2.9.0.dist-info"]
    assert "FIFO" in errors["botocore-0.21.0.dist-info"]
    assert "symbolic links" in errors["boto3-1.0.0.dist-info"]
    # Latin-1 in an old PKG-INFO is not fatal: the version is still read
    assert [(c["name"], c["version"]) for c in packages(report)] == [("awscli", "1.2.1")]


def test_symlink_out_of_the_target_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(ENVS / "py3-old-botocore" / "lib" / "python3.11" / "site-packages" / "botocore-0.21.0.dist-info",
                    outside / "botocore-0.21.0.dist-info")
    target = tmp_path / "target" / "site-packages"
    target.mkdir(parents=True)
    (target / "botocore-0.21.0.dist-info").symlink_to(outside / "botocore-0.21.0.dist-info")
    (target / "escape.pth").write_text(str(outside) + "\n")
    report = scan_json(target)
    assert packages(report) == []
    messages = " ".join(e["message"] for e in report["errors"])
    assert "leaves the scanned target" in messages
    assert "outside the scanned target" in messages


# Unreadable METADATA, .pth files and folders: tests/test_hostile_trees.py scans them as an unprivileged user,
# which also works where the tests run as root (CI).


def test_package_directory_without_any_version_cannot_be_judged(tmp_path):
    site = tmp_path / "site-packages"
    (site / "botocore").mkdir(parents=True)
    (site / "botocore" / "__init__.py").write_text("# patched in place, version line removed\nimport logging\n")
    report = scan_json(site)
    botocore = only(report, "botocore")
    assert botocore["version"] is None
    (finding,) = findings_for(report, botocore)
    assert finding["severity"] == "medium" and "version unknown" in finding["title"]
