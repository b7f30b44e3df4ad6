"""The trust stores of a scan: each read once, checked for the ATS anchors, and linked to the
clients and settings that use it (or would fall back to it). A store whose file is not there is
reported as missing with what each of its users does without it (client_trust.IfMissing): no
client falls back to anything it was not built to, so "missing" is not "holds no anchor"."""

from __future__ import annotations

import hashlib
import os

from auditor import records
from auditor.facts.trust_store import Keystore, LocalCa, MissingStoreUse, STORE_MISSING, StoreLinks, TrustStoreFacts
from auditor.records import field, mutable_record
from auditor.trust.anchors import Anchor, AnchorCheck, check_store
from auditor.trust.distrust import Distrust, os_managed
from auditor.trust.formats import read_store
from auditor.fs import FsError
from auditor.model import Component, ScanError

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from auditor.fs import StoreView
    from auditor.facts.client_trust import ClientTrust
    from auditor.trust.local_cas import LocalCas
    from auditor.trust.client_store import IfMissing, StoreChoice
    from auditor.collect import Origin

SOURCE = "trust store"


@mutable_record
class _Entry:
    """One store file as the book knows it before it is read: where it is and who has been linked to it so far.
    Its links grow only in `StoreBook.use` and `add`; `StoreBook.components` turns them into a `StoreLinks`."""

    view: StoreView
    host: str
    password: str | None
    component: Component  # the store's identity (kind, name, location, source, target), so clients can cite its id
    names: list[str] = field(default_factory=list)  # every path it was reached by (links, other spellings)
    roles: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    fallback_for: list[str] = field(default_factory=list)
    added_by: list[str] = field(default_factory=list)  # clients that add it to their own roots
    if_missing: list[tuple[str, bool, IfMissing]] = field(default_factory=list)  # (user, a client, not a setting; what it does)

    def add_role(self, role: str) -> None:
        if role not in self.roles:
            self.roles.append(role)

    def links(self) -> StoreLinks:
        return StoreLinks(tuple(self.roles), tuple(self.users), tuple(self.used_by), tuple(self.fallback_for),
                          tuple(self.added_by), tuple(self.names[1:]))


class StoreBook:
    def __init__(self, target: str, anchors: list[Anchor], as_of: str, distrust: Distrust, host: StoreView):
        """`host`: where a store named by a setting lives when it is outside the client's target."""
        self.target, self.anchors, self.as_of, self.distrust = target, anchors, as_of, distrust
        self.host = host
        self.entries: dict[str, _Entry] = {}
        self.errors: list[ScanError] = []
        self.settings_used: set[Origin] = set()  # the settings that chose some client's store
        self.clients: list[Component] = []  # the clients linked to a store, in the order first linked
        self.local: LocalCas | None = None  # the OS's locally added CAs: its OS stores list those they hold
        self.fingerprints: dict[str, frozenset[str]] = {}  # store id -> SHA-256 of each certificate it holds
        # The same bundle shipped twice (botocore's and certifi's cacert.pem) is checked once: its certificates, as
        # read, and the distrust applied to it are all the check depends on.
        self._checked: dict[tuple[tuple[bytes, ...], frozenset[str]], tuple[AnchorCheck, frozenset[str]]] = {}

    def use(self, view: StoreView, choice: StoreChoice, user: str, client: Component | None = None) -> None:
        """Record that `user` (a label; `client` when it is a component) uses the choice's store.
        The client's trust (`link_client`) gets the store, the reasons, and the fallbacks."""
        from auditor.facts.client_trust import ClientTrust  # not needed by `auditor truststore`, whose start-up counts

        if choice.setting is not None:
            self.settings_used.add(choice.setting)
        trust = (client.trust or ClientTrust()) if client is not None else None
        if trust is not None:
            trust = records.replace(trust, reasons=tuple(choice.reasons), validation=choice.validation)
        if choice.path is not None:
            entry, shown = self._entry(view, choice.path, choice.password)
            entry.add_role(choice.role)
            (entry.users if choice.replaces else entry.added_by).append(user)
            entry.if_missing.append((user, client is None or client.kind != "trust-config", choice.if_missing))
            if client is not None and trust is not None:
                entry.used_by.append(client.id)
                if client.kind != "trust-config" and all(known is not client for known in self.clients):
                    self.clients.append(client)
                trust = records.replace(trust, store=shown, store_id=entry.component.id)
        for path, what in choice.skipped:
            skipped, _ = self._entry(view, path, None)
            skipped.if_missing.append((user, True, what))
        fallbacks = []
        for path, when in choice.fallbacks:
            fallback, shown = self._entry(view, path, None)
            fallback.fallback_for.append(f"{user} ({when})")
            fallbacks.append(f"{shown} {when}")
        if client is not None and trust is not None:
            link_client(client, records.replace(trust, fallbacks=tuple(fallbacks)) if fallbacks else trust)

    def unlinked(self, client: Component, why: str) -> None:
        """A client that no store can be chosen for (its owner cannot be imported where it is): why, as its reason."""
        from auditor.facts.client_trust import ClientTrust

        link_client(client, records.replace(client.trust or ClientTrust(), reasons=(why,)))

    def add(self, view: StoreView, path: str, role: str, password: str | None = None) -> None:
        """A store to check that no client found here uses (one named on the command line)."""
        entry, _ = self._entry(view, path, password)
        entry.add_role(role)

    def _entry(self, view: StoreView, path: str, password: str | None) -> tuple[_Entry, str]:
        """The store at `path` (one entry per file, whatever link led to it) and the path as shown."""
        if not view.inside(path) and not view.image:
            view = self.host  # a store named by a setting lives on the system, outside the target
        shown = view.display(path)
        try:
            key = view.resolve(path)
        except FsError:
            key = path
        if key not in self.entries:
            identity = Component("trust-store", os.path.basename(shown.rstrip("/")) or shown, None, shown, SOURCE,
                                 self.target)
            self.entries[key] = _Entry(view, path, password, identity)
        entry = self.entries[key]
        entry.password = entry.password or password
        if shown not in entry.names:
            entry.names.append(shown)
        return entry, shown

    def components(self) -> list[Component]:
        """Read and check every store; the store components, each made once with its facts, in the order first seen."""
        return [records.replace(entry.component, facts=self._examine(entry)) for entry in self.entries.values()]

    def _examine(self, entry: _Entry) -> TrustStoreFacts:
        location = entry.component.location
        kind = entry.view.kind(entry.host)
        if kind is None:
            absent, link_target = _absence(entry)
            uses = tuple(MissingStoreUse(user, client, what.outcome, what.effect, what.detail)
                         for user, client, what in entry.if_missing)
            return TrustStoreFacts(entry.links(), self.as_of, STORE_MISSING, 0, (),
                                   _remedy(location, STORE_MISSING, entry.roles),
                                   problem=absent, link_target=link_target, if_missing=uses)
        store = read_store(entry.view, entry.host, entry.password)
        self.errors.extend(store.errors)
        distrusted = frozenset(self.distrust.anchors) if os_managed(location) else frozenset()
        key = (tuple(store.certificates), distrusted)
        if key not in self._checked:
            self._checked[key] = (check_store(store.certificates, self.anchors, self.as_of, distrusted),
                                  frozenset(hashlib.sha256(der).hexdigest() for der in store.certificates))
        result, self.fingerprints[entry.component.id] = self._checked[key]
        local: tuple[LocalCa, ...] = ()
        # A bundle, not the hashed directory beside it, which holds the same certificates (and the bundle itself); and
        # a JDK's cacerts, which keeps no record of its vendor's set but may hold the OS's additions (Debian's
        # ca-certificates-java copies them in), known by their fingerprints.
        if self.local is not None and store.format != "directory" and \
                any(role.startswith("OS ") or role == "Java cacerts" for role in entry.roles):
            from auditor.trust.local_cas import locally_added

            local = locally_added(self.local, store.certificates, debian_bundle=location.startswith("/etc/ssl/certs"))
        keystore = Keystore(store.keystore["integrity"], store.keystore["entries"]) if store.keystore else None
        problem: str | None = None
        if not store.certificates and store.errors:
            said = "; ".join(e.message for e in store.errors[:3])
            problem = f"could not be read: {said}" if store.unread else f"holds no usable certificate ({said})"
        return TrustStoreFacts(entry.links(), self.as_of, store.format, result.certificates, tuple(result.anchors),
                               _remedy(location, store.format, entry.roles), expired=tuple(result.expired),
                               distrusted=tuple(result.distrusted), impostors=tuple(result.impostors), keystore=keystore,
                               distrusted_by={name: self.distrust.anchors[name] for name in result.distrusted},
                               problem=problem, unparsable=result.unparsable, unread=store.unread and not store.certificates,
                               locally_added=local, sha256=store.sha256)


def link_client(client: Component, trust: ClientTrust) -> None:
    """Set a client's trust: the one place it changes. Its details keep their keys where they were first written (a
    client linked again in another context keeps its order), so its JSON is what it has always been."""
    object.__setattr__(client, "trust", trust)  # a link set by its owner, the trust stage, once the client is known
    client.details.update(trust.to_details())


def _absence(entry: _Entry) -> tuple[str, str | None]:
    """What is at a store's path that is not there: nothing, or a link to nothing (its target, as the second)."""
    link = entry.view.link_text(entry.host)
    if link is None:
        return "does not exist", None
    try:
        final = entry.view.display(entry.view.resolve(entry.host))
    except FsError:
        final = link
    return f"is a link to {link}" + (f" ({final})" if final != link else "") + ", which does not exist", link


def _remedy(path: str, store_format: str, roles: list[str]) -> str:
    """Which platform's remediation applies to a store (keys of the rule's remediation table)."""
    if store_format in ("jks", "jceks", "pkcs12") or "Java cacerts" in roles:
        return "java"
    if any(role.startswith(("named by", "custom")) or "override" in role for role in roles):
        return "custom"
    if path.startswith(("/etc/pki/tls", "/etc/pki/ca-trust", "/usr/share/pki")):
        return "rhel"
    if path.startswith(("/etc/ssl/certs", "/usr/share/ca-certificates", "/usr/local/share/ca-certificates")):
        return "debian"
    if path.startswith(("/etc/ssl/ca-bundle.pem", "/etc/pki/trust")):
        return "suse"
    if path == "/etc/ssl/cert.pem":
        return "macos-alpine"
    if "certifi" in roles:
        return "certifi"
    if any(role.endswith("bundle") for role in roles):
        return "sdk-bundle"
    return "default"
