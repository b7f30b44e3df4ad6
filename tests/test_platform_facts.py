"""Typed facts of the platform (auditor/facts/operating_system.py, java.py, openssl.py): an OS's, a JDK's and an
OpenSSL build's JSON details are produced from the facts its collector made, no later stage edits them (the trust
stage only adds the client's trust keys after them), and a saved report's details read back into the same facts."""

import json
import shutil
import ssl
import sys
from pathlib import Path

import pytest

from auditor import records
from auditor.checks.rules import ReleaseDates, evaluate, load_packs
from auditor.collect.platform import openssl
from auditor.facts.client_trust import CLIENT_TRUST_KEYS
from auditor.facts.java import JavaFacts
from auditor.facts.openssl import OpenSSLFacts, SslModule
from auditor.facts.operating_system import OsFacts
from auditor.model import Component, Report
from test_facts import _scan_components
from test_platform_root import RHEL5_LIBCRYPTO_TEXT, UBUNTU_1204_PYTHON, fake_interpreter, fake_openssl, shared_object
from test_runtime_venvs import base_stdlib, classic_virtualenv

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
ANCHORS = TESTS.parent / "rules" / "anchors"
AS_OF = "2026-12-01"
KINDS = {"os": OsFacts, "java": JavaFacts, "openssl": OpenSSLFacts}


def _platform(components: list[Component]) -> list[Component]:
    return [c for c in components if c.kind in KINDS]


def _assert_made_from_facts(component: Component) -> None:
    """The component's details are its facts' keys, in their order, then the trust keys the store book set."""
    assert isinstance(component.facts, KINDS[component.kind]), component
    expected = component.facts.to_details()
    if component.trust is not None:
        expected.update(component.trust.to_details())
    assert list(component.details.items()) == list(expected.items())


def _observed(finding) -> list[str]:
    return [e.summary for e in finding.evidence if e.type == "observed"]


def _jdk(root: Path, home: str, files: dict[str, bytes | str]) -> None:
    for name, data in files.items():
        path = root / home.lstrip("/") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())


@pytest.fixture
def image(tmp_path) -> Path:
    """Debian 12's release files, its CA bundle, a Temurin JDK with its release file and cacerts, an Oracle JDK 8 known
    by its folder's name only, and RHEL 5's libcrypto beside a libssl 3 (which carries no version text)."""
    root = tmp_path / "image"
    shutil.copytree(FIXTURES / "os-roots" / "debian-12", root)
    bundle = root / "etc" / "ssl" / "certs" / "ca-certificates.crt"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes((ANCHORS / "amazon-root-ca-1.pem").read_bytes())
    _jdk(root, "/opt/java/openjdk", {
        "bin/java": "", "lib/security/cacerts": (FIXTURES / "keystores" / "open.p12").read_bytes(),
        "release": 'IMPLEMENTOR="Eclipse Adoptium"\nIMPLEMENTOR_VERSION="Temurin-17.0.9+9"\n'
                   'JAVA_RUNTIME_VERSION="17.0.9+9"\nJAVA_VERSION="17.0.9"\nJAVA_VERSION_DATE="2023-10-17"\n'})
    _jdk(root, "/usr/java/jdk1.8.0_292", {"bin/java": ""})
    shared_object(root / "usr" / "lib64" / "libcrypto.so.0.9.8e", RHEL5_LIBCRYPTO_TEXT)
    shared_object(root / "usr" / "lib" / "x86_64-linux-gnu" / "libssl.so.3", b"no text of its own")
    return root


def test_an_image_s_os_jdks_and_libraries_are_made_from_their_facts_and_left_alone(monkeypatch, image):
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF,
                                        "--pack", "tls12", "--root", image)
    platform = _platform(components)
    for component in platform:  # every stage ran (trust, checks, waivers)
        _assert_made_from_facts(component)
    [system] = [c for c in platform if c.kind == "os"]
    assert (system.name, system.version) == ("debian", (image / "etc" / "debian_version").read_text().strip())
    assert system.facts.version_from == "/etc/debian_version" and system.facts.version_id == "12"
    assert system.facts.read.endswith(f"; /etc/debian_version: {system.version}")
    javas = {c.location: c for c in platform if c.kind == "java"}
    temurin, named = javas["/opt/java/openjdk"].facts, javas["/usr/java/jdk1.8.0_292"].facts
    assert (temurin.vendor, temurin.version_source, temurin.version_exact) == ("Eclipse Temurin", "release file", True)
    assert temurin.version_read == 'JAVA_VERSION="17.0.9" in /opt/java/openjdk/release'
    assert temurin.found_by == ("/opt/*/*",)
    assert (named.version_source, named.version_exact, named.found_by) == ("directory name", True, ("/usr/java/*",))
    assert javas["/opt/java/openjdk"].trust is not None and javas["/opt/java/openjdk"].trust.store_id
    [library] = [c for c in platform if c.kind == "openssl"]
    assert library.facts == OpenSSLFacts(RHEL5_LIBCRYPTO_TEXT.decode(), library="libcrypto.so.0.9.8e")
    # The check reads the typed version text.
    [finding] = [f for f in Report.from_dict(data).findings if f.component == library.id]
    assert _observed(finding)[0] == f"{RHEL5_LIBCRYPTO_TEXT.decode()} (version text in the shared object)"
    # The JSON is the details, and a saved report's components read back into the same facts and trust.
    shown = {c["id"]: c["details"] for c in data["components"]}
    saved = {c.id: c for c in Report.from_dict(data).components}
    for component in platform:
        assert shown[component.id] == component.details
        assert saved[component.id].facts is None
        assert saved[component.id].facts_as(KINDS[component.kind]) == component.facts
        assert saved[component.id].client_trust() == component.trust


def test_the_running_interpreter_s_openssl_is_made_from_its_ssl_module():
    component = openssl.running_openssl("this machine")
    module = SslModule(sys.executable, sys.version.split()[0], ssl.HAS_SNI, ssl.HAS_TLSv1_2)
    assert component.facts == OpenSSLFacts(ssl.OPENSSL_VERSION, ssl_module=module)
    assert list(component.details) == ["version_text", "python", "python_version", "sni", "tls1_2"]
    _assert_made_from_facts(component)
    assert OpenSSLFacts.from_details(json.loads(json.dumps(component.details))) == component.facts


def test_a_classic_virtualenv_s_openssl_keeps_its_base_standard_library(monkeypatch, tmp_path):
    classic_virtualenv(tmp_path / "venv")
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", tmp_path / "venv", "--runtime")
    [component] = [c for c in components if c.kind == "openssl"]
    _assert_made_from_facts(component)
    assert component.facts.ssl_module.base_stdlib == (str(base_stdlib()), f"{sys.base_prefix}/lib64/{base_stdlib().name}")
    assert list(component.details)[-1] == "base_stdlib"
    [saved] = [c for c in Report.from_dict(data).components if c.kind == "openssl"]
    assert saved.facts_as(OpenSSLFacts) == component.facts


def test_an_interpreter_without_sni_is_judged_from_its_facts_live_and_saved(monkeypatch, tmp_path):
    python = fake_interpreter(tmp_path / "venv", f"echo '{UBUNTU_1204_PYTHON}'\n")
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF,
                                        tmp_path / "venv", "--runtime", "--pack", "tls12")
    [component] = [c for c in components if c.kind == "openssl"]
    _assert_made_from_facts(component)
    assert component.facts == OpenSSLFacts("OpenSSL 1.0.1 14 Mar 2012",
                                           ssl_module=SslModule(str(python), "2.7.3", sni=False, tls1_2=True))
    [finding] = Report.from_dict(data).findings
    assert (finding.rule, _observed(finding)[0]) == (
        "tls12-python-without-sni", f"Python 2.7.3 at {python} with OpenSSL 1.0.1 14 Mar 2012: sni is not available")
    # A saved report's component, without typed facts, is judged the same.
    saved = [c for c in Report.from_dict(data).components if c.kind == "openssl"]
    pack = load_packs()["tls12"]
    assert list(evaluate([pack], saved, ReleaseDates({}))) == list(evaluate([pack], [component], ReleaseDates({})))


def test_the_openssl_command_s_version_is_its_only_fact(tmp_path):
    binary = fake_openssl(tmp_path, f'echo "{RHEL5_LIBCRYPTO_TEXT.decode()}"\n')
    [component] = openssl.command_openssl(binary, "this machine").components
    assert component.facts == OpenSSLFacts(RHEL5_LIBCRYPTO_TEXT.decode())
    assert component.details == {"version_text": RHEL5_LIBCRYPTO_TEXT.decode()}


def test_facts_are_frozen_and_an_empty_value_is_no_value():
    facts = OsFacts(name="Ubuntu", pretty_name="", codename="jammy", read="ID=ubuntu, VERSION_ID=22.04")
    assert facts.pretty_name is None
    with pytest.raises(records.FrozenInstanceError):
        facts.name = "Debian"  # type: ignore[misc]
    assert list(facts.to_details()) == ["name", "codename", "read"]
    assert OsFacts.from_details(facts.to_details()) == facts
    # A JDK whose version could not be read: no version_exact, but how it was found.
    assert JavaFacts(found_by=("JAVA_HOME=/opt/jdk",)).to_details() == {"found_by": ["JAVA_HOME=/opt/jdk"]}


def _platform_details(path: Path) -> list[tuple[str, dict]]:
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    return [(c["kind"], c["details"]) for c in report.get("components", []) if c["kind"] in KINDS]


WITH_PLATFORM = sorted(p for p in (TESTS / "golden").glob("*.json") if _platform_details(p))


@pytest.mark.parametrize("path", WITH_PLATFORM, ids=lambda p: p.stem)
def test_every_recorded_os_and_jdk_round_trips_key_for_key(path):
    """from_details then to_details gives the same JSON, in the same key order, for every OS and JDK of every golden
    report, and the client's trust keys come after them: the typed facts hold everything else a report says."""
    for kind, details in _platform_details(path):
        facts = {k: v for k, v in details.items() if k not in CLIENT_TRUST_KEYS}
        assert list(details)[:len(facts)] == list(facts)
        assert json.dumps(KINDS[kind].from_details(facts).to_details()) == json.dumps(facts)


def test_the_golden_reports_hold_every_kind_of_os_and_a_jdk():
    sources = {(kind, details.get("version_from") is not None, "build" in details)
               for path in WITH_PLATFORM for kind, details in _platform_details(path)}
    assert {("os", True, False), ("os", False, True), ("java", False, False)} <= sources
