"""The trust store a client uses, as the store book linked it."""

from __future__ import annotations

from typing import Any

from auditor.facts import CLIENT_TRUST_KEYS as CLIENT_TRUST_KEYS  # the keys to_details writes
from auditor.records import record

@record
class MissingProxyCa:
    """A proxy in force for a client, and a CA added to the OS store (likely the proxy's interception CA) that the
    client's own store lacks: behind that proxy its calls fail certificate verification."""

    proxy: str  # the setting and where it is written, credentials masked
    subject: str
    sha256: str
    os_store: str  # the OS store that holds the CA
    source: str  # where the CA came from (the file update-ca-certificates or update-ca-trust took it from)

    def to_details(self) -> dict[str, str]:
        return {"proxy": self.proxy, "subject": self.subject, "sha256": self.sha256, "os_store": self.os_store,
                "source": self.source}


@record
class ClientTrust:
    """The trust store a client (a package, a setting, the OS, a JDK, an SDK) uses, as the store book linked it:
    set only through `auditor.trust.stores.link_client`. A field is None (or empty) until the trust stage sets it."""

    reasons: tuple[str, ...] | None = None  # why this store, or why the client has none (it cannot run …)
    validation: bool | None = None  # False: certificate validation is off; None: no store was chosen
    store: str | None = None  # the store's path as shown
    store_id: str | None = None  # the store component's id
    fallbacks: tuple[str, ...] = ()  # "path when": the stores it turns to when its own is not there
    also_runs_in: tuple[str, ...] = ()  # "context: store", the other run contexts of a Python client
    store_anchors: tuple[str, ...] | None = None  # the anchors its store holds (an SDK client, for the rules)
    proxy_ca_missing: tuple[MissingProxyCa, ...] = ()  # set by auditor.trust.interception

    def to_details(self) -> dict[str, Any]:
        """Its keys of the client's details, in the order reports have always had them."""
        details: dict[str, Any] = {}
        if self.reasons is not None:
            details["trust_reasons"] = list(self.reasons)
        if self.validation is not None:
            details["certificate_validation"] = "on" if self.validation else "off"
        if self.store is not None:
            details.update(trust_store=self.store, trust_store_id=self.store_id)
        if self.fallbacks:
            details["trust_fallbacks"] = list(self.fallbacks)
        if self.also_runs_in:
            details["also_runs_in"] = list(self.also_runs_in)
        if self.store_anchors is not None:
            details["trust_store_anchors"] = list(self.store_anchors)
        if self.proxy_ca_missing:
            details["proxy_ca_missing"] = [missing.to_details() for missing in self.proxy_ca_missing]
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> ClientTrust:
        validation = details.get("certificate_validation")
        reasons, anchors = details.get("trust_reasons"), details.get("trust_store_anchors")
        return cls(tuple(reasons) if reasons is not None else None, None if validation is None else validation == "on",
                   details.get("trust_store"), details.get("trust_store_id"), tuple(details.get("trust_fallbacks", ())),
                   tuple(details.get("also_runs_in", ())), tuple(anchors) if anchors is not None else None,
                   tuple(MissingProxyCa(**missing) for missing in details.get("proxy_ca_missing", ())))
