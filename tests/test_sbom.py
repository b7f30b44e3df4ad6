"""SBOMs as targets: CycloneDX JSON (made by cyclonedx-py from a real virtualenv, and a multi-ecosystem image BOM
checked against the official CycloneDX schema) and SPDX 2.3 JSON (checked by spdx-tools)."""

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from auditor.collect import sbom
from conftest import ENVS, FIXTURES, findings_for, run, scan_json

SBOMS = FIXTURES / "sbom"
# Real dist-info folders of pip installs (tests/fixtures/envs/PROVENANCE.md): boto 2.9.0 was installed from a local
# sdist (its direct_url.json says so), botocore 1.20.112 from the index.
INSTALLED = ENVS / "duplicate-installs/lib/python2.7/site-packages"


def make_venv(where: Path, *, from_index: bool) -> Path:
    """A real virtualenv holding boto 2.9.0 and botocore 1.20.112 as pip installed them. `from_index`: boto as an
    install from the package index records it (no direct_url.json)."""
    venv.EnvBuilder(with_pip=False).create(where)
    site = next(where.glob("lib/python3*/site-packages"))
    for name in ("boto-2.9.0.dist-info", "botocore-1.20.112.dist-info"):
        shutil.copytree(INSTALLED / name, site / name)
    if from_index:
        (site / "boto-2.9.0.dist-info/direct_url.json").unlink()
    return where


def cyclonedx_py(environment: Path, output: Path, spec: str = "1.6") -> Path:
    subprocess.run([sys.executable, "-m", "cyclonedx_py", "environment", str(environment / "bin/python"), "--sv", spec,
                    "--no-validate", "-o", str(output)], check=True, capture_output=True, timeout=60)
    return output


def the(components: list, name: str) -> dict:
    (found,) = [c for c in components if c["name"] == name]
    return found


@pytest.mark.parametrize("spec", ["1.4", "1.5", "1.6"])
def test_cyclonedx_py_sbom_of_a_venv_flags_boto_at_its_bom_ref(tmp_path, spec):
    bom = cyclonedx_py(make_venv(tmp_path / "venv", from_index=True), tmp_path / "bom.json", spec)
    report = scan_json(bom)
    written = json.loads(bom.read_text())
    refs = {c["name"]: c["bom-ref"] for c in written["components"]}
    assert [t["kind"] for t in report["targets"]] == ["sbom"]
    assert report["targets"][0]["details"]["format"] == f"CycloneDX {spec}"
    boto = the(report["components"], "boto")
    assert boto["kind"] == "python-package" and boto["version"] == "2.9.0" and boto["source"] == "CycloneDX SBOM"
    assert boto["location"] == f"{bom}#{refs['boto']}" and boto["details"]["bom_ref"] == refs["boto"]
    assert bom.read_text().splitlines()[boto["line"] - 1].strip() == '"purl": "pkg:pypi/boto@2.9.0",'
    assert [f["rule"] for f in findings_for(report, boto)] == ["ats-python-sdk-before-cutoff"]
    assert not findings_for(report, the(report["components"], "botocore"))  # 1.20.112 is from 2021
    assert report["errors"] == []


def test_a_package_cyclonedx_py_gives_no_purl_is_an_error_entry_not_a_silent_skip(tmp_path):
    # boto installed from a local sdist: cyclonedx-py writes no purl for it (its source is not the index).
    bom = cyclonedx_py(make_venv(tmp_path / "venv", from_index=False), tmp_path / "bom.json")
    assert "purl" not in the(json.loads(bom.read_text())["components"], "boto")
    report = scan_json(bom)
    assert [c["name"] for c in report["components"]] == ["botocore"]
    (error,) = report["errors"]
    assert error["location"] == f"{bom}#boto==2.9.0" and "states no purl" in error["message"]


def test_a_cyclonedx_image_bom_names_each_ecosystems_sdk_as_its_manifest_would():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    fixture = SBOMS / "image.cdx.json"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(fixture.read_text()) is None
    report = scan_json(fixture)
    components = report["components"]
    sdks = {c["name"]: (c["version"], c["details"]["sdk"], c["details"]["trust_from"]) for c in components
            if c["kind"] == "sdk-manifest"}
    assert sdks == {
        "@aws-sdk/client-s3": ("3.540.0", "AWS SDK for JavaScript v3", "node"),
        "aws-sdk": ("2.1500.0", "AWS SDK for JavaScript v2", "node"),
        "software.amazon.awssdk:s3": ("2.20.0", "AWS SDK for Java 2.x", "jvm"),
        "com.amazonaws:aws-java-sdk-core": ("1.12.500", "AWS SDK for Java 1.x", "jvm"),
        "aws-sdk-core": ("3.190.0", "AWS SDK for Ruby V3", "openssl"),  # aws-sdk-s3 goes through it, as in Gemfile.lock
        "github.com/aws/aws-sdk-go": ("v1.44.0", "AWS SDK for Go v1", "os"),
        "AWSSDK.Core": ("3.7.300", "AWS SDK for .NET", "os"),
        "aws/aws-sdk-php": ("3.300.0", "AWS SDK for PHP", "os"),
    }
    # Every component points back at its own entry, nested ones (the frontend's npm packages) included.
    for component in components:
        ref = component["details"]["bom_ref"]
        assert component["location"] == f"{fixture}#{ref}"
        assert f'"purl": "{ref.split("?package-id")[0]}"' in fixture.read_text().splitlines()[component["line"] - 1]
    assert sorted(c["name"] for c in components if c["kind"] == "python-package") == ["boto", "botocore"]
    assert [f["rule"] for f in findings_for(report, the(components, "boto"))] == ["ats-python-sdk-before-cutoff"]
    assert all(findings_for(report, the(components, name)) for name in sdks)
    errors = {e["location"].split("#")[1]: e["message"] for e in report["errors"]}
    assert "states no purl" in errors.pop("awscli-from-archive")
    assert errors.pop("broken-purl").startswith("component broken: malformed purl 'pkg:pypi'")
    assert errors == {}
    details = report["targets"][0]["details"]
    assert (details["components"], details["without_purl"]) == (17, 3)  # the image itself, awscli, the frontend bundle


def test_an_spdx_23_document_is_read_by_its_package_purls(tmp_path):
    fixture = SBOMS / "sbom.spdx.json"
    checked = subprocess.run([str(Path(sys.executable).parent / "pyspdxtools"), "-i", str(fixture)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = scan_json(fixture)
    awscli = the(report["components"], "awscli")
    assert awscli["location"] == f"{fixture}#SPDXRef-Package-python-awscli-1.2.1"
    assert awscli["details"]["spdx_id"] == "SPDXRef-Package-python-awscli-1.2.1" and awscli["source"] == "SPDX SBOM"
    assert [f["rule"] for f in findings_for(report, awscli)] == ["ats-python-sdk-before-cutoff"]
    assert not findings_for(report, the(report["components"], "boto3"))
    java = the(report["components"], "software.amazon.awssdk:s3")
    assert java["details"]["spdx_id"] == "SPDXRef-Package-java-sdk-s3" and java["details"]["sdk"] == "AWS SDK for Java 2.x"
    assert report["targets"][0]["details"]["format"] == "SPDX-2.3"
    assert report["errors"] == []


def test_sbom4python_spdx_of_a_venvs_boto_flags_it_at_its_spdxid(tmp_path):
    """A real SPDX 2.3 generator: sbom4python describes an installed module from its metadata, here the venv's
    (on PYTHONPATH); its look-ups of PyPI's JSON API are sent to a closed port, so it runs offline, as it falls back."""
    import os

    site = next(make_venv(tmp_path / "venv", from_index=True).glob("lib/python3*/site-packages"))
    output = tmp_path / "boto.spdx.json"
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "PYTHONPATH": str(site), "NO_PROXY": "", "no_proxy": "",
           **{name: closed for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}}
    subprocess.run([str(Path(sys.executable).parent / "sbom4python"), "-m", "boto", "--sbom", "spdx", "--format", "json",
                    "-o", str(output)], check=True, capture_output=True, timeout=120, env=env)
    document = json.loads(output.read_text())
    assert document["spdxVersion"] == "SPDX-2.3"
    (package,) = [p for p in document["packages"] if p["name"] == "boto"]
    report = scan_json(output)
    boto = the(report["components"], "boto")
    assert boto["location"] == f"{output}#{package['SPDXID']}" and boto["details"]["spdx_id"] == package["SPDXID"]
    assert [f["rule"] for f in findings_for(report, boto)] == ["ats-python-sdk-before-cutoff"]


def test_a_malformed_purl_is_an_error_entry_naming_its_component_and_the_rest_is_read(tmp_path):
    document = json.loads((SBOMS / "sbom.spdx.json").read_text())
    document["packages"][1]["externalRefs"][0]["referenceLocator"] = "awscli@1.2.1"  # no pkg: scheme
    broken = tmp_path / "sbom.spdx.json"
    broken.write_text(json.dumps(document, indent=2))
    report = scan_json(broken)
    assert "awscli" not in {c["name"] for c in report["components"]}
    assert {"boto3", "software.amazon.awssdk:s3"} <= {c["name"] for c in report["components"]}
    (error,) = report["errors"]
    assert error["location"] == f"{broken}#SPDXRef-Package-python-awscli-1.2.1"
    assert error["message"].startswith("component awscli: malformed purl 'awscli@1.2.1'")


def test_an_sbom_is_known_by_its_content_whatever_its_name(tmp_path):
    renamed = tmp_path / "syft-output.json"
    shutil.copy(SBOMS / "image.cdx.json", renamed)
    assert "boto" in {c["name"] for c in scan_json(renamed)["components"]}
    other = tmp_path / "settings.json"
    other.write_text('{"theme": "dark"}')
    result = run("scan", "--format", "json", "-q", other)
    assert result.code == 2 and "neither a CycloneDX SBOM" in result.err  # nothing read: no target could be read
    spdx3 = tmp_path / "bom.json"
    spdx3.write_text(json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}))
    assert "SPDX 3 (JSON-LD) document" in run("scan", "-q", spdx3).err


def test_a_tree_reads_an_sbom_beside_a_venv_without_counting_its_packages_twice(tmp_path):
    tree = tmp_path / "service"
    environment = make_venv(tree / ".venv", from_index=True)
    cyclonedx_py(environment, tree / "bom.json")
    shutil.copy(SBOMS / "sbom.spdx.json", tree / "worker.spdx.json")
    report = scan_json(tree)
    boto = [c for c in report["components"] if c["name"] == "boto"]
    assert [c["source"] for c in boto] == ["dist-info METADATA"]  # the install; the SBOM beside it says the same
    targets = {t["location"]: t for t in report["targets"]}
    assert targets[f"{tree}/bom.json"]["details"]["found_another_way"] == ["boto 2.9.0", "botocore 1.20.112"]
    # What the tree does not show otherwise is read from the SBOM: the worker's awscli, at its SPDXID.
    assert the(report["components"], "awscli")["location"] == f"{tree}/worker.spdx.json#SPDXRef-Package-python-awscli-1.2.1"
    assert targets[str(tree)]["details"]["found"]["sboms"] == 2


def test_nesting_and_count_caps_are_error_entries(tmp_path, monkeypatch):
    def nested(depth: int) -> dict:
        component = {"bom-ref": "deepest", "type": "library", "name": "boto", "purl": "pkg:pypi/boto@2.9.0"}
        for level in range(depth):
            component = {"bom-ref": f"level-{level}", "type": "application", "name": f"l{level}", "components": [component]}
        return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [component]}

    deep = tmp_path / "deep.cdx.json"
    deep.write_text(json.dumps(nested(sbom.MAX_NESTING + 5)))
    report = scan_json(deep)
    assert report["components"] == []
    assert any(f"nested more than {sbom.MAX_NESTING} levels deep" in e["message"] for e in report["errors"])
    deep.write_text(json.dumps(nested(sbom.MAX_NESTING - 2)))
    assert [c["name"] for c in scan_json(deep)["components"]] == ["boto"]

    monkeypatch.setattr(sbom, "MAX_COMPONENTS", 3)
    many = tmp_path / "many.cdx.json"
    many.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [
        {"bom-ref": f"c{i}", "type": "library", "name": "boto", "purl": f"pkg:pypi/boto@2.{i}.0"} for i in range(6)]}))
    report = scan_json(many)
    assert [c["version"] for c in report["components"]] == ["2.0.0", "2.1.0", "2.2.0"]
    assert any("more than 3 components" in e["message"] for e in report["errors"])


def test_an_unknown_spec_version_is_read_on_a_best_effort_basis_and_says_so(tmp_path):
    old = tmp_path / "old.cdx.json"
    old.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.2", "version": 1, "components": [
        {"type": "library", "name": "boto", "version": "2.9.0", "purl": "pkg:pypi/boto@2.9.0"}]}))
    report = scan_json(old)
    boto = the(report["components"], "boto")
    assert boto["location"] == f"{old}#pkg:pypi/boto@2.9.0" and "bom_ref" not in boto["details"]  # no bom-ref: its purl
    assert "CycloneDX 1.2 is not a version this auditor knows" in report["errors"][0]["message"]


def test_an_sboms_credentials_and_control_characters_reach_no_report(tmp_path):
    from auditor.report import FORMATS

    secret = "s3cr3tPa55"
    leaky = tmp_path / "leaky.cdx.json"
    leaky.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
        {"bom-ref": f"https://ci:{secret}@artifacts.example.com/boto-2.9.0.tar.gz\x1b[31m", "type": "library",
         "name": "boto", "purl": f"pkg:pypi/boto@2.9.0?repository_url=https://ci:{secret}@artifacts.example.com/simple"},
        {"bom-ref": "broken\x1b]0;owned\x07", "type": "library", "name": "x", "purl": f"pkg:pypi?token={secret}"}]}))
    for fmt in FORMATS:
        result = run("scan", "-q", "--format", fmt, leaky)
        assert result.code == 1, result.err
        assert secret not in result.out and "\x1b" not in result.out and "\x07" not in result.out, fmt


def test_sarif_points_at_the_sbom_file_and_the_line_of_the_purl(tmp_path):
    tree = tmp_path / "repo"
    tree.mkdir()
    shutil.copy(SBOMS / "image.cdx.json", tree / "image.cdx.json")
    for target, uri in ((tree, f"{tree}/image.cdx.json"), (tree / "image.cdx.json", f"{tree}/image.cdx.json")):
        result = run("scan", "-q", "--format", "sarif", target)
        (boto,) = [r for r in json.loads(result.out)["runs"][0]["results"] if "boto 2.9.0" in r["message"]["text"]]
        physical = boto["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == Path(uri).as_uri()
        assert physical["region"]["startLine"] == 22  # "purl": "pkg:pypi/boto@2.9.0"
