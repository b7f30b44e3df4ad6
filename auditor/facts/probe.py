"""The facts of one live handshake (a probe component)."""

from __future__ import annotations

from typing import Any

from auditor import records
from auditor.facts import json_copy
from auditor.records import field, record

@record
class ProbeLinks:
    """The trust store a probe tried and the clients that use that store (a probe of `scan --probe`)."""

    trust_store_id: str
    used_by: tuple[str, ...] = ()


@record
class ProbeFacts:
    """One live handshake with one trust store against one endpoint: the probe's result (probe/result.ProbeResult,
    field for field and in its order), what it comes to, and, in a scan, the store's links."""

    host: str  # the name asked for: SNI and the hostname check
    port: int
    store: str  # the trust store's label
    store_format: str = ""
    store_certificates: int = 0
    users: tuple[str, ...] = ()
    connect_to: str | None = None
    proxy: str | None = None
    failure: str | None = None  # a failure class; None when the store verified the endpoint
    detail: str = ""
    message: str = ""
    tls_version: str | None = None
    cipher: str | None = None
    chain: tuple[dict[str, str], ...] = ()
    path: tuple[dict[str, str], ...] = ()
    anchor: dict[str, str] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    attempts: tuple[dict[str, str | float], ...] = ()
    http: dict[str, str | int | bool | None] | None = None
    elapsed_ms: float = 0.0
    notes: tuple[str, ...] = ()
    # What the result comes to, from its failure class.
    endpoint: str = ""
    outcome: str = "pass"  # pass | fail (the store failed verification) | error (it could not be tried)
    remedy: str = "pass"  # the failure class the rule's remediation is keyed by
    problem: str | None = None  # the class's title, for a failure
    cause: str | None = None
    links: ProbeLinks | None = None

    def to_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        for name in PROBE_RESULT_FIELDS:
            value = getattr(self, name)
            if value is not None and value != "" and value != ():
                details[name] = json_copy(value)
        details.update(endpoint=self.endpoint, outcome=self.outcome, remedy=self.remedy)
        if self.problem is not None:
            details.update(problem=self.problem, cause=self.cause)
        if self.links is not None:
            details.update(trust_store_id=self.links.trust_store_id, used_by=list(self.links.used_by))
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> ProbeFacts:
        values = {name: details[name] for name in PROBE_RESULT_FIELDS if name in details}
        for name in ("users", "chain", "path", "attempts", "notes"):
            if name in values:
                values[name] = tuple(values[name])
        links = ProbeLinks(details["trust_store_id"], tuple(details["used_by"])) if "trust_store_id" in details else None
        return cls(**values, endpoint=details["endpoint"], outcome=details["outcome"], remedy=details["remedy"],
                   problem=details.get("problem"), cause=details.get("cause"), links=links)


# The fields a probe's details take from its result, in the result's order (the rest are what it comes to).
_PROBE_FIELDS = [f.name for f in records.fields(ProbeFacts)]
PROBE_RESULT_FIELDS = tuple(_PROBE_FIELDS[:_PROBE_FIELDS.index("endpoint")])
