"""AWS SDKs of other languages in manifests and lockfiles (fixtures/manifests/PROVENANCE.md), and the
store their trust comes from."""

import shutil

import pytest

from auditor.collect import sdks as sdk_manifests
from auditor.collect import machine
from auditor.collect.tree import WalkLimits
from conftest import FIXTURES, run, scan_json
from test_truststore import AMAZON_ROOT_CA_1, ANCHORS, pem, self_signed, AMAZON_NAME

MANIFESTS = FIXTURES / "manifests"
NO_SYSTEM = "trust comes from the store of the machine it runs on"
# What package.json asks for, and what every npm/pnpm/yarn run resolved on the day the fixtures were made.
NPM_DIRECT = {"@aws-sdk/client-dynamodb": "3.1169.0", "@aws-sdk/client-s3": "3.540.0", "aws-sdk": "2.1693.0"}


def sdks(report):
    return [c for c in report["components"] if c["kind"] == "sdk-manifest"]


def carriers(report):
    """The components that carry their file's finding."""
    return [c for c in sdks(report) if "reported_with" not in c["details"]]


def findings_on(report, component):
    return [f for f in report["findings"] if f["component"] == component["id"]]


def line_text(path, component):
    return path.read_text().splitlines()[component["line"] - 1]


@pytest.mark.parametrize("folder,lockfile", [("lock-v1", "package-lock.json"), ("lock-v2", "package-lock.json"),
                                             ("lock-v3", "package-lock.json"), ("pnpm", "pnpm-lock.yaml"),
                                             ("yarn-classic", "yarn.lock"), ("yarn-berry", "yarn.lock")])
def test_every_npm_lockfile_names_the_same_sdks(folder, lockfile):
    report = scan_json(MANIFESTS / "npm" / folder)
    assert report["errors"] == []
    found = sdks(report)
    assert {c["source"] for c in found} == {lockfile}, "package.json beside a lockfile is not read twice"
    versions = {c["name"]: c["version"] for c in found}
    assert {n: versions[n] for n in NPM_DIRECT} == NPM_DIRECT
    assert len(found) == 53 and all(n == "aws-sdk" or n.startswith("@aws-sdk/") for n in versions)
    path = MANIFESTS / "npm" / folder / lockfile
    for component in found:
        assert component["name"] in line_text(path, component), "line number points at the package"
        assert component["details"]["trust_from"] == "node"
        assert NO_SYSTEM in component["details"]["trust_note"]
    # one finding per SDK generation in the file, on a direct dependency where the file tells
    by_sdk = {c["details"]["sdk"]: c for c in carriers(report)}
    assert sorted(by_sdk) == ["AWS SDK for JavaScript v2", "AWS SDK for JavaScript v3"]
    assert by_sdk["AWS SDK for JavaScript v3"]["name"] == "@aws-sdk/client-dynamodb"
    assert len(by_sdk["AWS SDK for JavaScript v3"]["details"]["same_file_packages"]) == 51
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("ats-sdk-platform-store", "low")] * 2
    if folder not in ("lock-v1", "yarn-classic"):  # these two formats do not say which dependencies are direct
        direct = {c["name"] for c in found if c["details"].get("direct")}
        assert direct == set(NPM_DIRECT)
        assert by_sdk["AWS SDK for JavaScript v3"]["details"]["constraint"].endswith("^3.540.0")


def test_package_json_named_alone_gives_its_constraints():
    report = scan_json(MANIFESTS / "npm" / "lock-v3" / "package.json")
    found = {c["name"]: (c["version"], c["details"]["constraint"], c["details"].get("dev", False)) for c in sdks(report)}
    assert found == {"@aws-sdk/client-dynamodb": (None, "^3.540.0", False), "aws-sdk": (None, "^2.1500.0", False),
                     "@aws-sdk/client-s3": ("3.540.0", "3.540.0", True)}


def test_java_pom_gradle_and_gradle_lockfile():
    report = scan_json(MANIFESTS / "java")
    assert report["errors"] == []
    found = {(c["location"].split("/")[-1], c["name"]): c for c in sdks(report)}
    pom = found[("pom.xml", "software.amazon.awssdk:bom")]["details"]
    assert pom["constraint"] == "2.25.16" and "version ${aws.sdk.version} = 2.25.16 (from <properties>)" in pom["notes"]
    managed = found[("pom.xml", "software.amazon.awssdk:dynamodb")]
    assert managed["version"] is None and managed["details"]["notes"] == ["no version here: set by a BOM or <dependencyManagement>"]
    assert found[("pom.xml", "com.amazonaws:aws-java-sdk-s3")]["version"] == "1.12.261"
    assert not any(name == "org.slf4j:slf4j-api" for _, name in found)
    # build.gradle sits beside gradle.lockfile: the lockfile's exact versions are read instead
    assert {c["source"] for c in sdks(report) if "/gradle/" in c["location"]} == {"gradle.lockfile"}
    assert found[("gradle.lockfile", "com.amazonaws:aws-java-sdk-core")]["version"] == "1.11.22"
    assert len([k for k in found if k[0] == "gradle.lockfile"]) == 12
    kts = {name: c["details"]["constraint"] for (file, name), c in found.items() if file == "build.gradle.kts"}
    assert kts == {"software.amazon.awssdk:bom": "$awsSdkVersion", "software.amazon.awssdk:dynamodb-enhanced": "",
                   "com.amazonaws:aws-java-sdk-dynamodb": "1.12.261"}, "the commented-out line is not a dependency"
    assert {c["details"]["sdk"] for c in carriers(report)} == {"AWS SDK for Java 1.x", "AWS SDK for Java 2.x"}
    assert all(c["details"]["trust_from"] == "jvm" for c in sdks(report))
    for component in sdks(report):
        path = MANIFESTS / "java" / component["location"].split("manifests/java/")[1]
        assert component["name"].split(":")[1] in line_text(path, component)


def test_go_php_dotnet_and_cpp():
    report = scan_json(MANIFESTS / "go", MANIFESTS / "php", MANIFESTS / "dotnet", MANIFESTS / "cpp")
    assert report["errors"] == []
    found = {c["name"]: c for c in sdks(report)}
    assert found["github.com/aws/aws-sdk-go"]["version"] == "v1.44.0"
    assert found["github.com/aws/aws-sdk-go-v2/credentials"]["details"]["direct"] is False  # // indirect
    assert found["github.com/aws/aws-sdk-go-v2/service/dynamodb"]["details"]["direct"] is True
    assert "github.com/aws/smithy-go" not in found
    assert found["aws/aws-sdk-php"]["version"] == "3.305.4" and found["aws/aws-sdk-php"]["line"] == 27
    assert found["AWSSDK.Core"]["source"] in ("packages.lock.json", "packages.config")
    lock = {c["name"]: c for c in sdks(report) if c["source"] == "packages.lock.json"}
    assert {n: (c["version"], c["details"]["direct"]) for n, c in lock.items()} == {
        "AWSSDK.DynamoDBv2": ("3.7.303.6", True), "AWSSDK.Extensions.NETCore.Setup": ("3.7.300", True),
        "AWSSDK.Core": ("3.7.303.20", False)}
    assert not [c for c in sdks(report) if c["source"] == "msbuild"], "the csproj beside packages.lock.json is not read twice"
    legacy = {c["name"]: c["version"] for c in sdks(report) if c["source"] == "packages.config"}
    assert legacy == {"AWSSDK.Core": "3.3.0.0", "AWSSDK.S3": "3.3.0.0"}
    cpp = found["aws-sdk-cpp"]
    assert (cpp["details"]["constraint"], cpp["details"]["notes"]) == (">= 1.11.285", ["features: dynamodb, s3"])
    assert {c["details"]["trust_from"] for c in sdks(report) if c["details"]["ecosystem"] != "maven"} == {"os"}
    assert sorted(c["details"]["sdk"] for c in carriers(report)) == [
        "AWS SDK for .NET", "AWS SDK for .NET", "AWS SDK for C++", "AWS SDK for Go v1", "AWS SDK for Go v2", "AWS SDK for PHP"]
    assert {f["rule"] for f in report["findings"]} == {"ats-sdk-platform-store"}


def test_csproj_alone_and_a_utf16_packages_config(tmp_path):
    project = tmp_path / "Legacy.csproj"
    shutil.copy(MANIFESTS / "dotnet" / "sdk-style" / "Orders.Api.csproj", project)
    config = tmp_path / "sub" / "packages.config"
    config.parent.mkdir()
    config.write_bytes((MANIFESTS / "dotnet" / "legacy" / "packages.config").read_text()
                       .replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"))
    report = scan_json(tmp_path)
    assert report["errors"] == []
    assert {(c["name"], c["details"]["constraint"], c["line"]) for c in sdks(report) if c["source"] == "msbuild"} == {
        ("AWSSDK.DynamoDBv2", "3.7.303.6", 11), ("AWSSDK.Extensions.NETCore.Setup", "3.7.300", 12)}
    assert {c["name"] for c in sdks(report) if c["source"] == "packages.config"} == {"AWSSDK.Core", "AWSSDK.S3"}


def test_ruby_2_0_relies_on_openssl_and_its_rule_wins():
    report = scan_json(MANIFESTS / "ruby" / "v2-0")
    (core,) = sdks(report)
    assert (core["name"], core["version"], core["line"]) == ("aws-sdk-core", "2.0.48", 6)
    assert core["details"]["trust_from"] == "openssl" and NO_SYSTEM in core["details"]["trust_note"]
    (finding,) = report["findings"]
    assert (finding["rule"], finding["severity"]) == ("ats-ruby-sdk-openssl-default", "low")
    assert "ships no certificates" in finding["title"] and "OpenSSL" in finding["title"]


def test_ruby_code_searched_in_part_only_is_an_error_entry(tmp_path, monkeypatch):
    """The call sits in the second file; with a one-file budget it is not reached, and the report says the
    search was partial instead of silently judging the gem as if the call were absent."""
    from auditor.collect.sdks import ruby

    project = tmp_path / "shop"
    shutil.copytree(MANIFESTS / "ruby" / "v3-bundled", project)
    (project / "app.rb").write_text("require 'aws-sdk-core'\n")
    monkeypatch.setattr(ruby, "CODE_FILES", 1)
    report = scan_json(project)
    (error,) = report["errors"]
    assert error["location"] == str(project)
    assert error["message"].startswith("searched for Aws.use_bundled_cert! in part only (not read: more than 1 Ruby files)")


def test_ruby_use_bundled_cert_is_found_in_the_code():
    report = scan_json(MANIFESTS / "ruby" / "v3-bundled")
    (core,) = sdks(report)
    assert core["details"]["trust_from"] == "bundled"
    assert core["details"]["notes"] == [f"{MANIFESTS}/ruby/v3-bundled/config/initializers/aws.rb:4 calls Aws.use_bundled_cert!"]
    (finding,) = report["findings"]
    assert (finding["rule"], finding["severity"]) == ("ats-sdk-bundled-store", "medium"), "the bundle is not installed here"


def ruby_v1_project(tmp_path, bundle: bytes):
    project = tmp_path / "legacy-app"
    project.mkdir()
    shutil.copy(MANIFESTS / "ruby" / "v1" / "Gemfile.lock", project / "Gemfile.lock")
    gem = project / "vendor" / "bundle" / "ruby" / "2.3.0" / "gems" / "aws-sdk-v1-1.67.0"
    gem.mkdir(parents=True)
    (gem / "ca-bundle.crt").write_bytes(bundle)
    return project


def test_ruby_v1_bundle_installed_in_the_tree_is_checked_as_a_store(tmp_path):
    project = ruby_v1_project(tmp_path, (ANCHORS / "starfield-class-2-ca.pem").read_bytes())
    report = scan_json(project)
    (carrier,) = carriers(report)
    assert carrier["name"] == "aws-sdk" and carrier["details"]["sdk"] == "AWS SDK for Ruby V1"
    store = next(c for c in report["components"] if c["id"] == carrier["details"]["trust_store_id"])
    assert store["location"] == f"{project}/vendor/bundle/ruby/2.3.0/gems/aws-sdk-v1-1.67.0/ca-bundle.crt"
    assert store["details"]["anchors"] == ["Starfield Class 2 Certification Authority"]
    assert [(f["rule"], f["severity"]) for f in findings_on(report, carrier)] == [("ats-sdk-bundled-store", "info")]
    assert [f["rule"] for f in findings_on(report, store)] == ["ats-store-trusted"]


def test_ruby_v1_bundle_without_an_anchor_is_critical(tmp_path):
    project = ruby_v1_project(tmp_path, pem(self_signed(AMAZON_NAME)))  # named like the anchor, another key
    report = scan_json(project)
    (carrier,) = carriers(report)
    assert [(f["rule"], f["severity"]) for f in findings_on(report, carrier)] == [("ats-sdk-bundled-store", "critical")]
    store = next(c for c in report["components"] if c["id"] == carrier["details"]["trust_store_id"])
    assert {f["rule"] for f in findings_on(report, store)} == {"ats-store-without-anchor", "ats-store-impostor"}


def app_image(tmp_path, os_bundle: bytes):
    """An image with an OS bundle, apps in the usual folders, and manifests that must not be read."""
    root = tmp_path / "image"
    (root / "etc" / "ssl" / "certs").mkdir(parents=True)
    (root / "etc" / "ssl" / "certs" / "ca-certificates.crt").write_bytes(os_bundle)
    shop = root / "srv" / "shop" / "services" / "api"
    shop.mkdir(parents=True)
    shutil.copy(MANIFESTS / "go" / "go.mod", shop / "go.mod")
    (root / "app").mkdir()
    shutil.copy(MANIFESTS / "ruby" / "v2-0" / "Gemfile.lock", root / "app" / "Gemfile.lock")
    # dependencies, caches and trees deeper than the application search goes are not walked
    deep = "opt/tool/" + "/".join("d" * 13)
    for skipped in ("srv/shop/node_modules/left-pad", "home/dev/.m2/repository/x", deep):
        (root / skipped).mkdir(parents=True)
        shutil.copy(MANIFESTS / "php" / "composer.lock", root / skipped / "composer.lock")
    return root


def test_image_scan_links_sdks_to_the_image_os_store(tmp_path):
    report = scan_json("--root", app_image(tmp_path, AMAZON_ROOT_CA_1))
    assert {c["location"] for c in sdks(report)} == {"/srv/shop/services/api/go.mod", "/app/Gemfile.lock"}
    os_store = next(c for c in report["components"] if c["location"] == "/etc/ssl/certs/ca-certificates.crt")
    for carrier in carriers(report):
        assert carrier["details"]["trust_store_id"] == os_store["id"]
        assert NO_SYSTEM not in carrier["details"]["trust_note"]
        assert [f["severity"] for f in findings_on(report, carrier)] == ["info"]
    assert any(u.startswith("AWS SDK for Go v2") for u in os_store["details"]["users"])
    ruby = next(c for c in carriers(report) if c["name"] == "aws-sdk-core")
    assert [f["rule"] for f in findings_on(report, ruby)] == ["ats-ruby-sdk-openssl-default"]
    assert "OpenSSL's default store, which the distributions point at the OS bundle" in ruby["details"]["trust_reasons"][0]


def test_image_scan_sdk_finding_follows_a_store_without_anchor(tmp_path):
    report = scan_json("--root", app_image(tmp_path, pem(self_signed(AMAZON_NAME))))
    severities = {c["details"]["sdk"]: [f["severity"] for f in findings_on(report, c)] for c in carriers(report)}
    assert severities == {"AWS SDK for Go v1": ["critical"], "AWS SDK for Go v2": ["critical"], "AWS SDK for Ruby V2": ["critical"]}


def test_app_discovery_is_bounded_and_says_what_it_did_not_search(tmp_path, monkeypatch):
    root = app_image(tmp_path, AMAZON_ROOT_CA_1)
    report = scan_json("--root", root)
    assert any(e["location"].startswith("/opt/tool/d/") and "12 levels below /opt/tool" in e["message"] for e in report["errors"])
    monkeypatch.setattr(machine, "APPLICATION_LIMITS", WalkLimits(depth=12, entries=3))
    report = scan_json("--root", root)
    assert any("search stopped after 3 entries" in e["message"] for e in report["errors"])
    assert report["summary"]["not_scanned"] == len(report["errors"]) > 0


CORRUPT = [
    ("package-lock.json", b'{"lockfileVersion": 3, "packages": {"node_modules/aws-sdk": ', "invalid JSON"),
    ("package-lock.json", b'["not", "an", "object"]', "expected a JSON object"),
    ("pom.xml", b"<project><dependencies><dependency>", "invalid XML"),
    ("pom.xml", b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                b"<project><name>&b;</name></project>", "DTD or entity declaration; refused"),
    ("packages.config", b'<!DOCTYPE p SYSTEM "http://127.0.0.1:9/evil.dtd"><packages/>', "refused"),
    ("yarn.lock", "aws-sdk@^2:\n  version \"2.1.0\"\n# caf\xe9\n".encode("latin-1"), "not valid UTF-8"),
    ("pnpm-lock.yaml", b"importers:\n  .:\n    dependencies: {}\n", "no lockfileVersion"),
    ("Gemfile.lock", b"<html>502 Bad Gateway</html>\n", "not a Gemfile.lock"),
    ("go.mod", b"require github.com/aws/aws-sdk-go v1.44.0\n", "no module directive"),
    ("gradle.lockfile", b"software.amazon.awssdk:dynamodb\n", "not 'group:artifact:version=configurations'"),
    ("composer.lock", b'{"packages": {"name": "aws/aws-sdk-php"}}', "'packages' is not a list"),
    ("packages.lock.json", b'{"version": 1, "dependencies": {"net8.0": []}}', "net8.0 is list, not an object"),
]


@pytest.mark.parametrize("name,data,reason", CORRUPT)
def test_corrupt_manifest_is_an_error_entry_and_the_scan_goes_on(tmp_path, name, data, reason):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / name).write_bytes(data)
    shutil.copy(MANIFESTS / "php" / "composer.lock", tmp_path / "composer.lock")
    report = scan_json(tmp_path)
    (error,) = report["errors"]
    assert error["location"] == f"{tmp_path}/bad/{name}" and reason in error["message"]
    assert [c["name"] for c in sdks(report)] == ["aws/aws-sdk-php"]


def test_huge_manifest_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(sdk_manifests, "MANIFEST_CAP", 1024)
    shutil.copy(MANIFESTS / "npm" / "lock-v3" / "package-lock.json", tmp_path / "package-lock.json")
    report = scan_json(tmp_path)
    (error,) = report["errors"]
    assert "over the 1024-byte limit; not read" in error["message"] and sdks(report) == []


def test_table_lists_the_sdks_with_their_trust():
    result = run("scan", "-q", "--width", "200", MANIFESTS / "ruby" / "v2-0")  # one line a row
    assert "AWS SDKs of other languages" in result.out and "Components: no AWS SDK" not in result.out
    row = next(line for line in result.out.splitlines() if line.startswith("AWS SDK for Ruby V2"))
    assert "aws-sdk-core 2.0.48" in row and "openssl" in row and "Gemfile.lock:6" in row


PNPM_5 = """lockfileVersion: 5.4

specifiers:
  '@aws-sdk/client-s3': ^3.540.0

dependencies:
  '@aws-sdk/client-s3': 3.540.0

packages:

  /@aws-sdk/client-s3/3.540.0:
    resolution: {integrity: sha512-AAAA}
    dev: false

  /@aws-sdk/types/3.535.0:
    resolution: {integrity: sha512-BBBB}
    dev: false
"""
PNPM_6 = """lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

devDependencies:
  aws-sdk:
    specifier: ^2.1500.0
    version: 2.1693.0

packages:

  /aws-sdk@2.1693.0:
    resolution: {integrity: sha512-CCCC}
    engines: {node: '>= 10.0.0'}
    requiresBuild: true
    dev: true
"""


@pytest.mark.parametrize("text,expected", [
    (PNPM_5, {("@aws-sdk/client-s3", "3.540.0", "^3.540.0", True, False), ("@aws-sdk/types", "3.535.0", "", False, False)}),
    (PNPM_6, {("aws-sdk", "2.1693.0", "^2.1500.0", True, True)}),
])
def test_older_pnpm_lockfile_layouts(tmp_path, text, expected):
    (tmp_path / "pnpm-lock.yaml").write_text(text)
    report = scan_json(tmp_path)
    assert report["errors"] == []
    assert {(c["name"], c["version"], c["details"]["constraint"], c["details"]["direct"], c["details"].get("dev", False))
            for c in sdks(report)} == expected


@pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
def test_image_scan_links_a_java_sdk_to_the_jdk_trust_store(tmp_path):
    from test_java_trust import java_home

    root = app_image(tmp_path, AMAZON_ROOT_CA_1)
    java_home(root / "usr" / "lib" / "jvm" / "temurin-17", "17.0.10")
    shutil.copy(MANIFESTS / "java" / "maven" / "pom.xml", root / "app" / "pom.xml")
    report = scan_json("--root", root)
    java = next(c for c in carriers(report) if c["details"]["trust_from"] == "jvm" and c["details"]["sdk"].endswith("2.x"))
    store = next(c for c in report["components"] if c["id"] == java["details"]["trust_store_id"])
    assert store["location"] == "/usr/lib/jvm/temurin-17/lib/security/cacerts"
    assert store["details"]["anchors"] == ["Starfield Class 2 Certification Authority"]
    assert "Java 17.0.10 at /usr/lib/jvm/temurin-17" in java["details"]["trust_reasons"][0]
    assert [f["severity"] for f in findings_on(report, java)] == ["info"]
