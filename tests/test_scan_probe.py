"""`auditor scan --probe`: the stores a scan finds in use, probed on loopback against the test PKI
(tls_servers.py), each once per endpoint with its users named, and the OS stores for comparison.

The clients' environment comes from --env-file; this process's CA variables are cleared by conftest, and the
machine's OS stores are replaced by a stand-in wherever a verdict depends on them."""

import json
import socket

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from auditor.facts.probe import ProbeFacts, ProbeLinks
from auditor.trust import system_stores as system_trust
import tls_servers
from conftest import ENVS, findings_for, run
from tls_servers import HOST, Peers

TIMEOUT = 0.5
STREAMS = "streams.dynamodb.eu-west-3.amazonaws.com"
VENV = ENVS / "py3-venv"  # botocore 1.44.8 with certifi, boto 2.49.0 with its own cacerts.txt: real roots only


# The shared fixtures of tls_servers.py, under the names pytest finds them by.
no_proxy_settings, pki, other_pki = tls_servers.no_proxy_settings, tls_servers.pki, tls_servers.other_pki


@pytest.fixture(scope="module")
def server(pki):
    """A TLS server valid for both default endpoints, chained to the test roots."""
    with Peers() as peers:
        yield f"127.0.0.1:{peers.add_tls(pki.server_context(pki.leaf(names=(HOST, STREAMS))))}"


@pytest.fixture
def os_store(monkeypatch):
    """Replace this machine's OS stores by the file given (a stand-in: the tests decide what it holds)."""
    def use(path):
        monkeypatch.setattr(system_trust, "OS_STORES", ((str(path), "OS bundle (test stand-in)"),))
    return use


def scan_probe(server, *args):
    result = run("scan", "-q", "--format", "json", "--probe", "--connect-to", server, "--timeout", TIMEOUT, *args)
    assert result.code in (0, 1), result.err
    return result.json


def probes(report):
    return {(c["location"], c["name"]): c for c in report["components"] if c["kind"] == "probe"}


def store_of(report, suffix):
    (store,) = [c for c in report["components"] if c["kind"] == "trust-store" and c["location"].endswith(suffix)]
    return store


def test_the_client_that_fails_and_the_os_store_that_passes(pki, server, os_store, tmp_path):
    os_store(pki.store("amazon"))
    report = scan_probe(server, VENV, "--probe-endpoint", HOST)
    found = probes(report)
    certifi = store_of(report, "certifi/cacert.pem")
    failing = found[(certifi["location"], f"{HOST}:443")]
    botocore = next(c for c in report["components"] if c["name"] == "botocore" and c["kind"] == "python-package")
    assert (failing["details"]["outcome"], failing["details"]["failure"]) == ("fail", "untrusted-root")
    assert failing["details"]["trust_store_id"] == certifi["id"] and botocore["id"] in failing["details"]["used_by"]
    assert any(user.startswith("botocore 1.44.8 in ") for user in failing["details"]["users"])
    (finding,) = findings_for(report, failing)
    assert finding["severity"] == "critical" and "would fail to verify" in finding["title"]
    assert "botocore 1.44.8" in finding["title"] and finding["title"].endswith("untrusted root")

    passing = found[(str(pki.store("amazon")), f"{HOST}:443")]
    assert passing["details"]["outcome"] == "pass" and "trust_store_id" not in passing["details"]
    assert passing["details"]["users"] == ["OS bundle (test stand-in) of this machine, for comparison"]
    (finding,) = findings_for(report, passing)
    assert finding["severity"] == "info" and " verifies " in finding["title"]

    # boto 2's own bundle too: every store a client uses, once per endpoint.
    assert sorted(found) == sorted([(certifi["location"], f"{HOST}:443"), (str(pki.store("amazon")), f"{HOST}:443"),
                                    (store_of(report, "boto/cacerts/cacerts.txt")["location"], f"{HOST}:443")])
    # A probe's details read back into its typed facts, key for key, links and all.
    for probe in found.values():
        assert json.dumps(ProbeFacts.from_details(probe["details"]).to_details()) == json.dumps(probe["details"])
    assert ProbeFacts.from_details(failing["details"]).links == ProbeLinks(certifi["id"], tuple(
        failing["details"]["used_by"]))


def test_a_bundle_the_service_environment_names_passes_and_the_table_says_who(pki, other_pki_store, server, os_store,
                                                                              tmp_path):
    os_store(other_pki_store)  # an OS store without the test roots: it fails too
    env = tmp_path / "service.env"
    env.write_text(f"SSL_CERT_FILE={pki.store('starfield-g2')}\n")
    args = ["--probe", "--connect-to", server, "--timeout", TIMEOUT, "--probe-endpoint", HOST, "--env-file", env]
    report = run("scan", "-q", "--format", "json", VENV, *args).json
    outcomes = {c["location"]: (c["details"]["outcome"], c["details"]["users"]) for c in probes(report).values()}
    assert outcomes[str(pki.store("starfield-g2"))] == ("pass", ["the SSL_CERT_FILE setting"])
    assert outcomes[str(other_pki_store)][0] == "fail"

    table = run("scan", "-q", "--width", "250", VENV, *args)  # the cells whole, to read them
    assert table.code == 1
    section = table.out[table.out.index("Live probes"):]
    assert section.startswith("Live probes: each store alone against each endpoint (1 pass, 3 fail)")
    assert "used by" in section and "the SSL_CERT_FILE setting" in section and "botocore 1.44.8 in" in section
    assert section.count("FAIL untrusted-root") == 3
    assert " via" in section and server in section  # the endpoint cell may wrap between the two


@pytest.fixture(scope="module")
def other_pki_store(other_pki):
    return other_pki.store("amazon")


def test_each_store_is_probed_once_per_default_endpoint(pki, server, os_store):
    os_store(pki.store("amazon"))
    found = probes(scan_probe(server, VENV))
    by_store: dict[str, list[str]] = {}
    for location, endpoint in found:
        by_store.setdefault(location, []).append(endpoint)
    assert len(by_store) == 3
    assert all(sorted(endpoints) == [f"{HOST}:443", f"{STREAMS}:443"] for endpoints in by_store.values())
    assert found[(str(pki.store("amazon")), f"{STREAMS}:443")]["details"]["outcome"] == "pass"


def test_a_java_keystore_is_opened_with_the_password_the_options_give(pki, server, os_store, tmp_path):
    os_store(pki.store("amazon"))
    keystore = tmp_path / "trust.p12"
    keystore.write_bytes(pkcs12.serialize_java_truststore([pkcs12.PKCS12Certificate(pki.roots["starfield-class-2"], b"c2")],
                                                          BestAvailableEncryption(b"ks-s3cret")))
    env = tmp_path / "jvm.env"
    env.write_text(f"JAVA_TOOL_OPTIONS=-Djavax.net.ssl.trustStore={keystore} -Djavax.net.ssl.trustStorePassword=ks-s3cret\n")
    target = tmp_path / "empty"
    target.mkdir()
    result = run("scan", "-q", "--format", "json", target, "--env-file", env, "--probe", "--connect-to", server,
                 "--timeout", TIMEOUT, "--probe-endpoint", HOST)
    assert "ks-s3cret" not in result.out + result.err
    details = probes(result.json)[(str(keystore), f"{HOST}:443")]["details"]
    assert (details["outcome"], details["store_format"]) == ("pass", "pkcs12")
    assert details["users"] == ["the javax.net.ssl.trustStore setting"]


def test_probe_options_need_probe_and_are_checked(server):
    result = run("scan", "-q", VENV, "--timeout", 3)
    assert result.code == 2 and "--timeout is an option of --probe" in result.err
    result = run("scan", "-q", VENV, "--probe-endpoint", HOST)
    assert result.code == 2 and "--probe-endpoint is an option of --probe" in result.err
    result = run("scan", "-q", VENV, "--probe", "--probe-endpoint", "host:99999")
    assert result.code == 2 and "port from 1 to 65535" in result.err
    result = run("scan", "-q", VENV, "--probe", "--jobs", 0)
    assert result.code == 2 and "argument --jobs: '0': give a whole number from 1" in result.err


def test_scan_probe_connects_only_where_told(pki, server, os_store, monkeypatch):
    """With --connect-to nothing is resolved, and every connection goes to the address given."""
    os_store(pki.store("amazon"))
    connected = []
    real_connect = socket.socket.connect_ex  # the probe's sockets are non-blocking

    def connect(sock, address):
        connected.append(address)
        return real_connect(sock, address)

    def no_resolver(*args, **kwargs):
        raise AssertionError("nothing may be resolved with --connect-to an address")

    monkeypatch.setattr(socket, "getaddrinfo", no_resolver)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    scan_probe(server, VENV, "--probe-endpoint", HOST)
    host, port = server.split(":")
    assert connected and set(connected) == {(host, int(port))}
