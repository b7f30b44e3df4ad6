"""Typed facts of a component kind: what the stage that found a thing knows about it, complete when that stage
hands it on. A later stage that links the thing to others sets explicit fields through its owner's one method
(for a trust store and a client's trust, `StoreBook.use`), never by editing another stage's dict.

A component's JSON `details` are produced from its facts (`to_details`), key for key and in the order reports have
always had; `from_details` reads them back from a saved report, so readers can use the typed fields either way.
Converted so far: the trust store, the probe, and a client's trust (the store a client uses, linked by the store book
and carried beside the client's own facts). The other kinds still carry a free `details` dict (see docs/architecture.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar


class Facts(Protocol):
    """What every typed fact of a component kind provides: its JSON details, and itself read back from them."""

    def to_details(self) -> dict[str, Any]: ...

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> Facts: ...


F = TypeVar("F", bound=Facts)

STORE_MISSING = "missing"  # the format of a store whose file is not there


@dataclass(frozen=True)
class MissingStoreUse:
    """What one user of a store does when the store's file is not there (from client_store.IfMissing)."""

    user: str
    client: bool  # a client; False for a setting (a trust-config component)
    outcome: str  # fails | falls back | ignores
    effect: str
    detail: str


@dataclass(frozen=True)
class StoreLinks:
    """Who uses a trust store, as the store book linked them: set there only, through `StoreBook.use` and `add`."""

    roles: tuple[str, ...] = ()  # how the store was met: "certifi", "OS bundle", "named by AWS_CA_BUNDLE" …
    users: tuple[str, ...] = ()  # the clients and settings that use it in place of any other store (labels)
    used_by: tuple[str, ...] = ()  # the ids of those users that are components
    fallback_for: tuple[str, ...] = ()  # "user (when)": clients that turn to it when their own store is not there
    added_by: tuple[str, ...] = ()  # clients that add it to their own roots
    also_reached_as: tuple[str, ...] = ()  # the other paths that led to the same file (links, other spellings)


@dataclass(frozen=True)
class Keystore:
    """A Java or PKCS#12 keystore's integrity and entry counts."""

    integrity: str  # verified | failed | not checked | none
    entries: dict[str, int]  # entry kind ("trusted certificate", …) -> count


@dataclass(frozen=True)
class TrustStoreFacts:
    """A trust store read and checked for the ATS anchors at `as_of`, with the clients that use it. A store whose
    file is not there has the format "missing", no contents, and what each user does without it (`if_missing`)."""

    links: StoreLinks
    as_of: str
    format: str  # pem, der, directory, jks, jceks, pkcs12 … or "missing"
    certificates: int
    anchors: tuple[str, ...]  # the anchors present and valid at as_of
    remedy: str  # the key of the remediation that applies (java, custom, debian, certifi …)
    expired: tuple[str, ...] = ()
    distrusted: tuple[str, ...] = ()  # present, but on the machine's distrust list
    impostors: tuple[dict[str, str], ...] = ()  # a certificate with an anchor's name and not its key: name, sha256, not_after
    keystore: Keystore | None = None
    distrusted_by: dict[str, str] = field(default_factory=dict)  # anchor name -> the line that distrusts it
    problem: str | None = None  # why it could not be read, or what is at its path instead
    link_target: str | None = None  # a missing store's path is a link to this
    if_missing: tuple[MissingStoreUse, ...] = ()
    unparsable: int = 0  # certificates that could not be parsed

    @property
    def missing(self) -> bool:
        return self.format == STORE_MISSING

    def to_details(self) -> dict[str, Any]:
        links = {"roles": self.links.roles, "users": self.links.users, "used_by": self.links.used_by,
                 "fallback_for": self.links.fallback_for, "added_by": self.links.added_by,
                 "also_reached_as": self.links.also_reached_as}
        details: dict[str, Any] = {k: list(v) for k, v in links.items() if v}
        details.update(as_of=self.as_of, format=self.format, certificates=self.certificates, anchors=list(self.anchors))
        if not self.missing:
            details.update(expired=list(self.expired), distrusted=list(self.distrusted),
                           impostors=[dict(i) for i in self.impostors])
            if self.keystore is not None:
                details.update(integrity=self.keystore.integrity, entries=dict(self.keystore.entries))
        if self.distrusted_by:
            details["distrusted_by"] = dict(self.distrusted_by)
        if self.problem is not None:
            details["problem"] = self.problem
        if self.link_target is not None:
            details["link_target"] = self.link_target
        if self.missing:
            details["if_missing"] = [{"user": u.user, "client": u.client, "outcome": u.outcome, "effect": u.effect,
                                      "detail": u.detail} for u in self.if_missing]
        if self.unparsable:
            details["unparsable"] = self.unparsable
        details["remedy"] = self.remedy
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> TrustStoreFacts:
        links = StoreLinks(**{k: tuple(details.get(k, ())) for k in (
            "roles", "users", "used_by", "fallback_for", "added_by", "also_reached_as")})
        keystore = Keystore(details["integrity"], dict(details["entries"])) if "integrity" in details else None
        return cls(links, details["as_of"], details["format"], details["certificates"], tuple(details["anchors"]),
                   details["remedy"], tuple(details.get("expired", ())), tuple(details.get("distrusted", ())),
                   tuple(dict(i) for i in details.get("impostors", ())), keystore,
                   dict(details.get("distrusted_by", {})), details.get("problem"), details.get("link_target"),
                   tuple(MissingStoreUse(**u) for u in details.get("if_missing", ())), details.get("unparsable", 0))


@dataclass(frozen=True)
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
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> ClientTrust:
        validation = details.get("certificate_validation")
        reasons, anchors = details.get("trust_reasons"), details.get("trust_store_anchors")
        return cls(tuple(reasons) if reasons is not None else None, None if validation is None else validation == "on",
                   details.get("trust_store"), details.get("trust_store_id"), tuple(details.get("trust_fallbacks", ())),
                   tuple(details.get("also_runs_in", ())), tuple(anchors) if anchors is not None else None)


CLIENT_TRUST_KEYS = ("trust_reasons", "certificate_validation", "trust_store", "trust_store_id", "trust_fallbacks",
                     "also_runs_in", "trust_store_anchors")


@dataclass(frozen=True)
class ProbeLinks:
    """The trust store a probe tried and the clients that use that store (a probe of `scan --probe`)."""

    trust_store_id: str
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
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
                details[name] = _json_copy(value)
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
_PROBE_FIELDS = [f.name for f in dataclasses.fields(ProbeFacts)]
PROBE_RESULT_FIELDS = tuple(_PROBE_FIELDS[:_PROBE_FIELDS.index("endpoint")])


def _json_copy(value: Any) -> Any:
    """A fact's value as JSON data of its own: tuples as lists, containers copied."""
    if isinstance(value, (list, tuple)):
        return [_json_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    return value
