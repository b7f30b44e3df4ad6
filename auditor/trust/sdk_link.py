"""Link SDKs of other languages to the store that decides their trust: the scanned system's OS store,
OpenSSL default or JVM trust store, or the CA bundle a Ruby gem ships."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from auditor import records
from auditor.records import field, mutable_record
from auditor.trust.client_store import StoreChoice
from auditor.facts.manifest import ManifestFacts
from auditor.facts.trust_store import TrustStoreFacts
from auditor.fs import View
from auditor.model import Component
from auditor.trust.stores import StoreBook, link_client

if TYPE_CHECKING:
    from auditor.collect.sdks import SdkClient


@mutable_record
class Platform:
    """The system's own stores, as auditor.trust.resolve found them."""

    os: Optional[StoreChoice] = None
    openssl: Optional[StoreChoice] = None  # OpenSSL's default, read for the running interpreter only
    jvms: list[tuple[StoreChoice, str]] = field(default_factory=list)  # (StoreChoice, "Java 17.0.2 at /usr/lib/jvm/…")

    def choice(self, trust_from: str) -> tuple[Optional[StoreChoice], str]:
        if trust_from == "jvm":
            if not self.jvms:
                return None, "no JDK or JRE was found on this system"
            others = "; ".join(label for _, label in self.jvms[1:])
            return self.jvms[0][0], (f"the trust store of the JVM that runs it: {self.jvms[0][1]}"
                                     + (f" (the first JDK found; also here: {others})" if others else ""))
        if trust_from == "openssl" and self.openssl is not None:
            return self.openssl, "OpenSSL's default store on this machine"
        if trust_from in ("os", "openssl") and self.os is not None:
            why = ("the operating system's CA store" if trust_from == "os" else
                   "OpenSSL's default store, which the distributions point at the OS bundle (its default paths are not read in an image)")
            return self.os, why
        return None, "no such store was found on this system"


def link_sdk_clients(clients: list[SdkClient], book: StoreBook, host: View, platform: Optional[Platform]) -> None:
    """Each client uses its bundle, or its platform's store when the system is part of the scan (StoreBook.use)."""
    for client in clients:
        component = client.component
        facts = component.facts_as(ManifestFacts)
        user = f"{facts.sdk} ({component.name} {component.version or facts.constraint or ''}".rstrip() + \
            f") in {component.location}"
        if client.bundle:
            shown = client.view.display(client.bundle)
            book.use(client.view, StoreChoice(client.bundle, "SDK bundle (Ruby gem)",
                                              [f"{component.name} {component.version} verifies with the ca-bundle.crt it ships: {shown}"]),
                     user, component)
            continue
        if not client.on_system or platform is None or facts.trust_from not in ("os", "openssl", "jvm"):
            continue
        choice, why = platform.choice(facts.trust_from)
        if choice is None:
            _store_not_found(component, facts, why)
            continue
        linked = StoreChoice(choice.path, choice.role, [f"{facts.sdk}: {why}"] + choice.reasons,
                             validation=choice.validation, setting=choice.setting, password=choice.password,
                             if_missing=choice.if_missing)
        book.use(host, linked, user, component)


def _store_not_found(component: Component, facts: ManifestFacts, why: str) -> None:
    """Set the trust stage's link on an SDK whose system has no store of the kind it uses: the one place it is set.
    Its details keep their keys where they were (the note says why)."""
    linked = records.replace(facts, store_not_found=why)
    object.__setattr__(component, "facts", linked)  # a link set by its owner, the trust stage, once the SDK is known
    component.details.update(linked.to_details())


def record_store_verdicts(clients: list[SdkClient], stores: list[Component]) -> None:
    """Copy onto each linked client the anchors its store was found to hold, for the rules."""
    anchors = {store.id: list(store.facts_as(TrustStoreFacts).anchors) for store in stores}
    for client in clients:
        trust = client.component.trust
        if trust is not None and trust.store_id in anchors:
            link_client(client.component, records.replace(trust, store_anchors=tuple(anchors[trust.store_id])))
