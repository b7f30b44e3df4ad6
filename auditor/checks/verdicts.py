"""One answer per client to the question the user asked, "will it trust the ATS-served endpoint?", put together
from the report's facts and findings: the rule AWS documents (a release before the cutoff, a platform it does not
list), the store the client uses, a live probe of that store, the platform, and a proxy that intercepts TLS.

The answers (docs/judging.md says why each is given):
- no: something seen shows it fails: its store holds no ATS anchor, its store is missing and it has no fallback,
  a live handshake with its store failed, or a proxy intercepts TLS with a CA its store lacks;
- at risk: nothing seen shows it fails, but AWS's documented rule says upgrade (a release before the cutoff, an
  unsupported OS or Java), or certificate validation is off (it connects, and verifies nothing);
- cannot tell: no rule says upgrade, but its store could not be seen or read, or its version is not known;
- yes: its store holds a valid anchor (or a live handshake with it verified), validation is on, and no rule says
  upgrade.
A live probe of the client's own store overrides what its contents suggest. The findings stay the evidence: each
verdict names the ids of the findings its reasons rest on."""

from __future__ import annotations

from typing import Iterable, Optional

from auditor.checks.rule_pack import Pack, Rule
from auditor.facts.client_trust import ClientTrust
from auditor.facts.java import JavaFacts
from auditor.facts.manifest import ManifestFacts
from auditor.facts.operating_system import OsFacts
from auditor.facts.package import PackageFacts
from auditor.facts.probe import ProbeFacts
from auditor.facts.trust_store import TrustStoreFacts
from auditor.model import ClientVerdict, Component, Finding, Reason
from auditor.records import field, mutable_record

# The AWS SDK for Python and the AWS CLI: the Python packages that are clients of their own.
PYTHON_CLIENTS = frozenset({"boto", "boto3", "botocore", "awscli"})
# A finding another stage makes on a client: a proxy intercepts TLS with a CA the client's store lacks.
PROXY_RULE = "proxy-interception-ca-missing"
# The released-before check's titles for a release it cannot place (its version unknown, or not orderable).
_UNKNOWN_RELEASE = ("release date unknown", "(version unknown)")

_MISSING_OUTCOMES = ("fails", "falls back", "ignores")  # what a client does without its store, worst first
_TRUST_FROM = {"os": "the operating system's CA store", "jvm": "the JVM's trust store", "openssl": "OpenSSL's default CA store",
               "node": "the Node.js runtime's built-in roots", "bundled": "the CA bundle the SDK ships"}


@mutable_record
class _Case:
    """What is known of one client while it is judged: its reasons, and what each piece of evidence comes to."""

    reasons: list[Reason] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    fails: bool = False  # something seen shows it fails
    upgrade: bool = False  # AWS's documented rule says upgrade, or validation is off
    unknown: bool = False  # its version, or the rule's answer for it, is not known
    store_ok: bool = False  # its store (or a live handshake with it) vouches for the anchors: else it cannot be told

    def add(self, kind: str, text: str, findings: Iterable[Finding] = ()) -> None:
        self.reasons.append(Reason(kind, text))
        self.findings += [f.id for f in findings if f.id not in self.findings]

    @property
    def answer(self) -> str:
        if self.fails:
            return "no"
        if self.upgrade:
            return "at risk"
        if self.unknown or not self.store_ok:
            return "cannot tell"
        return "yes"


class _Book:
    """The report's components and findings, looked up by id."""

    def __init__(self, components: list[Component], findings: list[Finding], packs: list[Pack]) -> None:
        self.components = {c.id: c for c in components}
        self.on: dict[str, list[Finding]] = {}
        for finding in findings:
            self.on.setdefault(finding.component, []).append(finding)
        self.rules = {(p.id, r.id): r for p in packs for r in p.rules}
        self.probes: dict[str, list[tuple[Component, ProbeFacts]]] = {}
        for component in components:
            if component.kind == "probe":
                facts = component.facts_as(ProbeFacts)
                if facts.links is not None:
                    self.probes.setdefault(facts.links.trust_store_id, []).append((component, facts))

    def findings(self, component: Component, check: Optional[str] = None) -> list[tuple[Finding, Optional[Rule]]]:
        """The findings on a component, with their rules; only those of `check` when it is named."""
        found = [(f, self.rules.get((f.pack, f.rule))) for f in self.on.get(component.id, [])]
        return [(f, r) for f, r in found if check is None or (r is not None and r.check == check)]


def judge(components: list[Component], findings: list[Finding], packs: list[Pack]) -> list[ClientVerdict]:
    """A verdict for each client among the components: each Python SDK install Python would load (installed,
    vendored, carried by the AWS CLI, in an archive, the AWS CLI v2), each AWS SDK for Python a lockfile or a
    declaration requires, each JVM, each operating system (its TLS clients) and each file of another language's SDK."""
    book = _Book(components, findings, packs)
    verdicts = []
    for component in components:
        judged = _judge(component, book)
        if judged is not None:
            label, case = judged
            verdicts.append(ClientVerdict(component.id, label, case.answer, tuple(case.reasons), tuple(case.findings),
                                          component.host))
    return verdicts


def _judge(component: Component, book: _Book) -> Optional[tuple[str, _Case]]:
    if component.kind == "python-package" and component.name in PYTHON_CLIENTS:
        package = component.facts_as(PackageFacts)
        if package.requirement is not None:
            case = _judge_requirement(component, book)
            return (_requirement_label(component, package), case) if case.upgrade else None
        if not package.loaded:  # another install of it is the one that runs: that one is judged
            return None
        case = _Case()
        _release_rule(component, book, case)
        _store(component, book, case)
        return _install_label(component, package), _proxied(component, book, case)
    if component.kind in ("java", "os"):
        case = _Case()
        _platform(component, book, case)
        _store(component, book, case)
        return _platform_label(component), _proxied(component, book, case)
    if component.kind == "sdk-manifest":
        sdk = component.facts_as(ManifestFacts)
        if sdk.reported_with is not None:  # judged with the first of its file's group
            return None
        case = _Case()
        trust = component.client_trust()
        if trust is None or trust.store is None:
            case.add("store", f"it ships no certificates of its own: {_TRUST_FROM.get(sdk.trust_from, sdk.trust_from)} "
                              "decides, and none was read in this scan",
                     [f for f, _ in book.findings(component, "sdk-trust")])
        else:
            case.findings += [f.id for f, _ in book.findings(component, "sdk-trust")]
            _store(component, book, case, trust)
        return _sdk_label(component, sdk), _proxied(component, book, case)
    return None


def _judge_requirement(component: Component, book: _Book) -> _Case:
    """A requirement is not an install: the version rule is all it can be judged by, and the store it will use is
    decided where it is installed. Only a requirement the rule says to upgrade gets a verdict (`at risk`: whatever
    store it gets); the others keep their findings (an unpinned range) and leave the answer to the install."""
    case = _Case()
    _release_rule(component, book, case)
    case.add("store", "not installed here: the store it uses is decided where it is installed (scan that environment)")
    return case


def _release_rule(component: Component, book: _Book, case: _Case) -> None:
    before = book.findings(component, "released-before")
    for finding, _ in before:
        if any(text in finding.title for text in _UNKNOWN_RELEASE):
            case.unknown = True
        else:
            case.upgrade = True
        case.add("rule", finding.title, [finding])
    if before or component.version is None:
        if not before and component.facts_as(PackageFacts).requirement is None:
            case.unknown = True
            case.add("rule", f"no version could be read for this {component.name}")
        return
    cutoffs = sorted({r.cutoff for r in book.rules.values()
                      if r.check == "released-before" and r.cutoff and component.name in (r.applies_to or ())})
    if not cutoffs:
        return
    cutoff = cutoffs[-1]
    if component.released:
        case.add("rule", f"{component.name} {component.version} was released {component.released[:10]}, after the "
                         f"{cutoff} cutoff")
    elif component.released_after:
        case.add("rule", f"{component.name} {component.version} is newer than the release-date table of "
                         f"{component.released_after[:10]}, so released after the {cutoff} cutoff")


def _platform(component: Component, book: _Book, case: _Case) -> None:
    """The OS or Java matrices: a platform AWS does not document as trusting ATS is a rule that says upgrade; one it
    does not list leaves the answer to the store."""
    from auditor.checks.matrices import judge_java, judge_os
    from auditor.rule_data import data_file

    check = "os-matrix" if component.kind == "os" else "java-matrix"
    for finding, rule in book.findings(component, check):
        assert rule is not None and rule.matrix is not None
        matrix = data_file(rule.matrix)
        status = (judge_os(matrix, component) if component.kind == "os" else
                  judge_java(matrix[rule.table or ""], component)).status
        if status == "supported":
            case.add("platform", finding.title, [finding])
        elif status == "verify":
            case.add("platform", f"{finding.title}: its trust store decides", [finding])
        else:
            case.upgrade = True
            case.add("platform", finding.title, [finding])


def _store(client: Component, book: _Book, case: _Case, trust: Optional[ClientTrust] = None) -> None:
    """What the client's store comes to; a live probe of that store overrides it."""
    trust = trust or client.client_trust()
    if trust is None:
        case.add("store", "no trust store of this system was read" if client.kind == "os" else "no trust store was found for it")
        return
    if trust.validation is False:
        case.upgrade = True
        why = next((r for r in trust.reasons or () if "verif" in r or "validat" in r), _first(trust.reasons))
        case.add("store", "certificate validation is off: it connects, and verifies nothing" + (f" ({why})" if why else ""))
        return
    if trust.store is None or trust.store_id is None:
        case.add("store", _why_none(trust.reasons) or "no trust store was found for it")
        return
    store = book.components.get(trust.store_id)
    if store is None:
        case.add("store", f"its store {trust.store} is not in this report")
        return
    facts = store.facts_as(TrustStoreFacts)
    evidence = [f for f, _ in book.findings(store)]
    probes = book.probes.get(store.id, [])
    if facts.missing:
        uses = [use for use in facts.if_missing if use.client]
        mine = [use for use in uses if use.user.lower().startswith(f"{client.name} {client.version}".lower())] or uses
        use = min(mine, key=lambda u: _MISSING_OUTCOMES.index(u.outcome), default=None)
        state = f"its store {trust.store} {facts.problem or 'does not exist'}"
        if use is None or use.outcome == "fails":
            case.fails = True
            case.add("store", f"{state}: " + (use.effect if use else "every TLS connection fails"), evidence)
        else:
            case.add("store", f"{state}: {use.effect}", evidence)
    elif facts.unread:
        case.add("store", f"its store {trust.store} {facts.problem}", evidence)
    elif facts.anchors:
        case.store_ok = True
        case.add("store", f"its store {trust.store} holds {', '.join(facts.anchors)}", evidence)
    else:
        case.fails = True
        notes = [f"{name} expired" for name in facts.expired] + [f"{name} distrusted" for name in facts.distrusted]
        case.add("store", f"its store {trust.store} holds none of the ATS anchors ({facts.certificates} certificates read"
                          + "".join(f"; {note}" for note in notes) + ")", evidence)
    _probed(probes, book, case)


def _first(reasons: Optional[tuple[str, ...]]) -> Optional[str]:
    """The reason that chose the store (the ones after it say what else is set)."""
    return reasons[0] if reasons else None


def _why_none(reasons: Optional[tuple[str, ...]]) -> Optional[str]:
    """Why no store can be checked: the reason that chose it, and the last word on it (a relative path …), but not
    what else is set and not read."""
    said = [r for r in reasons or () if "also set" not in r and "but not read" not in r]
    return "; ".join(dict.fromkeys([said[0], said[-1]])) if said else _first(reasons)


def _probed(probes: list[tuple[Component, ProbeFacts]], book: _Book, case: _Case) -> None:
    """A live handshake with the client's own store: a failure is a `no`, a pass vouches for the store, whatever
    its contents suggested; a probe that could not be tried changes nothing."""
    tried = [(c, p) for c, p in probes if p.outcome in ("pass", "fail")]
    for component, probe in probes:
        evidence = [f for f, _ in book.findings(component)]
        if probe.outcome == "fail":
            case.add("verification", f"a live handshake with {probe.endpoint} using this store failed: "
                                     f"{probe.problem or probe.failure}", evidence)
        elif probe.outcome == "pass":
            case.add("verification", f"a live handshake with {probe.endpoint} verified with this store", evidence)
        else:
            case.add("verification", f"a live handshake with {probe.endpoint} could not be tried: "
                                     f"{probe.problem or probe.failure}", evidence)
    if not tried:
        return
    if any(p.outcome == "fail" for _, p in tried):
        case.fails, case.store_ok = True, False
    else:
        case.fails, case.store_ok = False, True


def _proxied(component: Component, book: _Book, case: _Case) -> _Case:
    for finding in book.on.get(component.id, []):
        if finding.rule == PROXY_RULE:
            case.fails = True
            case.add("proxy", finding.title, [finding])
    return case


def _install_label(component: Component, package: PackageFacts) -> str:
    if package.distribution and component.name == "awscli":
        what = f"AWS CLI v2 {component.version or '(version unknown)'}"
    else:
        what = f"{component.name} {component.version or '(version unknown)'}"
    if package.carried_by:
        what += f" carried by {package.carried_by}"
    where = package.on_path.entry if package.on_path is not None else component.location
    return f"{what} in {where}"


def _requirement_label(component: Component, package: PackageFacts) -> str:
    requirement = package.requirement
    assert requirement is not None
    what = component.version or requirement.specifier or "(any release)"
    verb = "pinned in" if requirement.pinned else "required by"
    return f"{component.name} {what} {verb} {component.location}" + (f":{component.line}" if component.line else "")


def _platform_label(component: Component) -> str:
    version = component.version or "(version unknown)"
    if component.kind == "os":
        facts = component.facts_as(OsFacts)
        name = facts.pretty_name or facts.name or component.name
        return f"{name if version in name else f'{name}, {version}'}: the system's TLS clients"
    vendor = component.facts_as(JavaFacts).vendor
    return f"Java {version}" + (f" ({vendor})" if vendor else "") + f" at {component.location}"


def _sdk_label(component: Component, sdk: ManifestFacts) -> str:
    what = f"{component.name} {component.version or sdk.constraint or ''}".strip()
    more = len(sdk.same_file_packages)
    return f"{sdk.sdk} ({what}{f' and {more} more' if more else ''}) in {component.location}"
