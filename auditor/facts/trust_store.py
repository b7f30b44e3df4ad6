"""The facts of a trust store: its contents checked for the ATS anchors, and who uses it."""

from __future__ import annotations

from auditor.records import field, record



TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import Any

STORE_MISSING = "missing"  # the format of a store whose file is not there


@record
class MissingStoreUse:
    """What one user of a store does when the store's file is not there (from client_store.IfMissing)."""

    user: str
    client: bool  # a client; False for a setting (a trust-config component)
    outcome: str  # fails | falls back | ignores
    effect: str
    detail: str


@record
class StoreLinks:
    """Who uses a trust store, as the store book linked them: set there only, through `StoreBook.use` and `add`."""

    roles: tuple[str, ...] = ()  # how the store was met: "certifi", "OS bundle", "named by AWS_CA_BUNDLE" …
    users: tuple[str, ...] = ()  # the clients and settings that use it in place of any other store (labels)
    used_by: tuple[str, ...] = ()  # the ids of those users that are components
    fallback_for: tuple[str, ...] = ()  # "user (when)": clients that turn to it when their own store is not there
    added_by: tuple[str, ...] = ()  # clients that add it to their own roots
    also_reached_as: tuple[str, ...] = ()  # the other paths that led to the same file (links, other spellings)


@record
class Keystore:
    """A Java or PKCS#12 keystore's integrity and entry counts."""

    integrity: str  # verified | failed | not checked | none
    entries: dict[str, int]  # entry kind ("trusted certificate", …) -> count


@record
class LocalCa:
    """A CA in an OS store that is not the distribution's own: added on this machine (a proxy's interception CA, a
    company CA), as the distribution's own record tells them apart (auditor.trust.local_cas)."""

    subject: str  # RFC 4514
    sha256: str  # of the DER certificate, lower-case hex
    source: str  # where it came from: the file update-ca-certificates or update-ca-trust took it from, or why
    not_after: str = ""  # YYYY-MM-DD

    def to_details(self) -> dict[str, str]:
        details = {"subject": self.subject, "sha256": self.sha256, "source": self.source}
        if self.not_after:
            details["not_after"] = self.not_after
        return details


@record
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
    unread: bool = False  # the file could not be read at all: what it holds is not known (`problem` says why)
    locally_added: tuple[LocalCa, ...] = ()  # an OS store's CAs that are not the distribution's own
    sha256: str | None = None  # of the store file's bytes as read (a directory, a missing or unread file: none)

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
        if self.unread:
            details["unread"] = True
        if self.locally_added:
            details["locally_added"] = [ca.to_details() for ca in self.locally_added]
        details["remedy"] = self.remedy
        if self.sha256 is not None:
            details["sha256"] = self.sha256
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
                   tuple(MissingStoreUse(**u) for u in details.get("if_missing", ())), details.get("unparsable", 0),
                   details.get("unread", False), tuple(LocalCa(**ca) for ca in details.get("locally_added", ())),
                   details.get("sha256"))
