"""`auditor scan --probe`: the trust stores the scan found in use, each tried for real against the endpoints.

Every store some client uses (a trust-store component with `users`) is probed once per endpoint with all of
its users named, so a finding reads "botocore 1.35.0 in .venv (…/certifi/cacert.pem) would fail to verify
…". When the scan did not meet the OS stores itself (it scanned targets, not this machine), this machine's
are probed too, for comparison: "the OS store would pass"; never for an image (--root, --image), whose stores are
read inside it, as its clients would read them. A keystore is opened with the password the
resolver knows (javax.net.ssl.trustStorePassword in the clients' Java options), else with none, as the JVM
opens it: a JKS's certificates need no password, nor does the password-less PKCS#12 cacerts of Java 18+.
This is a scan's only use of the network, and only with --probe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.facts.probe import ProbeLinks
from auditor.facts.trust_store import TrustStoreFacts
from auditor.fs import View
from auditor.model import Component
from auditor.records import mutable_record, record
from auditor.runs.probe import link_local_cas, machine_local_cas, machine_stores
from auditor.live_probe.handshake import TrustStore
from auditor.live_probe.result import probe_component
from auditor.live_probe.run import DEFAULT_DEADLINE, DEFAULT_JOBS, ProbeJob, ProbeSettings, run_probes

if TYPE_CHECKING:
    from auditor.collect.config.environ import Environ

# The stores a JVM opens with javax.net.ssl.trustStorePassword: a JDK's own, and the one the option names.
JAVA_ROLES = frozenset({"Java cacerts", "custom Java trust store", "named by javax.net.ssl.trustStore"})
COMPARISON = "this machine, for comparison"


@record
class ProbePlan:
    """What `scan --probe` was asked: the endpoints, and how to probe them."""

    endpoints: tuple[tuple[str, int], ...]
    settings: ProbeSettings = ProbeSettings()
    connect_to: tuple[str, int | None] | None = None  # without a port: each endpoint's
    workers: int = DEFAULT_JOBS
    deadline: float = DEFAULT_DEADLINE


@mutable_record
class _Store:
    trust: TrustStore
    target: str
    users: tuple[str, ...]
    links: ProbeLinks | None = None  # the store's component and its clients, for the probe components


def probe_scan(plan: ProbePlan, components: list[Component], environ: Environ, image: View | None = None) -> list[Component]:
    """A probe component per store in use and endpoint, linked to its store (`trust_store_id`) and the
    clients that use it (`used_by`). `environ`: the clients' environment (for the Java trust store
    password); `image`: the view of the scanned image (--root, --image), inside which the stores' paths lie and
    are read: then no store of this machine is probed."""
    view = image or View("/", display_top="/")
    stores = _stores_in_use(components, view, _java_password(view, environ))
    if image is None and not any(role.startswith("OS ") for c in components if c.kind == "trust-store"
                                for role in c.facts_as(TrustStoreFacts).links.roles):
        stores += [_Store(s.store, COMPARISON, tuple(f"{user} of {COMPARISON}" for user in s.users))
                   for s in machine_stores(openssl=False)]
    pairs = [(store, host, port) for store in stores for host, port in plan.endpoints]
    jobs = [ProbeJob(host, port, store.trust, plan.connect_to, store.users) for store, host, port in pairs]
    results = run_probes(jobs, plan.settings, plan.workers, plan.deadline)
    local = {ca.sha256: ca for c in components if c.kind == "trust-store" for ca in c.facts_as(TrustStoreFacts).locally_added}
    link_local_cas(results, list(local.values()) if local or image is not None else machine_local_cas())
    found = []
    for (store, _, _), result in zip(pairs, results):
        found.append(probe_component(result, store.target, store.links))
    return found


def _stores_in_use(components: list[Component], view: View, java_password: str | None) -> list[_Store]:
    """The trust-store components some client uses, loaded as the scan read them (same path, same password)."""
    stores = []
    for component in components:
        if component.kind != "trust-store":
            continue
        links = component.facts_as(TrustStoreFacts).links
        if not links.users:
            continue  # a fallback, or a bundle Node adds to its own roots: no client trusts it alone
        password = java_password if JAVA_ROLES & set(links.roles) else None
        path = view.locate(view.top, component.location) if view.image else component.location
        trust = TrustStore.load(path, password, view=view, label=component.location)
        stores.append(_Store(trust, component.target, links.users,
                             ProbeLinks(component.id, links.used_by)))
    return stores


def _java_password(view: View, environ: Environ) -> str | None:
    from auditor.collect.config.trust_settings import read_trust_settings

    option = read_trust_settings(view, environ).java_options.get("javax.net.ssl.trustStorePassword")
    return option.value if option else None
