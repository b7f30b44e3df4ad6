"""Clients that a TLS-intercepting proxy would break: a proxy is in force for them, the OS store holds CAs added on
this machine (the likely interception CA), and the client's own store lacks one of them. Behind such a proxy the
client sees the proxy's certificate, issued by that CA, and fails with CERTIFICATE_VERIFY_FAILED."""

from __future__ import annotations

from typing import Sequence

from auditor import records
from auditor.collect.config.proxies import Proxy
from auditor.facts.client_trust import ClientTrust, MissingProxyCa
from auditor.facts.trust_store import LocalCa, TrustStoreFacts
from auditor.model import Component
from auditor.trust.stores import StoreBook, link_client


def os_local_cas(stores: Sequence[Component]) -> list[tuple[LocalCa, str]]:
    """Each locally added CA of the OS stores (once), with the first store that holds it."""
    found: dict[str, tuple[LocalCa, str]] = {}
    for store in stores:
        facts = store.facts_as(TrustStoreFacts)
        if not any(role.startswith("OS ") for role in facts.links.roles):  # a JDK's cacerts lists copies of these
            continue
        for ca in facts.locally_added:
            found.setdefault(ca.sha256, (ca, store.location))
    return list(found.values())


def link_interception(book: StoreBook, stores: Sequence[Component], proxies: Sequence[Proxy]) -> None:
    """Set `proxy_ca_missing` on each client whose store lacks a locally added CA of the OS while a proxy that
    reaches it is in force (a JVM: https.proxyHost; the others: HTTPS_PROXY). AWS endpoints exempted by NO_PROXY
    and clients that do not verify certificates are left alone."""
    local = os_local_cas(stores)
    if not local:
        return
    for client in book.clients:
        trust = client.trust
        if trust is None or trust.store_id is None or trust.validation is False:
            continue
        held = book.fingerprints.get(trust.store_id)
        if held is None:  # its store is not there: the store-missing finding says what it does
            continue
        reach = "java" if client.kind == "java" else "python"
        applying = [p for p in proxies if p.reach == reach and not p.bypassed]
        if not applying:
            continue
        proxy = "; ".join(dict.fromkeys(p.describe() for p in applying))
        missing = tuple(MissingProxyCa(proxy, ca.subject, ca.sha256, store, ca.source)
                        for ca, store in local if ca.sha256 not in held)
        if missing:
            link_client(client, records.replace(trust or ClientTrust(), proxy_ca_missing=missing))
