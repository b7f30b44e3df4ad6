"""Which AWS_CA_BUNDLE, ca_bundle and REQUESTS_CA_BUNDLE a botocore or AWS CLI reads (rules/ca-settings.toml):
from the code that reads them where the copy ships it, else from its version, else "cannot tell", in which case
every store it may use is checked as in use. On real files (tests/fixtures/envs/trust, see PROVENANCE.md)."""

import shutil

import pytest

from auditor.trust.client_store import setting_read
from auditor.fs import View
from conftest import scan_json
from test_trust_resolver import TRUST, client, corporate_bundle, env_file, findings_of, store_of

DEBIAN = TRUST / "debian-bookworm" / "usr" / "lib" / "python3" / "dist-packages"
# botocore files that decide which settings it reads: what a trimmed copy leaves out.
READING_MODULES = ("session.py", "client.py", "configprovider.py", "endpoint.py")


def trimmed(tmp_path, tree, without_version=False):
    """A copy of a real botocore install with only the files a trimmed or vendored copy keeps."""
    site = shutil.copytree(tree, tmp_path / "site-packages")
    for module in READING_MODULES:
        (site / "botocore" / module).unlink(missing_ok=True)
    if without_version:
        init = site / "botocore" / "__init__.py"
        init.write_text("".join(line for line in init.read_text().splitlines(True) if not line.startswith("__version__")))
    return site


def users(report, component):
    """The clients using a component's store (not the settings that name it)."""
    return sorted(u for u in store_of(report, component)["details"].get("users", []) if not u.endswith(" setting"))


def test_a_trimmed_old_botocore_reads_neither_variable_by_its_version(tmp_path):
    site = trimmed(tmp_path, TRUST / "botocore-0.23.0" / "site-packages")
    bundle = corporate_bundle(tmp_path)
    report = scan_json(site, "--env-file", env_file(tmp_path, f"AWS_CA_BUNDLE={bundle}\nREQUESTS_CA_BUNDLE={bundle}\n"))
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == f"{site}/botocore/vendored/requests/cacert.pem"
    reasons = botocore["details"]["trust_reasons"]
    assert (f"AWS_CA_BUNDLE={bundle} (from --env-file {tmp_path}/service.env) is set, but not read: botocore 0.23.0 at "
            f"{site}/botocore does not read AWS_CA_BUNDLE: botocore first reads it in 1.3.28; this copy ships no session.py: "
            f"decided from its version") in reasons
    assert any("does not read REQUESTS_CA_BUNDLE: botocore first reads it in 0.31.0; this copy ships no endpoint.py" in r
               for r in reasons)
    (named,) = [c for c in report["components"] if c["kind"] == "trust-store" and c["location"] == str(bundle)]
    assert named["details"]["users"] == ["the AWS_CA_BUNDLE setting", "the REQUESTS_CA_BUNDLE setting"]


def test_a_trimmed_modern_botocore_reads_aws_ca_bundle_by_its_version(tmp_path):
    site = trimmed(tmp_path, TRUST / "botocore-1.35.0" / "site-packages")
    bundle = corporate_bundle(tmp_path)
    report = scan_json(site, "--env-file", env_file(tmp_path, f"AWS_CA_BUNDLE={bundle}\n"))
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == str(bundle)
    assert (f"botocore 1.35.0 at {site}/botocore reads AWS_CA_BUNDLE: botocore first reads it in 1.3.28; this copy ships "
            f"no session.py: decided from its version") in botocore["details"]["trust_reasons"]
    assert findings_of(report, store_of(report, botocore)) == [("ats-store-without-anchor", "critical")]


def test_a_botocore_with_neither_code_nor_version_makes_every_store_it_may_use_count(tmp_path):
    """Whether it reads AWS_CA_BUNDLE or REQUESTS_CA_BUNDLE cannot be told: the bundle each names, and its own
    bundle, are each checked as a store in use, not as a fallback nobody uses."""
    site = trimmed(tmp_path, TRUST / "botocore-0.23.0" / "site-packages", without_version=True)
    bundle = corporate_bundle(tmp_path)
    report = scan_json(site, "--env-file", env_file(tmp_path, f"AWS_CA_BUNDLE={bundle}\nREQUESTS_CA_BUNDLE=/etc/pki/requests.pem\n"))
    botocore = client(report, "botocore")
    reasons = botocore["details"]["trust_reasons"]
    assert reasons[0].endswith(": botocore uses it instead of its default if it reads AWS_CA_BUNDLE")
    assert (f"botocore at {site}/botocore: whether it reads AWS_CA_BUNDLE cannot be told (botocore first reads it in 1.3.28; "
            f"this copy ships no session.py, and no __version__ can be read from its __init__.py)") in reasons
    assert reasons[-1] == (f"whether it reads AWS_CA_BUNDLE or REQUESTS_CA_BUNDLE cannot be told: /etc/pki/requests.pem if it "
                           f"does not read AWS_CA_BUNDLE; {site}/botocore/vendored/requests/cacert.pem if it reads none of "
                           f"AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE; each is checked as in use")
    stores = {c["location"]: c for c in report["components"] if c["kind"] == "trust-store"}
    who = f"botocore 0.23.0 in {site}"
    assert botocore["details"]["trust_store"] == str(bundle) and who in stores[str(bundle)]["details"]["users"]
    assert f"{who}, if it does not read AWS_CA_BUNDLE" in stores["/etc/pki/requests.pem"]["details"]["users"]
    own = stores[f"{site}/botocore/vendored/requests/cacert.pem"]
    assert own["details"]["users"] == [f"{who}, if it reads none of AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE"]
    assert findings_of(report, stores[str(bundle)]) == [("ats-store-without-anchor", "critical")]
    assert findings_of(report, stores["/etc/pki/requests.pem"]) == [("ats-store-missing", "critical")]  # not on this machine
    assert findings_of(report, own) == [("ats-store-trusted", "info")]


def test_botocore_1_3_27_names_aws_ca_bundle_but_reads_only_the_config_file(tmp_path):
    """1.3.0 to 1.3.27 map the session variable ca_bundle to AWS_CA_BUNDLE, yet only client.py reads ca_bundle,
    from the profile; 1.3.28 is the first whose session.py reads the variable."""
    site = TRUST / "botocore-1.3.27" / "site-packages"
    assert "'AWS_CA_BUNDLE'" in (site / "botocore" / "session.py").read_text()
    config = tmp_path / "aws-config"
    config.write_text("[default]\nca_bundle = /etc/pki/profile.pem\n")
    env = env_file(tmp_path, f"AWS_CA_BUNDLE=/etc/pki/env.pem\nAWS_CONFIG_FILE={config}\n")
    botocore = client(scan_json(site, "--env-file", env), "botocore")
    assert botocore["details"]["trust_store"] == "/etc/pki/profile.pem"
    assert (f"AWS_CA_BUNDLE=/etc/pki/env.pem (from --env-file {env}) is set, but not read: botocore at {site}/botocore "
            f"does not read AWS_CA_BUNDLE: its session.py does not (botocore first reads it in 1.3.28)") in botocore["details"]["trust_reasons"]
    config.write_text("[default]\nregion = eu-west-3\n")
    botocore = client(scan_json(site, "--env-file", env), "botocore")
    assert botocore["details"]["trust_store"] == f"{site}/botocore/vendored/requests/cacert.pem"


def test_the_aws_cli_reads_aws_ca_bundle_itself_before_its_botocore_does(tmp_path):
    """awscli 1.2.11 (the first to read AWS_CA_BUNDLE) with the botocore 0.31.0 it pins, which reads only
    REQUESTS_CA_BUNDLE: the CLI uses the bundle, botocore (and so boto3 or code using it) does not."""
    site = TRUST / "awscli-1.2.11" / "site-packages"
    bundle = corporate_bundle(tmp_path)
    report = scan_json(site, "--env-file", env_file(tmp_path, f"AWS_CA_BUNDLE={bundle}\n"))
    awscli, botocore = client(report, "awscli"), client(report, "botocore")
    assert awscli["details"]["trust_store"] == str(bundle)
    assert (f"awscli 1.2.11 at {site}/awscli reads AWS_CA_BUNDLE itself: awscli first reads it in 1.2.11; decided from "
            f"its version") in awscli["details"]["trust_reasons"]
    assert botocore["details"]["trust_store"] == f"{site}/botocore/vendored/requests/cacert.pem"
    assert users(report, awscli) == [f"awscli 1.2.11 in {site}"]
    assert users(report, botocore) == [f"botocore 0.31.0 in {site}"]

    report = scan_json(site, "--env-file", env_file(tmp_path, f"REQUESTS_CA_BUNDLE={bundle}\n"))
    awscli, botocore = client(report, "awscli"), client(report, "botocore")
    assert awscli["details"]["trust_store"] == botocore["details"]["trust_store"] == str(bundle)
    assert users(report, botocore) == [f"awscli 1.2.11 in {site}", f"botocore 0.31.0 in {site}"]


@pytest.mark.parametrize("tree", [TRUST / "botocore-0.23.0" / "site-packages", TRUST / "botocore-1.3.27" / "site-packages",
                                  TRUST / "awscli-1.2.11" / "site-packages", TRUST / "botocore-1.10.84" / "site-packages",
                                  TRUST / "botocore-1.35.0" / "site-packages", DEBIAN],
                         ids=["0.23.0", "1.3.27", "0.31.0", "1.10.84", "1.35.0", "debian-1.29.27"])
def test_the_versions_in_the_rules_agree_with_the_real_code(tmp_path, tree):
    """For each real botocore, the release table gives the answer its own modules give."""
    full, trim = View(str(tree)), View(str(trimmed(tmp_path, tree)))
    for name in ("AWS_CA_BUNDLE", "ca_bundle", "REQUESTS_CA_BUNDLE"):
        from_code = setting_read(full, f"{full.top}/botocore", "botocore", name)
        from_version = setting_read(trim, f"{trim.top}/botocore", "botocore", name)
        assert "decided from its version" in from_version.why
        assert from_code.answer is not None and from_code.answer == from_version.answer, name
