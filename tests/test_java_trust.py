"""Java: the trust store each JDK found would use, from its layout and the JVM options in the
environment; keystores made by keytool."""

import shutil
import subprocess

import pytest

from conftest import run
from test_truststore import ANCHORS

pytestmark = pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")


def keystore(path, store_type, password, *pem_files):
    path.parent.mkdir(parents=True, exist_ok=True)
    for index, pem_file in enumerate(pem_files):
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", f"root{index}", "-file", str(pem_file),
                        "-keystore", str(path), "-storetype", store_type, "-storepass", password],
                       check=True, capture_output=True)
    return path


def java_home(root, version, layout="lib"):
    """A JDK home as the installers lay it out: `release`, and cacerts under lib/security (9+) or jre/lib/security (8)."""
    (root / "bin").mkdir(parents=True)
    (root / "release").write_text(f'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="{version}"\n')
    keystore(root / layout / "security" / "cacerts", "JKS", "changeit", ANCHORS / "starfield-class-2-ca.pem")
    return root


def java_components(report, home):
    (java,) = [c for c in report["components"] if c["kind"] == "java" and c["location"] == str(home)]
    (store,) = [c for c in report["components"] if c["id"] == java["details"]["trust_store_id"]]
    return java, store


def scan(monkeypatch, **variables):
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    result = run("scan", "--format", "json", "-q")
    assert result.code in (0, 1), result.err
    return result


def test_java_8_uses_jre_lib_security_cacerts(monkeypatch, tmp_path):
    home = java_home(tmp_path / "jdk8", "1.8.0_292", layout="jre/lib")
    java, store = java_components(scan(monkeypatch, JAVA_HOME=home).json, home)
    assert java["version"] == "1.8.0_292"
    assert store["location"] == f"{home}/jre/lib/security/cacerts"
    assert (store["details"]["format"], store["details"]["anchors"]) == ("jks", ["Starfield Class 2 Certification Authority"])


def test_jssecacerts_comes_before_cacerts(monkeypatch, tmp_path):
    home = java_home(tmp_path / "jdk17", "17.0.9")
    keystore(home / "lib" / "security" / "jssecacerts", "JKS", "changeit", ANCHORS / "amazon-root-ca-1.pem")
    java, store = java_components(scan(monkeypatch, JAVA_HOME=home).json, home)
    assert store["location"] == f"{home}/lib/security/jssecacerts"
    assert store["details"]["anchors"] == ["Amazon Root CA 1"]


def test_trust_store_options_last_one_wins_and_the_password_never_shows(monkeypatch, tmp_path):
    home = java_home(tmp_path / "jdk21", "21.0.1")
    first = keystore(tmp_path / "tool.jks", "JKS", "changeit", ANCHORS / "amazon-root-ca-1.pem")
    chosen = keystore(tmp_path / "service.p12", "PKCS12", "s3cret-Pa55", ANCHORS / "starfield-services-root-ca-g2.pem")
    result = scan(monkeypatch, JAVA_HOME=home, JAVA_TOOL_OPTIONS=f"-Djavax.net.ssl.trustStore={first}",
                  _JAVA_OPTIONS=f"-Djavax.net.ssl.trustStore={chosen} -Djavax.net.ssl.trustStoreType=PKCS12 "
                                f"-Djavax.net.ssl.trustStorePassword=s3cret-Pa55")
    java, store = java_components(result.json, home)
    assert store["location"] == str(chosen)
    assert (store["details"]["format"], store["details"]["anchors"]) == ("pkcs12", ["Starfield Services Root Certificate Authority - G2"])
    assert java["details"]["trust_reasons"][0].startswith(f"-Djavax.net.ssl.trustStore={chosen} in _JAVA_OPTIONS")
    assert any("trustStorePassword=***" in r or "PKCS12" in r for r in java["details"]["trust_reasons"])
    assert "s3cret-Pa55" not in result.out
    assert "s3cret-Pa55" not in run("scan", "-q").out


def test_this_machines_jdks_are_found_with_their_cacerts(monkeypatch):
    real = [home for home in ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/default-java") if shutil.os.path.isdir(home)]
    if not real:
        pytest.skip("no Debian JDK under /usr/lib/jvm")
    report = scan(monkeypatch).json
    javas = [c for c in report["components"] if c["kind"] == "java"]
    assert javas and all("trust_store_id" in c["details"] for c in javas)
    stores = {c["id"]: c for c in report["components"] if c["kind"] == "trust-store"}
    assert all(stores[c["details"]["trust_store_id"]]["details"]["anchors"] for c in javas)


def test_jdk_java_options_outrank_java_tool_options(monkeypatch, tmp_path):
    home = java_home(tmp_path / "jdk17", "17.0.9")
    tool = keystore(tmp_path / "tool.jks", "JKS", "changeit", ANCHORS / "amazon-root-ca-1.pem")
    launcher = keystore(tmp_path / "launcher.jks", "JKS", "changeit", ANCHORS / "starfield-class-2-ca.pem")
    result = scan(monkeypatch, JAVA_HOME=home, JAVA_TOOL_OPTIONS=f"-Djavax.net.ssl.trustStore={tool}",
                  JDK_JAVA_OPTIONS=f"-Xmx1g -Djavax.net.ssl.trustStore={launcher}")
    java, store = java_components(result.json, home)
    assert store["location"] == str(launcher)
    assert any(f.startswith(f"{home}/lib/security/cacerts without the option") for f in java["details"]["trust_fallbacks"])
    # this machine's own applications may hold settings in code: the one set in the environment is judged here
    (setting,) = [c for c in result.json["components"] if c["kind"] == "trust-config" and c["details"]["found_in"] == "environment"]
    assert (setting["name"], setting["details"]["effect"]) == ("javax.net.ssl.trustStore", "custom-bundle")
