"""--root (an OS image, every read confined to it), OpenSSL facts (library text, --runtime), the tls12 pack."""

import os
import shutil
import subprocess
import sys
import time


from auditor.collect.platform import openssl
from conftest import ENVS, run, scan_json
from test_truststore import AMAZON_ROOT_CA_1

# The version text real builds carry: RHEL 5's libcrypto, and Python 2.7.3 on Ubuntu 12.04 (no SNI before 2.7.9).
RHEL5_LIBCRYPTO_TEXT = b"OpenSSL 0.9.8e-fips-rhel5 01 Jul 2008"
# What the probe script prints under Ubuntu 12.04's Python 2.7.3 (auditor.collect.platform.openssl._PROBE).
UBUNTU_1204_PYTHON = "python=2.7.3\nssl=ok\nopenssl=OpenSSL 1.0.1 14 Mar 2012\nsni=0\ntls1_2=1"


def shared_object(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF\x02\x01\x01" + os.urandom(4096) + b"\x00" + text + b"\x00" + os.urandom(4096))


def image(tmp_path):
    """An image root with an old Python install, an OS bundle and an old libcrypto."""
    root = tmp_path / "image"
    site = ENVS / "py3-old-botocore" / "lib" / "python3.11" / "site-packages"
    target = root / "usr" / "lib" / "python3.11" / "site-packages"
    target.parent.mkdir(parents=True)
    os.symlink(site, target)  # an absolute link out of the image: confined, it means <root><that path>, which is empty
    (root / "etc" / "ssl" / "certs").mkdir(parents=True)
    (root / "etc" / "ssl" / "certs" / "ca-certificates.crt").write_bytes(AMAZON_ROOT_CA_1)
    shared_object(root / "usr" / "lib64" / "libcrypto.so.0.9.8e", RHEL5_LIBCRYPTO_TEXT)
    return root


def test_root_scans_the_image_and_only_the_image(tmp_path, monkeypatch):
    root = image(tmp_path)
    monkeypatch.setenv("AWS_CA_BUNDLE", "/scanner/own/bundle.pem")
    report = scan_json("--root", root, "--pack", "dynamodb-ats", "--pack", "tls12")
    assert [t["kind"] for t in report["targets"] if t["kind"] == "image"] == ["image"]
    assert not [c for c in report["components"] if c["kind"] == "python-package"]
    stores = {c["location"]: c for c in report["components"] if c["kind"] == "trust-store"}
    assert stores["/etc/ssl/certs/ca-certificates.crt"]["details"]["anchors"] == ["Amazon Root CA 1"]
    (library,) = [c for c in report["components"] if c["kind"] == "openssl"]
    assert (library["location"], library["version"]) == ("/usr/lib64/libcrypto.so.0.9.8e", "0.9.8e")
    assert [f["rule"] for f in report["findings"] if f["component"] == library["id"]] == ["tls12-openssl-before-1.0.1"]
    assert not [c for c in report["components"] if c["kind"] == "trust-config"], "the scanner's own AWS_CA_BUNDLE leaked in"


def test_root_python_install_inside_the_image_is_found(tmp_path):
    root = tmp_path / "image"
    shutil.copytree(ENVS / "debian-dist-packages" / "usr" / "lib" / "python3", root / "usr" / "lib" / "python3")
    report = scan_json("--root", root)
    boto = [c for c in report["components"] if c["kind"] == "python-package"]
    assert [(c["name"], c["version"], c["location"]) for c in boto] == [
        ("boto", "2.49.0", "/usr/lib/python3/dist-packages/boto-2.49.0.egg-info/PKG-INFO")]
    assert boto[0]["details"]["trust_store"] == "/usr/lib/python3/dist-packages/boto/cacerts/cacerts.txt"


def test_hostile_links_fifo_and_canary_stay_outside(tmp_path):
    canary = tmp_path / "canary.pem"
    canary.write_bytes(AMAZON_ROOT_CA_1.replace(b"-----END", b"CANARY-7f3a\n-----END"))
    root = tmp_path / "image"
    certs = root / "etc" / "ssl" / "certs"
    certs.mkdir(parents=True)
    os.symlink(str(canary), certs / "ca-certificates.crt")  # absolute: means <root>/<that path>
    os.symlink("../../../../canary.pem", root / "etc" / "ssl" / "cert.pem")  # '..' stops at the image's /
    pki = root / "etc" / "pki" / "tls" / "certs"
    pki.mkdir(parents=True)
    os.mkfifo(pki / "ca-bundle.crt")
    (root / "etc" / "ssl" / "loop.pem").symlink_to("loop.pem")
    started = time.monotonic()
    result = run("scan", "--root", root, "--format", "json", "-q")
    assert time.monotonic() - started < 30
    assert "CANARY-7f3a" not in result.out
    stores = {c["location"]: c["details"] for c in result.json["components"] if c["kind"] == "trust-store"}
    assert all(not d.get("anchors") for d in stores.values())
    assert any("FIFO" in e["message"] for e in result.json["errors"])


def test_runtime_reads_a_target_interpreter_isolated(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    marker = tmp_path / "sitecustomize-ran"
    (site / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (site / "evil.pth").write_text(f"import os; open({str(marker)!r}, 'w').write('pth')\n")
    report = scan_json(venv, "--runtime")
    (fact,) = [c for c in report["components"] if c["kind"] == "openssl" and "--runtime" in c["source"]]
    assert fact["details"]["version_text"] == openssl.ssl.OPENSSL_VERSION
    assert fact["details"]["tls1_2"] is True and fact["details"]["sni"] is True
    assert not marker.exists(), "the target's sitecustomize or .pth ran"
    assert not [c for c in scan_json(venv)["components"] if c["kind"] == "openssl"], "without --runtime nothing runs"


def fake_interpreter(venv, body):
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 2.7.3\n")
    (venv / "lib" / "python2.7" / "site-packages").mkdir(parents=True)
    python.write_text("#!/bin/sh\n" + body)
    python.chmod(0o755)
    return python


def test_runtime_old_python_without_sni_is_flagged(tmp_path):
    args = tmp_path / "args"
    fake_interpreter(tmp_path / "venv", f'echo "$@" > {args}\necho \'{UBUNTU_1204_PYTHON}\'\n')
    report = scan_json(tmp_path / "venv", "--runtime", "--pack", "tls12")
    (fact,) = [c for c in report["components"] if c["kind"] == "openssl"]
    assert (fact["version"], fact["details"]["python_version"]) == ("1.0.1", "2.7.3")
    assert [f["rule"] for f in report["findings"]] == ["tls12-python-without-sni"]
    assert args.read_text().startswith("-E -s -S -c ")


def test_runtime_interpreter_that_hangs_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(openssl, "RUNTIME_TIMEOUT", 1.0)
    fake_interpreter(tmp_path / "venv", "sleep 60 &\nsleep 60\n")
    started = time.monotonic()
    report = scan_json(tmp_path / "venv", "--runtime")
    assert time.monotonic() - started < 10
    assert any("did not answer within 1 s; killed" in e["message"] for e in report["errors"])


def test_openssl_version_order():
    key = openssl.version_key
    assert key("0.9.8zh") < key("1.0.0") < key("1.0.1") < key("1.0.1e") < key("1.0.2") < key("1.1.1w") < key("3.0.15")
    assert key("0.9.8z") < key("0.9.8za") and key("not a version") is None


def test_root_that_is_missing_or_empty_is_a_usage_error(tmp_path):
    assert run("scan", "--root", tmp_path / "missing").code == 2
    result = run("scan", "--root", "")
    assert result.code == 2 and "--root needs a directory" in result.err


def fake_openssl(tmp_path, body):
    binary = tmp_path / "bin" / "openssl"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text("#!/bin/sh\n" + body)
    binary.chmod(0o755)
    return str(binary)


def test_runtime_openssl_command_is_read_and_judged(tmp_path, monkeypatch):
    from auditor.checks.rules import ReleaseDates, evaluate, load_packs

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "must-not-reach-the-child")
    seen = tmp_path / "seen"
    binary = fake_openssl(tmp_path, f'echo "$@" > {seen}; env >> {seen}; pwd >> {seen}\n'
                                    f'echo "{RHEL5_LIBCRYPTO_TEXT.decode()}"\n')
    found = openssl.command_openssl(binary, "this machine")
    assert not found.errors
    (fact,) = found.components
    assert (fact.version, fact.source, fact.details["version_text"]) == (
        "0.9.8e", "`openssl version`, run with --runtime", RHEL5_LIBCRYPTO_TEXT.decode())
    args, *rest = seen.read_text().splitlines()
    assert args == "version" and not any("must-not-reach" in line for line in rest)
    assert rest[-1] != os.getcwd()  # an empty working directory of its own
    (finding,) = evaluate([load_packs()["tls12"]], [fact], ReleaseDates({}))
    assert (finding.rule, finding.severity) == ("tls12-openssl-before-1.0.1", "high")


def test_runtime_openssl_command_that_hangs_or_fails_is_an_error_entry(tmp_path):
    hung = fake_openssl(tmp_path / "hung", "sleep 60 &\nsleep 60\n")
    started = time.monotonic()
    (error,) = openssl.command_openssl(hung, "this machine", timeout=0.5).errors
    assert time.monotonic() - started < 5
    assert (error.location, error.message) == (hung, "openssl version did not answer within 0.5 s; killed")
    broken = fake_openssl(tmp_path / "broken", "echo 'libssl.so.3: cannot open shared object file' >&2; exit 127\n")
    (error,) = openssl.command_openssl(broken, "this machine").errors
    assert error.message == "openssl version gave no version (exit 127): libssl.so.3: cannot open shared object file"


def test_an_absolute_bundle_link_resolves_inside_the_image(tmp_path):
    """RHEL 8's layout: /etc/pki/tls/certs/ca-bundle.crt -> /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem,
    an absolute link that means the image's file, never the scanning machine's."""
    root = tmp_path / "rhel8"
    extracted = root / "etc" / "pki" / "ca-trust" / "extracted" / "pem"
    extracted.mkdir(parents=True)
    (extracted / "tls-ca-bundle.pem").write_bytes(AMAZON_ROOT_CA_1)
    certs = root / "etc" / "pki" / "tls" / "certs"
    certs.mkdir(parents=True)
    os.symlink("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", certs / "ca-bundle.crt")
    report = scan_json("--root", root)
    stores = {c["location"]: c["details"] for c in report["components"] if c["kind"] == "trust-store"}
    assert stores["/etc/pki/tls/certs/ca-bundle.crt"]["anchors"] == ["Amazon Root CA 1"]
    assert stores["/etc/pki/tls/certs/ca-bundle.crt"]["certificates"] == 1
