"""Typed facts (auditor/facts/): a trust store's, a probe's and a client's trust's JSON details are produced from
their typed facts, no later stage edits them, and a saved report's details read back into the same typed facts."""

import json
from pathlib import Path

import pytest

from auditor import records
from auditor.facts.client_trust import CLIENT_TRUST_KEYS, ClientTrust
from auditor.facts.probe import PROBE_RESULT_FIELDS, ProbeFacts, ProbeLinks
from auditor.facts.trust_store import StoreLinks, TrustStoreFacts
from auditor.model import Component, Report
from auditor.live_probe.result import ProbeResult, probe_component
from conftest import run

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
AS_OF = "2026-12-01"


def _scan_components(monkeypatch, *args) -> tuple[list[Component], dict]:
    """The report's components as the scan made them (objects, before JSON), and its JSON."""
    made: list[Report] = []
    to_dict = Report.to_dict

    def recording(report: Report) -> dict:
        made.append(report)
        return to_dict(report)

    monkeypatch.setattr(Report, "to_dict", recording)
    result = run(*args)
    assert result.code in (0, 1), result.err
    assert len(made) == 1
    return made[0].components, result.json


def _stores(components: list[Component]) -> list[Component]:
    return [c for c in components if c.kind == "trust-store"]


def test_store_details_are_produced_from_the_typed_facts_and_left_alone(monkeypatch):
    # A Debian image whose clients use the OS bundle, fall back to it, and name a store that is not there.
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF,
                                        "--root", FIXTURES / "envs/trust/debian-bookworm")
    stores = _stores(components)
    assert stores, "the image has trust stores"
    for store in stores:
        assert isinstance(store.facts, TrustStoreFacts)
        # Every stage after the store book ran (SDK links, checks, waivers): the details are still its facts'.
        assert store.details == store.facts.to_details()
    missing = [s.facts for s in stores if s.facts.missing]
    assert missing and all(f.if_missing and f.problem for f in missing)
    assert any(s.facts.links.users and s.facts.links.used_by for s in stores)
    # A client's link to its store is the store's id, and the store lists the client among its users by id.
    clients = [c for c in components if "trust_store_id" in c.details]
    by_id = {s.id: s for s in stores}
    for client in clients:
        assert client.id in by_id[client.details["trust_store_id"]].facts.links.used_by or \
            client.kind == "trust-config"
    assert [c["details"] for c in data["components"] if c["kind"] == "trust-store"] == [s.details for s in stores]


def _trust_keys(details: dict) -> dict:
    return {k: v for k, v in details.items() if k in CLIENT_TRUST_KEYS}


def test_a_client_s_trust_is_the_typed_link_the_store_book_set(monkeypatch):
    # The same image: its Python clients are linked to the stores they use.
    components, data = _scan_components(monkeypatch, "scan", "--format", "json", "-q", "--as-of", AS_OF,
                                        "--root", FIXTURES / "envs/trust/debian-bookworm")
    linked = [c for c in components if _trust_keys(c.details)]
    assert "python-package" in {c.kind for c in linked}  # the OS, JDKs and settings: the golden reports below
    for client in linked:
        assert isinstance(client.trust, ClientTrust)
        assert client.client_trust() is client.trust
        assert _trust_keys(client.details) == client.trust.to_details()
    assert all(c.trust is None and c.client_trust() is None for c in components if c not in linked)
    stores = {s.id: s.details["format"] for s in _stores(components)}
    assert all(c.trust.store_id in stores for c in linked if c.trust.store is not None)
    # A saved report's clients read back into the same typed trust.
    saved = {c.id: c for c in Report.from_dict(data).components}
    for client in linked:
        assert saved[client.id].trust is None
        assert saved[client.id].client_trust() == client.trust


WITH_CLIENTS = sorted(p for p in (TESTS / "golden").glob("*.json") if '"trust_reasons"' in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", WITH_CLIENTS, ids=lambda p: p.stem)
def test_every_recorded_client_trust_round_trips_key_for_key(path):
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    clients = [_trust_keys(c["details"]) for c in report["components"] if _trust_keys(c["details"])]
    assert clients
    for keys in clients:
        assert json.dumps(ClientTrust.from_details(keys).to_details()) == json.dumps(keys)


def test_a_saved_report_reads_back_into_the_same_facts(monkeypatch):
    components, data = _scan_components(monkeypatch, "truststore", "--format", "json", "-q", "--as-of", AS_OF,
                                        FIXTURES / "keystores/truststore.jks")
    [live] = _stores(components)
    assert live.facts is not None and live.facts.keystore is not None
    [saved] = _stores(Report.from_dict(data).components)
    assert saved.facts is None
    assert saved.facts_as(TrustStoreFacts) == live.facts_as(TrustStoreFacts) == live.facts
    assert saved.id == live.id


WITH_STORES = sorted(p for p in (TESTS / "golden").glob("*.json") if '"kind": "trust-store"' in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", WITH_STORES, ids=lambda p: p.stem)
def test_every_recorded_store_round_trips_key_for_key(path):
    """from_details then to_details gives the same JSON, in the same key order, for every store of every golden
    report: the typed facts hold everything a report says about a store."""
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    stores = [c["details"] for c in report["components"] if c["kind"] == "trust-store"]
    assert stores
    for details in stores:
        assert json.dumps(TrustStoreFacts.from_details(details).to_details()) == json.dumps(details)


def test_facts_are_frozen_and_a_component_made_from_them_has_their_details():
    facts = TrustStoreFacts(StoreLinks(roles=("OS bundle",), users=("botocore",)), AS_OF, "pem", 2,
                            ("Amazon Root CA 1",), "debian", expired=("Starfield Class 2",))
    with pytest.raises(records.FrozenInstanceError):
        facts.format = "missing"  # type: ignore[misc]
    component = Component("trust-store", "ca-certificates.crt", None, "/etc/ssl/certs/ca-certificates.crt",
                          "trust store", "/", facts=facts)
    assert component.details == {"roles": ["OS bundle"], "users": ["botocore"], "as_of": AS_OF, "format": "pem",
                                 "certificates": 2, "anchors": ["Amazon Root CA 1"], "expired": ["Starfield Class 2"],
                                 "distrusted": [], "impostors": [], "remedy": "debian"}
    # The facts do not take part in a component's equality or its id: a saved report's component is the same one.
    bare = records.replace(component, facts=None)
    assert bare == component and bare.id == component.id
    assert "facts" not in Report("0", "now", AS_OF, [], components=[component]).to_dict()["components"][0]


def test_a_probe_component_is_made_from_its_facts_with_the_result_s_fields_in_order():
    assert PROBE_RESULT_FIELDS == tuple(f.name for f in records.fields(ProbeResult))
    result = ProbeResult("dynamodb.us-east-1.amazonaws.com", 443, "/etc/ssl/certs/ca-certificates.crt", "pem", 140,
                         users=("botocore 1.35.0 in .venv",), failure="untrusted-root", detail="no anchor for the chain",
                         tls_version="TLSv1.3", timings_ms={"dns": 1.5, "connect": 2.0},
                         attempts=[{"result": "untrusted-root", "elapsed_ms": 3.5}], elapsed_ms=3.5)
    component = probe_component(result, ".venv", ProbeLinks("trust-store:ca-certificates.crt@?:0123456789ab"))
    assert isinstance(component.facts, ProbeFacts) and component.details == component.facts.to_details()
    assert list(component.details) == ["host", "port", "store", "store_format", "store_certificates", "users",
                                       "failure", "detail", "tls_version", "timings_ms", "attempts", "elapsed_ms",
                                       "endpoint", "outcome", "remedy", "problem", "cause", "trust_store_id", "used_by"]
    assert (component.details["outcome"], component.details["used_by"]) == ("fail", [])
    assert ProbeFacts.from_details(json.loads(json.dumps(component.details))) == component.facts
    # Without a store component (auditor probe), no links.
    assert "trust_store_id" not in probe_component(result, ".venv").details
