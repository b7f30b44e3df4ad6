"""Typed facts of trust settings (trust-config) and of other languages' SDKs (sdk-manifest): each component is made
once from its complete facts, the trust stage adds its links through explicit fields (a client's `ClientTrust`, an
SDK's `store_not_found`), and a saved report's details read back into the same facts."""

import json
import shutil
from pathlib import Path

import pytest

from auditor import records
from auditor.facts.client_trust import CLIENT_TRUST_KEYS, ClientTrust
from auditor.facts.manifest import ManifestFacts
from auditor.facts.setting import SettingFacts
from auditor.model import Component, Report
from auditor.trust.resolve import SET_FOR_SHOWN
from test_facts import AS_OF, FIXTURES, _scan_components
from test_sdk_manifests import MANIFESTS, app_image
from test_service_env import ORDERS_UNIT, PASSWD, anchor, image, write
from test_truststore import AMAZON_ROOT_CA_1

TESTS = Path(__file__).parent
OS_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# A unit without User= runs as root, whose home is the image's own (the scan's context): it shares root's AWS config.
ROOT_HOME = next(line.split(":")[5] for line in PASSWD.splitlines() if line.startswith("root:"))  # the image's passwd
ROOT_UNIT = "[Service]\nType=oneshot\nExecStart=/usr/local/bin/nightly-export\n"
DEPLOY_UNIT = "[Service]\nUser=deploy\nExecStart=/opt/orders/venv/bin/python -m orders.{name}\n"


def _split(details: dict) -> tuple[dict, dict]:
    """A component's own keys and its client trust's keys."""
    return ({k: v for k, v in details.items() if k not in CLIENT_TRUST_KEYS},
            {k: v for k, v in details.items() if k in CLIENT_TRUST_KEYS})


def _of(components: list[Component], kind: str) -> list[Component]:
    return [c for c in components if c.kind == kind]


def _services_image(tmp_path: Path) -> Path:
    """A Debian image whose settings reach several contexts: deploy's ~/.aws/config and ~/.boto (every unit that runs
    as deploy, and deploy's own processes), root's ~/.aws/config naming the OS bundle (the image's own context and
    a unit that runs as root), a unit's Environment= and /etc/environment."""
    root = image(tmp_path)
    write(root / OS_BUNDLE.lstrip("/"), anchor())
    write(root / "etc" / "systemd" / "system" / "orders.service", ORDERS_UNIT)
    write(root / "etc" / "orders" / "ca.pem", anchor("starfield-class-2-ca.pem"))
    for number in range(SET_FOR_SHOWN):
        write(root / "etc" / "systemd" / "system" / f"worker{number:02}.service", DEPLOY_UNIT.format(name=number))
    write(root / "etc" / "systemd" / "system" / "nightly-export.service", ROOT_UNIT)
    write(root / "home" / "deploy" / ".aws" / "config", "[default]\nregion = eu-west-3\nca_bundle = ~/certs/aws.pem\n")
    write(root / "home" / "deploy" / "certs" / "aws.pem", anchor("starfield-class-2-ca.pem"))
    write(root / "home" / "deploy" / ".boto", "[Boto]\nhttps_validate_certificates = False\n")
    write(root / ROOT_HOME.lstrip("/") / ".aws" / "config", f"[default]\nca_bundle = {OS_BUNDLE}\n")
    write(root / "etc" / "environment", f"AWS_CA_BUNDLE={OS_BUNDLE}\n")
    return root


def _assert_made_from_facts(components: list[Component]) -> None:
    """After every stage ran, each setting's and SDK's details are its facts' and its trust's, in today's order."""
    for component in _of(components, "trust-config"):
        assert isinstance(component.facts, SettingFacts), component
        assert component.details == component.facts.details_with(component.trust)
        assert list(component.details) == list(component.facts.details_with(component.trust))
        own, trust = _split(component.details)
        assert own == component.facts.to_details()
        assert trust == (component.trust.to_details() if component.trust else {})
    for component in _of(components, "sdk-manifest"):
        assert isinstance(component.facts, ManifestFacts), component
        own, trust = _split(component.details)
        assert list(own) == list(component.facts.to_details()) and own == component.facts.to_details()
        assert list(component.details) == list(own) + list(trust)  # the store's keys follow the SDK's own
        assert trust == (component.trust.to_details() if component.trust else {})


def _assert_saved_reads_back(components: list[Component], data: dict) -> None:
    saved = {c.id: c for c in Report.from_dict(data).components}
    for component in _of(components, "trust-config"):
        back = saved[component.id]
        assert back.facts is None and back.details == component.details
        assert back.facts_as(SettingFacts) == component.facts
    for component in _of(components, "sdk-manifest"):
        back = saved[component.id].facts_as(ManifestFacts)
        assert back.to_details() == component.facts.to_details()
        # The trust stage's note is read as part of the note: the rest is the same fact.
        assert back == records.replace(component.facts, trust_note=component.facts.note, store_not_found=None)


def test_settings_shared_by_several_contexts_are_made_once_complete(monkeypatch, tmp_path):
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF,
                                        "--root", _services_image(tmp_path))
    _assert_made_from_facts(components)
    _assert_saved_reads_back(components, data)
    settings = {(c.location, c.name): c for c in _of(components, "trust-config")}

    deploy = settings[("/home/deploy/.aws/config", "ca_bundle [default]")].facts
    labels = ["systemd unit orders.service", *(f"systemd unit worker{n:02}.service" for n in range(SET_FOR_SHOWN)),
              "processes whose home is /home/deploy"]
    # Set for fourteen contexts: a dozen are named, the rest counted; the contexts come before its value.
    assert deploy.set_for == (*labels[:SET_FOR_SHOWN - 1], labels[SET_FOR_SHOWN - 1], f"and {len(labels) - SET_FOR_SHOWN} more")
    assert not deploy.set_for_last and deploy.points_to_os_store is False and deploy.value == "~/certs/aws.pem"
    details = settings[("/home/deploy/.aws/config", "ca_bundle [default]")].details
    assert list(details).index("set_for") < list(details).index("value") < list(details).index("trust_store")

    boto = settings[("/home/deploy/.boto", "https_validate_certificates")]
    assert boto.facts.effect == "disabled" and boto.facts.value is None and boto.facts.points_to_os_store is None
    assert boto.trust is None and "set_for" in boto.details

    # Found first in the image's own context (root's home): the unit that shares it is listed last, as always.
    own = settings[(f"{ROOT_HOME}/.aws/config", "ca_bundle [default]")]
    assert own.facts.set_for == ("systemd unit nightly-export.service",) and own.facts.set_for_last
    assert own.facts.points_to_os_store is True and own.trust.store == OS_BUNDLE
    assert list(own.details)[-2:] == ["points_to_os_store", "set_for"]

    unit = settings[("/etc/systemd/system/orders.service", "AWS_CA_BUNDLE")]
    assert unit.facts.set_for == ("systemd unit orders.service",) and unit.trust.store == "/etc/orders/ca.pem"


def test_code_and_script_settings_have_their_call_and_service(monkeypatch):
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF,
                                        FIXTURES / "trust-config" / "shop-api")
    _assert_made_from_facts(components)
    _assert_saved_reads_back(components, data)
    settings = [c.facts for c in _of(components, "trust-config")]
    assert {f.found_in for f in settings} == {"python", "script"}
    assert any(f.call and f.service for f in settings)
    assert all(f.read_by is None and not f.set_for and c.trust is None
               for f, c in zip(settings, _of(components, "trust-config")))


def test_sdk_groups_are_decided_before_the_components_are_made(monkeypatch, tmp_path):
    # An image: the Go SDKs take the OS store; a Maven project's SDKs want a JVM the image does not have.
    root = app_image(tmp_path, AMAZON_ROOT_CA_1)
    shutil.copy(MANIFESTS / "java" / "maven" / "pom.xml", root / "app" / "pom.xml")
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF, "--root", root)
    _assert_made_from_facts(components)
    _assert_saved_reads_back(components, data)
    sdks = _of(components, "sdk-manifest")
    by_id = {c.id: c for c in sdks}
    go = [c for c in sdks if c.location.endswith("go.mod")]
    firsts = [c for c in go if c.facts.reported_with is None]
    assert len(go) > len(firsts) >= 1  # several packages in one file, one finding a group
    for member in go:
        if member.facts.reported_with is not None:
            first = by_id[member.facts.reported_with]
            assert first.facts.sdk == member.facts.sdk and first.facts.reported_with is None
            assert f"{member.name} {member.version or member.facts.constraint}" in first.facts.same_file_packages
    for first in firsts:  # the OS store decides, linked by the store book
        assert first.trust is not None and first.trust.store == OS_BUNDLE and first.trust.store_anchors
        assert first.facts.store_not_found is None
    java = [c for c in sdks if c.facts.trust_from == "jvm" and c.facts.reported_with is None]
    assert java and all(c.trust is None for c in java)
    for sdk in java:
        assert sdk.facts.store_not_found == "no JDK or JRE was found on this system"
        assert sdk.details["trust_note"] == f"{sdk.facts.trust_note}; no JDK or JRE was found on this system"


def _golden_with(kind: str) -> list[Path]:
    return sorted(p for p in (TESTS / "golden").glob("*.json") if f'"kind": "{kind}"' in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", _golden_with("trust-config"), ids=lambda p: p.stem)
def test_every_recorded_setting_round_trips_key_for_key(path):
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    settings = [c["details"] for c in report["components"] if c["kind"] == "trust-config"]
    assert settings
    for details in settings:
        trust = ClientTrust.from_details(details) if _split(details)[1] else None
        assert json.dumps(SettingFacts.from_details(details).details_with(trust)) == json.dumps(details)


@pytest.mark.parametrize("path", _golden_with("sdk-manifest"), ids=lambda p: p.stem)
def test_every_recorded_sdk_round_trips_key_for_key(path):
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    sdks = [c["details"] for c in report["components"] if c["kind"] == "sdk-manifest"]
    assert sdks
    for details in sdks:
        own, trust = _split(details)
        assert json.dumps({**ManifestFacts.from_details(details).to_details(), **trust}) == json.dumps(details)


def test_setting_facts_are_frozen_and_give_today_s_key_order():
    facts = SettingFacts("AWS_CA_BUNDLE", "custom-bundle", "config file", "/home/app/.aws/config:2: ca_bundle = x", "x",
                         read_by="botocore", set_for=("systemd unit a.service",), points_to_os_store=False,
                         set_for_last=True)
    with pytest.raises(records.FrozenInstanceError):
        facts.value = "y"  # type: ignore[misc]
    trust = ClientTrust(("named by ca_bundle",), True, "/x", "trust-store:x@?:0")
    assert list(facts.details_with(trust)) == ["setting", "effect", "read_by", "statement", "found_in", "value",
                                               "trust_reasons", "certificate_validation", "trust_store",
                                               "trust_store_id", "points_to_os_store", "set_for"]
    assert SettingFacts.from_details(facts.details_with(trust)) == facts
    code = SettingFacts("verify", "disabled", "python", "boto3.client('s3', verify=False)", "False",
                        call="boto3.client", service="s3")
    assert list(code.to_details()) == ["setting", "effect", "found_in", "statement", "call", "service", "value"]
    assert SettingFacts.from_details(code.to_details()) == code
