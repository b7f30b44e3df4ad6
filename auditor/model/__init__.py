"""The report model: components (what was found), findings (what is risky), errors."""

from __future__ import annotations

import functools
import hashlib
import os
import time

from auditor import records
from auditor.facts import CLIENT_TRUST_KEYS
from auditor.records import field, mutable_record, record

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import Any, Optional, TypeVar, Union
    from auditor.facts import F, Facts
    from auditor.facts.client_trust import ClientTrust
    from auditor.model.verdicts import ClientVerdict as ClientVerdict, Reason as Reason, Verdict as Verdict
else:
    def __getattr__(name: str) -> Any:
        """The records of auditor.model.verdicts, defined when first asked for (`from auditor.model import
        ClientVerdict`): a store's report has no verdict. Hidden from mypy, which then checks every name imported
        from here as it would without this."""
        if name in ("ClientVerdict", "Reason", "Verdict"):
            from auditor.model import verdicts

            return getattr(verdicts, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SCHEMA_VERSION = "1.3"
# 1.1 added `rules`, the text of each rule with findings (optional): a 1.0 report is a valid 1.1 one, and still read.
# 1.2 added `verdicts`, one answer per client, and their counts in the summary: an older report reads with none.
# 1.3 added kinds (target sbom, component db-ca-bundle, effect db-ca-file) and typed details: an older report has none.
# tests/test_schema_version.py fails when report.schema.json changes and this version does not.
READABLE_SCHEMA_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
ANSWERS = ("no", "at risk", "cannot tell", "yes")  # a client's verdict, worst first
REASON_KINDS = ("rule", "store", "verification", "platform", "proxy")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def severity_rank(severity: str) -> int:
    """0 for critical … 4 for info; lower is worse."""
    return SEVERITIES.index(severity)


def host_name() -> str:
    """platform.node(), which on POSIX is os.uname()'s node name: importing platform costs a few milliseconds of
    a short command's start-up (auditor truststore)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import platform

    return platform.node()


def short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def component_id(kind: str, name: str, version: Optional[str], location: str, line: Optional[int], source: str,
                 host: Optional[str]) -> str:
    """A component's id from its fields (Component.id; a saved report's components are checked against it)."""
    # The location as reports show it, so a saved report's ids still match.
    where = (_shown_location(location), str(line or ""), source) + ((host,) if host else ())
    return f"{kind}:{name}@{version or '?'}:{short_hash(*where)}"


def component_ids(kind: str, name: str, version: Optional[str], location: str, line: Optional[int], source: str,
                  host: Optional[str], new_host: str) -> tuple[str, str]:
    """component_id(…, host), and the id the component gets in a merge: with `new_host` where `host` is None (the same
    id where it is not). The two share the hash of the fields before the host, computed once."""
    where = "\x1f".join((_shown_location(location), str(line or ""), source) + ((host,) if host else ()))
    digest = hashlib.sha256(where.encode("utf-8", "surrogateescape"))
    start = f"{kind}:{name}@{version or '?'}:"
    checked = start + digest.hexdigest()[:12]
    if host:
        return checked, checked
    digest.update(("\x1f" + new_host).encode("utf-8", "surrogateescape"))
    return checked, start + digest.hexdigest()[:12]


@functools.lru_cache(maxsize=2048)  # a merge checks each id, then makes it again with the host
def _shown_location(location: str) -> str:
    from auditor.redact import redact

    return redact(location)


def finding_id(rule: str, component: str) -> str:
    """A finding's id from its rule and its component's id (Finding.id)."""
    return f"{rule}:{short_hash(rule, component)}"


@record
class Target:
    """What a scan was pointed at (or found to scan): a machine, an image, a tree, a lockfile, a store."""

    kind: str  # machine | image | environment | lockfile | tree | unreadable (named, but could not be read) …
    location: str
    details: dict = field(default_factory=dict)
    host: Optional[str] = None  # set in a report merged from several hosts' reports


@record
class Component:
    """A thing found: a package, a trust store, a setting, the OS, a JVM …, with its typed facts and their JSON details."""

    kind: str  # python-package, later trust-store, os, java …
    name: str
    version: Optional[str]
    location: str
    source: str  # how it was found: "dist-info METADATA", "poetry.lock", …
    target: str
    released: Optional[str] = None  # first PyPI upload, UTC ISO 8601
    # A version newer than every release of the release-date table: released after the table's date (its fetched_at).
    released_after: Optional[str] = None
    line: Optional[int] = None
    details: dict = field(default_factory=dict)
    host: Optional[str] = None  # set in a report merged from several hosts' reports: ids stay unique across hosts
    # The typed facts of a converted kind (auditor/facts/): its `details` are produced from them when it is made.
    facts: Optional[Facts] = field(default=None, compare=False, repr=False)
    # The store a client uses, as the trust stage linked it (auditor.trust.stores.link_client); its keys are in `details`.
    trust: Optional[ClientTrust] = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.facts is not None and not self.details:
            object.__setattr__(self, "details", self.facts.to_details())

    def facts_as(self, kind: type[F]) -> F:
        """The component's facts as `kind`: the typed ones it was made with, or read back from its details
        (a component of a saved report)."""
        if isinstance(self.facts, kind):
            return self.facts
        facts = kind.from_details(self.details)
        assert isinstance(facts, kind)
        return facts

    def client_trust(self) -> ClientTrust | None:
        """The store the component uses as a client: the typed link, or read back from its details (a component of a
        saved report); None when it was not linked to any."""
        if self.trust is not None:
            return self.trust
        if self.details.keys().isdisjoint(CLIENT_TRUST_KEYS):
            return None
        from auditor.facts.client_trust import ClientTrust

        return ClientTrust.from_details(self.details)

    @functools.cached_property  # a hash of its fields, which never change: renderers ask for it again and again
    def id(self) -> str:
        return component_id(self.kind, self.name, self.version, self.location, self.line, self.source, self.host)


@record
class Evidence:
    """Why a finding was made: what the rule's source documents, or what the scan observed."""

    type: str  # "documented" (what the rule source says) or "observed" (what the scan saw)
    summary: str
    source: Optional[str] = None  # URL of a documented fact, or path of an observation
    line: Optional[int] = None


@record
class Finding:
    """A rule's judgement of one component: its severity, title, evidence and remedy."""

    rule: str
    pack: str
    severity: str
    component: str  # a component id
    title: str
    evidence: tuple[Evidence, ...]
    remediation: str
    references: tuple[str, ...]
    waived: bool = False  # an active waiver covers it: it stays in the report, and --fail-on ignores it
    # The waiver that matched, active or expired: status, reason, owner, expires (YYYY-MM-DD), file, line.
    waiver: Optional[dict] = None

    @functools.cached_property
    def id(self) -> str:
        return finding_id(self.rule, self.component)


@record
class RuleText:
    """What a report says about a rule of its packs: written when the report is made, so that a saved report
    renders with its own text wherever it is rendered (renderers never read the installed packs)."""

    pack: str
    id: str
    severity: str  # the rule's severity (for a rule with outcomes, its worst one's)
    title: str  # with its placeholders named: "<name> <version> was released before 2013-10-29 …"
    documented: str
    remediation: Union[str, dict[str, str]]  # one text, or texts keyed by package, platform or outcome
    references: tuple[str, ...]


@record
class ScanError:
    """A part of a target that could not be scanned, and why."""

    location: str
    message: str
    target: Optional[str] = None
    host: Optional[str] = None  # set in a report merged from several hosts' reports


@mutable_record
class Report:
    """Everything one run found and judged, as the JSON report publishes it (to_dict; from_dict reads one back)."""

    tool_version: str
    generated_at: str
    as_of: str
    packs: list[dict]
    targets: list[Target] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    fail_on: str = "high"
    run: dict = field(default_factory=dict)  # where and how the report was made: host, command (redacted)
    rules: list[RuleText] = field(default_factory=list)  # the text of its packs' rules; the JSON keeps those with findings
    verdicts: list[ClientVerdict] = field(default_factory=list)  # one per client; none in a report older than 1.2

    @classmethod
    def start(cls, packs: list, fail_on: str, as_of: str) -> "Report":
        """An empty report stamped now; `as_of` (YYYY-MM-DD) defaults to today, UTC."""
        from auditor.version import __version__

        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # not datetime: a short command's start-up pays for it
        return cls(__version__, now, as_of or now[:10], [p.describe() for p in packs], fail_on=fail_on,
                   run={"host": host_name() or "localhost"}, rules=[t for p in packs for t in p.rule_texts()])

    def add_rules(self, texts: list[RuleText]) -> None:
        """The text of more rules (a pack applied later: waivers), unless the report has a rule's text already."""
        known = {(t.pack, t.id) for t in self.rules}
        self.rules.extend(t for t in texts if (t.pack, t.id) not in known)

    def used_rules(self) -> list[RuleText]:
        """The text of each rule with a finding in the report, once."""
        used, seen, texts = {(f.pack, f.rule) for f in self.findings}, set(), []
        for text in self.rules:
            if (text.pack, text.id) in used and (text.pack, text.id) not in seen:
                seen.add((text.pack, text.id))
                texts.append(text)
        return texts

    def sort(self) -> None:
        """Deterministic order: the same input always gives the same report."""
        self.targets.sort(key=lambda t: (t.location, t.kind))
        self.components.sort(key=lambda c: (c.location, c.line or 0, c.name, c.version or "", c.source))
        self.findings.sort(key=lambda f: (severity_rank(f.severity), f.component, f.rule))
        self.errors.sort(key=lambda e: (e.location, e.message))
        self.verdicts.sort(key=lambda v: (ANSWERS.index(v.answer), v.label, v.client))

    def failing(self) -> list[Finding]:
        limit = severity_rank(self.fail_on)
        return [f for f in self.findings if not f.waived and severity_rank(f.severity) <= limit]

    def not_scanned(self) -> int:
        """Parts of the targets that could not be scanned: each error entry is one, and so is a target not read."""
        return len(self.errors)

    def unread_targets(self) -> list[Target]:
        """Targets named on the command line that could not be read at all."""
        return [t for t in self.targets if t.kind == "unreadable"]

    def counts(self) -> dict[str, int]:
        counts = {severity: 0 for severity in SEVERITIES}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def answer_counts(self) -> dict[str, int]:
        """Verdicts per answer, worst first."""
        counts = {answer: 0 for answer in ANSWERS}
        for verdict in self.verdicts:
            counts[verdict.answer] += 1
        return counts

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        """The inverse of to_dict, for a saved JSON report (already checked against the schema)."""
        return cls(data["tool"]["version"], data["generated_at"], data["as_of"], data["rule_packs"],
                   targets=[target_from_dict(t) for t in data["targets"]],
                   components=[component_from_dict(c) for c in data["components"]],
                   findings=[finding_from_dict(f) for f in data["findings"]],
                   errors=[error_from_dict(e) for e in data["errors"]],
                   fail_on=data["fail_on"], run=data.get("run", {}),
                   rules=[RuleText(**dict(r, references=tuple(r["references"]))) for r in data.get("rules", [])],
                   verdicts=[verdict_from_dict(v) for v in data.get("verdicts", [])])

    def to_dict(self) -> dict[str, Any]:
        texts = self.used_rules()
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "auditor", "version": self.tool_version},
            "generated_at": self.generated_at,
            "as_of": self.as_of,
            "rule_packs": self.packs,
            **({"rules": [_clean(records.asdict(t)) for t in texts]} if texts else {}),  # absent in older reports
            "fail_on": self.fail_on,
            "run": self.run,
            "summary": {"findings": self.counts(), "failing": len(self.failing()), "not_scanned": self.not_scanned(),
                        "verdicts": self.answer_counts()},
            "verdicts": [_verdict_dict(v) for v in self.verdicts],
            "targets": [_clean(records.asdict(t)) for t in self.targets],
            "components": [_component_dict(c) for c in self.components],
            "findings": [_finding_dict(f) for f in self.findings],
            "errors": [_clean(records.asdict(e)) for e in self.errors],
        }


def _component_dict(component: Component) -> dict[str, Any]:
    data = records.asdict(records.replace(component, facts=None, trust=None))  # both are in its details already
    del data["facts"], data["trust"]
    return dict(id=component.id, **_clean(data, keep=("version",)))


if TYPE_CHECKING:
    _Item = TypeVar("_Item")


# The model of one item of a saved report's section (its dict checked against the schema).

def target_from_dict(data: dict[str, Any]) -> Target:
    return Target(**data)


def component_from_dict(data: dict[str, Any], id_checked: bool = False) -> Component:
    """`id_checked`: data's id is the one its fields make (checked, or made by this process), and is taken as it is
    rather than hashed again; data is then a record of checked data (see _checked)."""
    if id_checked:
        return _checked(Component, data)  # its id, the cached_property's value, among the others
    fields = dict(data)
    fields.pop("id", None)
    return Component(**fields)


def finding_from_dict(data: dict[str, Any], id_checked: bool = False) -> Finding:
    evidence = tuple(_checked(Evidence, e) if id_checked else Evidence(**e) for e in data["evidence"])
    if id_checked:
        return _checked(Finding, data, evidence=evidence, references=tuple(data["references"]))
    fields = dict(data)
    fields.pop("id", None)
    fields["evidence"] = evidence
    fields["references"] = tuple(data["references"])
    return Finding(**fields)


_DEFAULTS: dict[type, tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}


def _checked(kind: type[_Item], record: dict[str, Any], **values: Any) -> _Item:
    """An item of a frozen record class from a saved item that the schema checked and saved_record wrote (each key a field,
    each required field there) and `values` over it: its fields set in its __dict__ at once, where __init__ sets them
    one by one through object.__setattr__, which took a third of the time of reading a merged report back."""
    defaults = _DEFAULTS.get(kind)
    if defaults is None:
        fields = records.fields(kind)
        defaults = _DEFAULTS[kind] = (
            {f.name: f.default for f in fields if f.default is not records.MISSING},
            tuple((f.name, f.default_factory) for f in fields if f.default_factory is not records.MISSING))
    item = object.__new__(kind)
    state = item.__dict__
    state.update(defaults[0])
    for name, factory in defaults[1]:
        state[name] = factory()
    state.update(record)
    if values:
        state.update(values)
    return item


def error_from_dict(data: dict[str, Any]) -> ScanError:
    return ScanError(**data)


def verdict_from_dict(data: dict[str, Any]) -> ClientVerdict:
    from auditor.model.verdicts import ClientVerdict, Reason

    return ClientVerdict(data["client"], data["label"], data["answer"], tuple(Reason(**r) for r in data["reasons"]),
                         tuple(data.get("findings", ())), data.get("host"))


def _names(kind: type, first: tuple[str, ...] = (), leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    return first + tuple(f.name for f in records.fields(kind) if f.name not in leave_out)


# The keys to_dict writes for each section's items, in its order (those of verdicts and their reasons added when first
# needed: see _keys).
_RECORD_KEYS = {"targets": _names(Target), "components": _names(Component, ("id",), ("facts", "trust")),
                "findings": _names(Finding, ("id",)), "errors": _names(ScanError), "rules": _names(RuleText),
                "evidence": _names(Evidence)}


def _keys(section: str) -> tuple[str, ...]:
    keys = _RECORD_KEYS.get(section)
    if keys is None:
        from auditor.model.verdicts import ClientVerdict, Reason

        _RECORD_KEYS.update(verdicts=_names(ClientVerdict), reasons=_names(Reason))
        keys = _RECORD_KEYS[section]
    return keys


def saved_record(section: str, data: dict[str, Any], copy: bool = True) -> dict[str, Any]:
    """An item of a saved report's section (checked against the schema) as to_dict writes the model made of it: its
    keys in the model's order, empty optional ones left out; for passing items on without making the model. A new
    dict (its evidence and reasons may be those of `data`); without `copy`, `data` itself where it is so already, and
    so are its evidence and reasons."""
    record = _record(section, data, copy=copy)
    if section == "findings":
        record["evidence"] = [_record("evidence", e, copy=copy) for e in record["evidence"]]
    elif section == "verdicts":
        record["reasons"] = [_record("reasons", r, copy=copy) for r in record["reasons"]]
    return record


_IN_ORDER: dict[tuple[str, tuple[str, ...]], bool] = {}  # whether the keys are in the model's order, per key tuple
# The members of each section's items that the schema lets be an empty object, which to_dict leaves out. The schema
# lets no other member be empty that to_dict would leave out (a waiver has required fields), and none be null but a
# component's version (which to_dict writes): after the schema check, these are all that can make an item whose keys
# are in the model's order differ from what to_dict writes.
_OBJECTS = {"targets": ("details",), "components": ("details",), "rules": ("remediation",)}
_NO_OBJECTS: tuple[str, ...] = ()


def _record(section: str, data: dict[str, Any], copy: bool = False) -> dict[str, Any]:
    keys = tuple(data)
    in_order = _IN_ORDER.get((section, keys))
    if in_order is None:
        model = [key for key in _keys(section) if key in data]
        in_order = list(keys) == model
        if len(_IN_ORDER) < 1024:
            _IN_ORDER[section, keys] = in_order
    if in_order:
        for name in _OBJECTS.get(section, _NO_OBJECTS):
            if data.get(name) == {}:
                break
        else:  # as the auditor writes them: taken as they are
            return dict(data) if copy else data
    keep = section == "components"  # a component's version is written when null
    return {key: data[key] for key in _keys(section)
            if key in data and ((keep and key == "version") or (data[key] is not None and data[key] != {}))}


def _verdict_dict(verdict: ClientVerdict) -> dict[str, Any]:
    data = _clean(records.asdict(verdict))
    data["reasons"] = [dict(r) for r in data["reasons"]]
    return data


def _finding_dict(finding: Finding) -> dict[str, Any]:
    data = _clean(records.asdict(finding))
    data["evidence"] = [_clean(e) for e in data["evidence"]]
    return dict(id=finding.id, **data)


def _clean(data: dict, keep: tuple[str, ...] = ()) -> dict:
    """Drop empty optional fields so the JSON stays readable; `keep` names fields always present."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items() if k in keep or (v is not None and v != {})}
