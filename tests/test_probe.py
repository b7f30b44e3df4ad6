"""`auditor probe`: live probes, on loopback only, against peers and a PKI the tests make (tls_servers.py).

Every probe here uses a short timeout, and every slow case asserts it ended within its bound."""

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12

from auditor.live_probe import ProbeJob, ProbeSettings, TrustStore, probe_component, probe_with_store, run_probes
from auditor.runs.probe import machine_stores, parse_address
from auditor.live_probe.connect import bypassed
import tls_servers
from conftest import ENVS, run
from tls_servers import HOST, NOW, YEAR, FullBacklog, Peers, closed_port

TIMEOUT = 0.5
# Scheduling margin: a two-core machine under load ran a bounded probe 0.5 s past its timeout. What these bounds tell
# apart is a bound kept from none: each unbounded alternative (a resolver asleep, a silent peer) runs far longer.
SLACK = 3.0
ROOT_NAMES = {"amazon": "Amazon Root CA 1", "starfield-g2": "Starfield Services Root Certificate Authority - G2",
              "starfield-class-2": "Starfield Class 2 Certification Authority"}
CHAINS = sys.version_info >= (3, 10)  # Python 3.9 shows neither the chain sent nor the path built
needs_chains = pytest.mark.skipif(not CHAINS, reason="Python 3.9 shows neither the chain sent nor the path built")


# The shared fixtures of tls_servers.py, under the names pytest finds them by.
no_proxy_settings, pki, other_pki = tls_servers.no_proxy_settings, tls_servers.pki, tls_servers.other_pki


@pytest.fixture(scope="module")
def peers(pki):
    with Peers() as running:
        running.ports = {
            "good": running.add_tls(pki.server_context(pki.leaf(names=(HOST, "localhost")))),
            "expired": running.add_tls(pki.server_context(pki.leaf(not_after=NOW - YEAR / 2))),
            "not-yet-valid": running.add_tls(pki.server_context(pki.leaf(not_before=NOW + YEAR / 2))),
            "wrong-name": running.add_tls(pki.server_context(pki.leaf(names=("wrong.example",)))),
            "missing-intermediate": running.add_tls(pki.server_context(intermediates=False)),
            "silent": running.add_silent(),
            "drip": running.add_drip(),
            "reset": running.add_reset(),
            "garbage": running.add_garbage(),
        }
        yield running


def probe_json(*args):
    result = run("probe", "--format", "json", "-q", "--timeout", TIMEOUT, *args)
    assert result.code in (0, 1), result.err
    data = result.json
    assert [c["kind"] for c in data["components"]] == ["probe"] * len(data["components"])
    return result, data


def via(peers, name):
    return ["--connect-to", f"127.0.0.1:{peers.ports[name]}"]


def only(data):
    (component,) = data["components"]
    (finding,) = [f for f in data["findings"] if f["component"] == component["id"]]
    return component["details"], finding


# -- the three test roots, each alone -------------------------------------------------------------

@pytest.mark.parametrize("root", ["amazon", "starfield-g2", "starfield-class-2"])
def test_each_root_alone_verifies_the_endpoint(pki, peers, root):
    result, data = probe_json(HOST, *via(peers, "good"), "--ca-file", pki.store(root), "--http")
    details, finding = only(data)
    assert result.code == 0
    assert details["outcome"] == "pass" and details["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert details["http"]["healthy"] is True and details["http"]["status"] == 200
    assert set(details["timings_ms"]) == {"dns", "connect", "handshake", "http"}
    # The phases follow one another without a gap, so their times add up to the whole attempt's.
    assert sum(details["timings_ms"].values()) == pytest.approx(details["elapsed_ms"], abs=1.0)
    assert finding["severity"] == "info" and finding["rule"] == "ats-probe"
    if not CHAINS:
        return
    assert details["anchor"]["name"] == ROOT_NAMES[root]
    # The test roots carry the real names, not the real keys: never reported as the ATS anchors.
    assert "ats_anchor" not in details["anchor"] and "another key" in details["anchor"]["note"]
    # Amazon Root CA 1 directly; G2 through the cross-signed Amazon root; Class 2 through both.
    assert len(details["path"]) == {"amazon": 3, "starfield-g2": 4, "starfield-class-2": 5}[root]
    assert [c["name"] for c in details["chain"]][:2] == [HOST, "Test Amazon RSA 2048 M02"]


def test_a_hashed_directory_verifies(pki, peers, tmp_path):
    (tmp_path / "amazon.pem").write_bytes(pki.store("amazon").read_bytes())
    _, data = probe_json(HOST, *via(peers, "good"), "--ca-dir", tmp_path)
    details, _ = only(data)
    assert details["outcome"] == "pass" and details["store_format"] == "directory"


def test_a_pkcs12_truststore_is_used_in_memory(pki, peers, tmp_path):
    keystore = tmp_path / "trust.p12"
    keystore.write_bytes(pkcs12.serialize_java_truststore([pkcs12.PKCS12Certificate(pki.roots["starfield-g2"], b"g2")],
                                                          BestAvailableEncryption(b"s3cret-ks")))
    result, data = probe_json(HOST, *via(peers, "good"), "--truststore", keystore, "--storepass", "s3cret-ks")
    details, _ = only(data)
    assert details["outcome"] == "pass" and details["store_format"] == "pkcs12"
    assert "s3cret-ks" not in result.out + result.err


@pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
def test_a_jks_truststore_is_used_in_memory(pki, peers, tmp_path):
    keystore = tmp_path / "cacerts"
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "class2", "-file", pki.store("starfield-class-2"),
                    "-keystore", keystore, "-storetype", "JKS", "-storepass", "changeit"], check=True, capture_output=True)
    _, data = probe_json(HOST, *via(peers, "good"), "--truststore", keystore, "--storepass", "changeit")
    details, _ = only(data)
    assert details["outcome"] == "pass" and details["store_format"] == "jks"
    assert not CHAINS or details["anchor"]["name"] == ROOT_NAMES["starfield-class-2"]


# -- each failure class ----------------------------------------------------------------------------

@pytest.mark.parametrize("peer, name, failure, detail", [
    ("expired", HOST, "expired", f"{HOST} expired on"),
    ("not-yet-valid", HOST, "not-yet-valid", f"{HOST} is valid only from"),
    ("wrong-name", HOST, "hostname-mismatch", "the certificate names wrong.example"),
    ("good", "other.example", "hostname-mismatch", f"asked for other.example; the certificate names {HOST}, localhost"),
    pytest.param("missing-intermediate", HOST, "incomplete-chain", "not its issuer Test Amazon RSA 2048 M02",
                 marks=needs_chains),
])
def test_certificate_failures_are_critical_with_a_class(pki, peers, peer, name, failure, detail):
    result, data = probe_json(name, *via(peers, peer), "--ca-file", pki.store("amazon"))
    details, finding = only(data)
    assert result.code == 1
    assert (details["failure"], details["outcome"]) == (failure, "fail")
    assert detail in details["detail"] if CHAINS else "cannot show the chain" in details["detail"]
    assert finding["severity"] == "critical" and finding["remediation"]


def test_a_store_without_the_chains_roots_is_an_untrusted_root(peers, other_pki):
    store = other_pki.store("amazon", "starfield-g2", "starfield-class-2")
    result, data = probe_json(HOST, *via(peers, "good"), "--ca-file", store)
    details, finding = only(data)
    assert details["failure"] == "untrusted-root"
    leads_to = "leads to Starfield Services Root Certificate Authority - G2, issued by Starfield Class 2"
    assert not CHAINS or leads_to in details["detail"]
    assert "untrusted root" in finding["title"] and "Amazon Root CA 1" in finding["remediation"]


def test_an_empty_store_is_unusable_without_touching_the_network(tmp_path, monkeypatch):
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificates here\n")
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    _, data = probe_json(HOST, "--ca-file", empty)
    details, finding = only(data)
    assert details["failure"] == "store-unusable" and finding["severity"] == "critical"


def test_tls_1_0_only_server_is_protocol_version_refused(pki, peers):
    try:
        context = pki.server_context(tls10_only=True)
    except (ssl.SSLError, ValueError) as exc:
        pytest.skip(f"this OpenSSL cannot offer TLS 1.0 at all ({exc})")
    _, data = probe_json(HOST, "--connect-to", f"127.0.0.1:{peers.add_tls(context)}", "--ca-file", pki.store("amazon"))
    details, finding = only(data)
    assert details["failure"] == "protocol-version", details
    assert "TLS 1.2" in details["cause"] and finding["severity"] == "high"


@pytest.mark.parametrize("peer, failure", [("reset", "reset"), ("garbage", "not-tls")])
def test_misbehaving_peers(pki, peers, peer, failure):
    _, data = probe_json(HOST, *via(peers, peer), "--ca-file", pki.store("amazon"))
    details, finding = only(data)
    assert (details["failure"], details["outcome"]) == (failure, "error")
    assert finding["severity"] == "high"


def test_a_stalled_handshake_is_the_long_delay_symptom_and_ends_at_the_timeout(pki, peers):
    started = time.monotonic()
    _, data = probe_json(HOST, *via(peers, "silent"), "--ca-file", pki.store("amazon"))
    elapsed = time.monotonic() - started
    details, _ = only(data)
    assert details["failure"] == "stalled" and "long delay" in details["cause"]
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK
    assert TIMEOUT * 1000 - 50 <= details["timings_ms"]["handshake"] < (TIMEOUT + SLACK) * 1000


def test_a_peer_dripping_bytes_cannot_stretch_the_handshake_timeout(pki, peers):
    started = time.monotonic()
    _, data = probe_json(HOST, *via(peers, "drip"), "--ca-file", pki.store("amazon"))
    assert only(data)[0]["failure"] == "stalled"
    assert time.monotonic() - started < TIMEOUT + SLACK


def test_connect_to_without_a_port_keeps_the_endpoints(pki, peers):
    port = peers.ports["good"]
    _, data = probe_json(f"{HOST}:{port}", "--connect-to", "127.0.0.1", "--ca-file", pki.store("amazon"))
    details, _ = only(data)
    assert details["outcome"] == "pass" and details["connect_to"] == f"127.0.0.1:{port}"


def test_connection_refused(pki):
    _, data = probe_json(HOST, "--connect-to", f"127.0.0.1:{closed_port()}", "--ca-file", pki.store("amazon"))
    assert only(data)[0]["failure"] == "refused"


def test_connect_timeout(pki):
    with FullBacklog() as backlog:
        if not backlog.works:
            pytest.skip("this kernel accepts connections beyond a full backlog")
        started = time.monotonic()
        _, data = probe_json(HOST, "--connect-to", f"127.0.0.1:{backlog.port}", "--ca-file", pki.store("amazon"))
        assert time.monotonic() - started < TIMEOUT + SLACK
    assert only(data)[0]["failure"] == "connect-timeout"


def _no_network(*args, **kwargs):
    raise AssertionError("no name may be resolved here")


def test_dns_failure(pki, monkeypatch):
    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    _, data = probe_json("no-such-endpoint.invalid", "--ca-file", pki.store("amazon"))
    details, _ = only(data)
    assert details["failure"] == "dns" and "Name or service not known" in details["detail"]


def test_a_resolver_that_hangs_is_bounded(pki, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: time.sleep(30))
    started = time.monotonic()
    _, data = probe_json("slow-resolver.invalid", "--ca-file", pki.store("amazon"))
    assert time.monotonic() - started < TIMEOUT + SLACK
    assert only(data)[0]["failure"] == "dns"


# -- retries, pool, deadline -----------------------------------------------------------------------

def test_retries_are_explicit_and_reported(pki, peers):
    started = time.monotonic()
    _, data = probe_json(HOST, *via(peers, "silent"), "--ca-file", pki.store("amazon"), "--timeout", 0.2, "--retries", 2)
    assert time.monotonic() - started < 3 * 0.2 + SLACK
    assert [a["result"] for a in only(data)[0]["attempts"]] == ["stalled"] * 3


def test_a_certificate_verdict_is_never_retried(pki, peers):
    _, data = probe_json(HOST, *via(peers, "expired"), "--ca-file", pki.store("amazon"), "--retries", 3)
    assert [a["result"] for a in only(data)[0]["attempts"]] == ["expired"]


def test_the_pool_is_bounded_and_keeps_the_order_given(pki, peers):
    store = TrustStore.load(str(pki.store("amazon")))
    order = ["silent", "good", "expired", "silent", "good", "garbage", "silent", "missing-intermediate"] * 3
    jobs = [ProbeJob(HOST, 443, store, ("127.0.0.1", peers.ports[name])) for name in order]
    started = time.monotonic()
    results = run_probes(jobs, ProbeSettings(timeout=TIMEOUT), workers=len(jobs))
    assert time.monotonic() - started < 9 * TIMEOUT  # the nine silent peers one after another would take 9 timeouts
    expected = {"silent": "stalled", "good": None, "expired": "expired", "garbage": "not-tls",
                "missing-intermediate": "incomplete-chain" if CHAINS else "untrusted-root"}
    assert [r.failure for r in results] == [expected[name] for name in order]


def test_the_whole_run_ends_by_its_deadline(pki, peers):
    store = TrustStore.load(str(pki.store("amazon")))
    jobs = [ProbeJob(HOST, 443, store, ("127.0.0.1", peers.ports["silent"])) for _ in range(6)]
    started = time.monotonic()
    results = run_probes(jobs, ProbeSettings(timeout=5), workers=2, deadline=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + SLACK
    assert {r.failure for r in results} == {"deadline"}
    assert "deadline" in results[0].detail and "not started" in results[-1].detail


# -- proxy -----------------------------------------------------------------------------------------

def test_https_proxy_with_credentials_tunnels_and_never_shows_the_password(pki, peers, monkeypatch):
    proxy = peers.add_proxy("alice", "pr0xy-s3cret")
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:pr0xy-s3cret@127.0.0.1:{proxy}")
    endpoint = f"{HOST}:{peers.ports['good']}"
    result, data = probe_json(endpoint, "--ca-file", pki.store("amazon"))
    details, _ = only(data)
    assert details["outcome"] == "pass" and set(details["timings_ms"]) == {"dns", "connect", "proxy", "handshake"}
    assert details["proxy"] == f"http://***@127.0.0.1:{proxy}"
    assert endpoint in peers.proxied
    table = run("probe", endpoint, "--ca-file", pki.store("amazon"), "--timeout", TIMEOUT, "--width", "400")
    for text in (result.out, result.err, table.out, table.err):
        assert "pr0xy-s3cret" not in text
    assert "http://***@" in table.out


def test_a_proxy_refusing_the_credentials_is_a_proxy_failure(pki, peers, monkeypatch):
    proxy = peers.add_proxy("alice", "right-password")
    monkeypatch.setenv("https_proxy", f"http://alice:wr0ng-s3cret@127.0.0.1:{proxy}")
    result, data = probe_json(f"{HOST}:{peers.ports['good']}", "--ca-file", pki.store("amazon"))
    details, _ = only(data)
    assert details["failure"] == "proxy-failed" and "407" in details["detail"]
    assert "wr0ng-s3cret" not in result.out + result.err


def test_no_proxy_bypasses_the_proxy(pki, peers, monkeypatch):
    proxy = peers.add_proxy("alice", "pw")
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:pw@127.0.0.1:{proxy}")
    monkeypatch.setenv("NO_PROXY", "example.com,localhost")
    before = len(peers.proxied)
    _, data = probe_json(f"localhost:{peers.ports['good']}", "--ca-file", pki.store("amazon"))
    details, _ = only(data)
    assert details["outcome"] == "pass" and "proxy" not in details
    assert len(peers.proxied) == before


@pytest.mark.parametrize("host, port, no_proxy, expected", [
    ("dynamodb.eu-west-3.amazonaws.com", 443, "amazonaws.com", True),
    ("dynamodb.eu-west-3.amazonaws.com", 443, ".amazonaws.com", True),
    ("dynamodb.eu-west-3.amazonaws.com", 443, "west-3.amazonaws.com", False),
    ("dynamodb.eu-west-3.amazonaws.com", 443, "amazonaws.com:8443", False),
    ("dynamodb.eu-west-3.amazonaws.com", 443, "amazonaws.com:443", True),
    ("10.1.2.3", 443, "10.0.0.0/8", True),
    ("::1", 443, "[::1]:443", True),
    ("example.org", 443, "*", True),
    ("example.org", 443, "", False),
])
def test_no_proxy_matching(host, port, no_proxy, expected):
    assert bypassed(host, port, no_proxy) is expected


# -- the API the scan uses, the defaults, and what never happens ----------------------------------

def test_probe_with_store_and_probe_component(pki, peers):
    result = probe_with_store(HOST, 443, [pki.roots["amazon"].public_bytes(Encoding.DER)], label="test bundle",
                              users=("botocore 1.35.0 in .venv",), connect_to=("127.0.0.1", peers.ports["good"]),
                              timeout=TIMEOUT)
    assert result.ok and result.store == "test bundle" and result.attempts == [
        {"result": "pass", "elapsed_ms": result.elapsed_ms}]
    component = probe_component(result, target=".venv")
    assert (component.kind, component.name, component.location) == ("probe", f"{HOST}:443", "test bundle")
    assert component.details["users"] == ["botocore 1.35.0 in .venv"] and component.details["remedy"] == "pass"


def test_a_client_store_that_fails_names_the_client(other_pki, peers):
    from auditor.checks.rules import evaluate, select_packs

    result = probe_with_store(HOST, 443, other_pki.store("amazon"), users=("botocore 1.35.0 in .venv",),
                              connect_to=("127.0.0.1", peers.ports["good"]), timeout=TIMEOUT)
    (finding,) = evaluate(select_packs([]), [probe_component(result, ".venv")], None)
    assert finding.severity == "critical"
    store = other_pki.store("amazon")
    assert finding.title.startswith(f"botocore 1.35.0 in .venv ({store}) would fail to verify {HOST}:443")


@pytest.mark.skipif(not os.path.isdir("/etc/ssl/certs") and not os.path.isfile("/etc/pki/tls/certs/ca-bundle.crt"),
                    reason="no OS trust store on this machine")
def test_this_machines_stores_never_trust_the_test_roots(peers):
    stores = machine_stores()
    assert stores and all(s.users for s in stores)
    _, data = probe_json(HOST, *via(peers, "good"))
    assert {c["details"]["failure"] for c in data["components"]} == {"untrusted-root"}
    assert len(data["components"]) == len(stores)


def test_results_and_report_order_do_not_depend_on_completion_order(pki, other_pki, peers):
    args = [HOST, *via(peers, "good"), "--ca-file", other_pki.store("amazon"), "--ca-file", pki.store("amazon"),
            "--jobs", 4]
    first, second = probe_json(*args)[1], probe_json(*args)[1]
    assert [c["id"] for c in first["components"]] == [c["id"] for c in second["components"]]
    assert [f["id"] for f in first["findings"]] == [f["id"] for f in second["findings"]]


@pytest.mark.parametrize("text, expected", [
    ("dynamodb.eu-west-3.amazonaws.com", ("dynamodb.eu-west-3.amazonaws.com", 443)),
    ("127.0.0.1:8443", ("127.0.0.1", 8443)),
    ("[::1]:8443", ("::1", 8443)),
    ("::1", ("::1", 443)),
])
def test_endpoints_are_parsed(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("args, message", [
    (["host:99999"], "port from 1 to 65535"),
    (["--ca-file", "/no/such/store.pem"], "--ca-file /no/such/store.pem: no such file"),
    (["--timeout", "0"], "argument --timeout: '0': give seconds above 0"),
])
def test_usage_errors(args, message):
    result = run("probe", *args)
    assert result.code == 2 and message in result.err


def test_a_plain_scan_never_uses_the_network(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    assert run("scan", "-q", ENVS / "py3-old-botocore").code == 1


@pytest.mark.skipif(os.environ.get("AUDITOR_PROBE_LIVE") != "1", reason="the real endpoints: set AUDITOR_PROBE_LIVE=1 "
                                                                       "where a network exists (not in CI)")
def test_the_real_endpoints_with_this_machines_stores():
    result = run("probe", "--format", "json", "--http", "--timeout", 10)
    for component in result.json["components"]:
        details = component["details"]
        assert details["outcome"] == "pass", details
        assert details["anchor"].get("ats_anchor") in ROOT_NAMES.values()
