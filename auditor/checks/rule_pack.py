"""The rule pack format (rules/packs/*.toml): what a pack may say, checked when it is loaded.

A pack is a `[pack]` table and `[[rules]]` tables. Every key, check, severity and type is known here: anything
else is an error that names the pack file and line, never a rule that silently does less than it says (a
misspelt `*_severity` key used to be ignored). The TOML parser gives no positions, so the line is found in the text:
the key's own line, else the header of the table it belongs to.
"""

from __future__ import annotations

import hashlib
import os
import re

from auditor.model import SEVERITIES, RuleText
from auditor.records import field, record
from auditor.rule_data import parsed_toml


class RulesError(Exception):
    """A rule pack that cannot be used (the message names the file and line), or a pack asked for that is not there."""


TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:  # annotations only: building these at run time costs start-up time
    from typing import Any, Callable, Literal, Mapping, Optional, Union, overload
    Text = Union[str, Mapping[str, str]]  # one text, or a table of texts keyed by outcome, package, platform …
    # The text parameters a check requires (Check.required): set on every rule of that check once it is loaded.
    Parameter = Literal["cutoff", "minimum", "capability", "effect", "matrix", "table", "status", "cas"]

PACK_KEYS = {"id": "the pack's name, as --pack selects it", "title": "what it audits", "version": "its version",
             "default": "applied when no --pack is given (true/false)", "source": "the document its rules restate"}
PACK_REQUIRED = ("id", "title", "version")

# The component kinds a rule can judge (the report schema's component kinds).
COMPONENT_KINDS = ("python-package", "trust-store", "trust-config", "os", "java", "openssl", "sdk-manifest", "probe",
                   "waiver", "db-ca-bundle")
# Not a kind of its own: a rule of this component_kind judges every component the store book linked as a client
# (a package, the AWS CLI v2, a JVM, the OS), whatever its kind.
CLIENT = "client"

# Keys every rule may have; the first six it must have.
COMMON_KEYS = {
    "id": "the rule's name, unique in its pack",
    "check": "which check judges it (one of CHECKS)",
    "severity": "the severity of its finding (for a check with outcomes, of the worst one)",
    "title": "the finding's title, with {placeholders}; a table keyed by outcome for checks that have outcomes",
    "documented": "what the source documents: the finding's documented evidence",
    "remediation": "what to do: one text, or a table keyed by package, platform or outcome (\"default\" for the rest)",
    "references": "addresses of the sources",
    "component_kind": "the kind of component it judges (default python-package)",
    "applies_to": "the component names it judges (default: all of its kind)",
}
COMMON_REQUIRED = ("id", "check", "severity", "title", "documented", "remediation", "references")


@record
class Check:
    """What a check reads from its rules: its own parameters, and the `<status>_severity` keys it knows, each
    with its meaning. `outcomes`: the keys its `title` table must have (None: a plain title); `remedies` the
    keys its remediation table must have, when it is keyed by outcome."""

    required: Mapping[str, str] = field(default_factory=dict)  # parameter -> its type ("text", "texts", "table", "date")
    optional: Mapping[str, str] = field(default_factory=dict)
    severities: Mapping[str, str] = field(default_factory=dict)  # status -> meaning of `<status>_severity`
    required_severities: tuple[str, ...] = ()
    outcomes: Optional[tuple[str, ...]] = None
    outcome_remedies: bool = False  # the remediation table is keyed by the same outcomes
    status_outcomes: bool = False  # each status with a `<status>_severity` is an outcome too (the matrices)


_MATRIX_STATUSES = {"verify": "the matrix cannot decide (a condition not visible in files, an unknown version)",
                    "supported": "the matrix documents it as supported (no finding without it)"}

CHECKS: dict[str, Check] = {
    "released-before": Check(
        required={"cutoff": "date"},
        severities={"shadowed": "a release before the cutoff that Python does not import first (another install wins)",
                    "unknown": "no version could be read, or a release the date table does not know and cannot order "
                               "(default medium)"}),
    "unpinned": Check(required={"cutoff": "date"}),
    "store-without-anchor": Check(
        severities={"fallback": "a store no client uses today, only the one it would fall back to",
                    "supplement": "a store a client only adds to its built-in roots (NODE_EXTRA_CA_CERTS)"}),
    "store-missing": Check(
        severities={"unused": "only a setting names it (its readers would fail), or nothing uses it",
                    "falls_back": "its client uses another store instead",
                    "ignored": "its client goes on without it",
                    "fallback": "it is only a client's fallback today"},
        required_severities=("unused", "falls_back", "ignored", "fallback")),
    "store-with-anchor": Check(),
    "store-impostor": Check(),
    "trust-override": Check(
        required={"effect": "text", "found_in": "texts"},
        # unread_title: the title of a CA variable no AWS client found reads; os_store_remediation: the remediation of a
        # setting that names the operating system's own bundle.
        optional={"observed": "text", "unread_title": "text", "os_store_remediation": "text"},
        severities={"os_store": "the setting names the operating system's own bundle",
                    "unread": "a CA variable that no AWS client the scan found reads"}),
    "openssl-before": Check(required={"minimum": "text"}),
    "capability-missing": Check(required={"capability": "text"}),
    "os-matrix": Check(required={"matrix": "text"}, severities=_MATRIX_STATUSES,
                       outcomes=("unsupported",), outcome_remedies=True, status_outcomes=True),
    "java-matrix": Check(required={"matrix": "text", "table": "text"},
                         severities=dict(_MATRIX_STATUSES, off_by_default="the JVM has it, but its clients do not use it "
                                                                         "unless the application enables it"),
                         outcomes=("unsupported",), outcome_remedies=True, status_outcomes=True),
    "probe": Check(severities={"error": "the store could not be tried (network, proxy, TLS version)",
                               "pass": "the store verified the endpoint"},
                   required_severities=("error", "pass"), outcomes=("pass", "fail", "error")),
    "sdk-trust": Check(
        required={"trust_from": "texts", "stores": "table"}, optional={"versions": "text", "advice": "table"},
        severities={"trusted": "its linked store holds an ATS anchor", "untrusted": "its linked store holds none"},
        required_severities=("trusted", "untrusted"), outcomes=("unlinked", "trusted", "untrusted"), outcome_remedies=True),
    "waiver": Check(required={"status": "text"}),
    "proxy-interception": Check(),
    "store-locally-added": Check(),
    # A database CA bundle (auditor.trust.db_bundles) that holds CAs of `old_cas` and none of `new_cas`, ids of the
    # CA table `cas` (a TOML file in rules/).
    "bundle-lacks-ca": Check(required={"cas": "text", "old_cas": "texts", "new_cas": "texts"}),
    # A setting of effect `effect` whose file's name contains one of `names` (case ignored).
    "setting-names-file": Check(required={"effect": "text", "names": "texts"}),
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RULES_HEADER = re.compile(r"\s*\[\[\s*rules\s*\]\]\s*(#.*)?$")
_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "text": ("a string", lambda v: isinstance(v, str)),
    "date": ("a date written as a string, like \"2013-10-29\"", lambda v: isinstance(v, str) and bool(_DATE.fullmatch(v))),
    "texts": ("an array of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "table": ("a table of strings", lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values())),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
}
_COMMON_TYPES = {"id": "text", "check": "text", "documented": "text", "references": "texts", "component_kind": "text",
                 "applies_to": "texts"}


@record
class Rule:
    """One `[[rules]]` table, checked: the check's parameters are set when the check requires them."""

    id: str
    check: str
    severity: str
    title: Text
    documented: str
    remediation: Text
    references: tuple[str, ...]
    line: int  # of its [[rules]] header in the pack file
    component_kind: str = "python-package"
    applies_to: Optional[tuple[str, ...]] = None
    severities: Mapping[str, str] = field(default_factory=dict)  # status -> severity, from the `<status>_severity` keys
    cutoff: Optional[str] = None
    minimum: Optional[str] = None
    capability: Optional[str] = None
    effect: Optional[str] = None
    found_in: tuple[str, ...] = ()
    observed: Optional[str] = None
    unread_title: Optional[str] = None
    os_store_remediation: Optional[str] = None
    matrix: Optional[str] = None
    table: Optional[str] = None
    status: Optional[str] = None
    trust_from: tuple[str, ...] = ()
    versions: Optional[str] = None
    stores: Mapping[str, str] = field(default_factory=dict)
    advice: Mapping[str, str] = field(default_factory=dict)
    cas: Optional[str] = None
    old_cas: tuple[str, ...] = ()
    new_cas: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    if TYPE_CHECKING:
        @overload
        def severity_of(self, status: str) -> Optional[str]: ...

        @overload
        def severity_of(self, status: str, default: str) -> str: ...

    def severity_of(self, status: str, default: Optional[str] = None) -> Optional[str]:
        """The `<status>_severity` of the rule, else `default`."""
        return self.severities.get(status, default)

    def required(self, parameter: Parameter) -> str:
        """A text parameter the rule's check requires; load_pack refuses a rule of that check without it, so a rule
        without it was made some other way."""
        value = getattr(self, parameter)
        if not isinstance(value, str):
            raise RulesError(f"rule {self.id!r}: its check {self.check!r} needs {parameter}, which it does not have")
        return value

    def plain_title(self) -> str:
        """The title of a rule whose check has no outcomes: load_pack requires it to be one text."""
        if not isinstance(self.title, str):
            raise RulesError(f"rule {self.id!r}: its check {self.check!r} needs one title, not a table")
        return self.title

    def title_for(self, outcome: str) -> str:
        """The title of an outcome, for a check with outcomes: load_pack requires a table with every outcome's."""
        return self._keyed("title", self.title)[outcome]

    def remediation_for(self, outcome: str) -> str:
        """The remediation of an outcome, for a check whose remediation is keyed by outcome (load_pack requires a
        table with every outcome's)."""
        return self._keyed("remediation", self.remediation)[outcome]

    def _keyed(self, key: str, text: Text) -> Mapping[str, str]:
        if isinstance(text, str):
            raise RulesError(f"rule {self.id!r}: its check {self.check!r} needs a {key} table keyed by outcome")
        return text

    def summary(self) -> str:
        """The title with its placeholders named and its fixed parameters filled in:
        "<name> <version> was released before 2013-10-29 …" (for a title keyed by outcome, the failing one)."""
        title = self.title
        if not isinstance(title, str):
            title = title.get("unsupported") or title.get("fail") or next(iter(title.values()))
        fixed = {key: value for key, value in (("cutoff", self.cutoff), ("minimum", self.minimum)) if value}
        return re.sub(r"\{(\w+)\}", lambda m: fixed.get(m.group(1), f"<{m.group(1)}>"), title)

    def text(self, pack: str) -> RuleText:
        """What a report carries about the rule, so that it renders without the installed packs."""
        remediation = self.remediation if isinstance(self.remediation, str) else dict(self.remediation)
        return RuleText(pack, self.id, self.severity, self.summary(), self.documented, remediation, self.references)


@record
class Pack:
    """A rule pack as loaded and checked: its [pack] table, its rules, and the SHA-256 of its file."""

    id: str
    title: str
    version: str
    default: bool
    source: str
    rules: tuple[Rule, ...]
    sha256: str

    def describe(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "title": self.title, "sha256": self.sha256}

    def shown(self) -> dict[str, Any]:
        """What `auditor rules show` prints: the pack and each rule with what it rests on and its sources (a title
        keyed by outcome is shown with its placeholders named, as reports summarise it)."""
        return {"id": self.id, "title": self.title, "version": self.version, "default": self.default,
                "source": self.source, "sha256": self.sha256,
                "rules": [{"id": rule.id, "check": rule.check, "severity": rule.severity,
                           "component_kind": rule.component_kind, "title": rule.summary(), "documented": rule.documented,
                           "references": list(rule.references)} for rule in self.rules]}

    def rule_texts(self) -> list[RuleText]:
        return [rule.text(self.id) for rule in self.rules]


def load_pack(path: str | os.PathLike[str]) -> Pack:
    """The pack in the file, checked; RulesError naming the file and line for anything the format does not allow."""
    with open(path, "rb") as file:
        raw = file.read()
    try:
        data = parsed_toml(raw)
    except UnicodeDecodeError as exc:
        raise RulesError(f"rule pack {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:  # tomli's TOMLDecodeError
        raise RulesError(f"rule pack {path}: not valid TOML: {exc}") from exc
    return _Reader(path, raw.decode("utf-8").splitlines()).pack(data, hashlib.sha256(raw).hexdigest())


class _Reader:
    def __init__(self, path: str | os.PathLike[str], lines: list[str]):
        self.path, self.lines = path, lines

    def fail(self, line: Optional[int], message: str) -> RulesError:
        return RulesError(f"rule pack {self.path}{'' if line is None else f':{line + 1}'}: {message}")

    def key_line(self, key: str, start: int = 0, end: Optional[int] = None) -> Optional[int]:
        """The first line of [start, end) that sets the key (`key =`, `key.sub =`) or opens its table (`[x.key]`)."""
        name = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
        pattern = re.compile(rf"\s*(?:{name}\s*[=.]|\[+\s*(?:[\w\"'-]+\s*\.\s*)*{name}\s*[\].])")
        return next((n for n in range(start, len(self.lines) if end is None else end) if pattern.match(self.lines[n])), None)

    def pack(self, data: dict[str, Any], sha256: str) -> Pack:
        for key in data:
            if key not in ("pack", "rules"):
                raise self.fail(self.key_line(key), f"unknown key {key!r}: a pack holds a [pack] table and [[rules]] tables")
        if not isinstance(data.get("pack"), dict):
            raise self.fail(self.key_line("pack"), "no [pack] table (id, title, version)")
        start = self.key_line("pack") or 0
        end = next((n for n in range(start + 1, len(self.lines)) if self.lines[n].lstrip().startswith("[")), len(self.lines))
        meta = self.table(data["pack"], PACK_KEYS, PACK_REQUIRED, "[pack]", start, end,
                          {"id": "text", "title": "text", "version": "text", "default": "bool", "source": "text"})
        entries = data.get("rules")
        headers = [n for n, line in enumerate(self.lines) if "[[" in line and _RULES_HEADER.match(line)]
        if not isinstance(entries, list) or not entries:
            raise self.fail(self.key_line("rules"), "no [[rules]] tables")
        if len(headers) != len(entries) or not all(isinstance(entry, dict) for entry in entries):
            raise self.fail(self.key_line("rules"), "write each rule as its own [[rules]] table (an inline array cannot "
                                                    "be located by line)")
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for entry, start, end in zip(entries, headers, headers[1:] + [len(self.lines)]):
            rule = self.rule(entry, start, end)
            if rule.id in seen:
                raise self.fail(start, f"rule {rule.id!r} is defined twice (first at line {seen[rule.id] + 1})")
            seen[rule.id] = start
            rules.append(rule)
        return Pack(meta["id"], meta["title"], meta["version"], meta.get("default", False), meta.get("source", ""),
                    tuple(rules), sha256)

    def table(self, entry: dict[str, Any], known: Mapping[str, str], required: tuple[str, ...], name: str, start: int, end: int,
              types: Mapping[str, str]) -> dict[str, Any]:
        for key in entry:
            if key not in known:
                raise self.fail(self.key_line(key, start, end) or start,
                                f"{name}: unknown key {key!r} (known: {', '.join(known)})")
        missing = [key for key in required if key not in entry]
        if missing:
            raise self.fail(start, f"{name}: missing {', '.join(missing)} (required: {', '.join(required)})")
        for key, value in entry.items():
            kind = types.get(key)
            if kind is not None and not _TYPES[kind][1](value):
                raise self.fail(self.key_line(key, start, end) or start, f"{name}: {key} must be {_TYPES[kind][0]}")
        return entry

    def rule(self, entry: dict[str, Any], start: int, end: int) -> Rule:
        name = f"rule {entry['id']!r}" if isinstance(entry.get("id"), str) else "[[rules]]"
        check = CHECKS.get(entry["check"]) if isinstance(entry.get("check"), str) else None
        if check is None and "check" in entry:
            raise self.fail(self.key_line("check", start, end) or start,
                            f"{name}: unknown check {entry['check']!r} (known: {', '.join(CHECKS)})")
        check = check or Check()
        known = dict(COMMON_KEYS, **check.required, **check.optional,
                     **{f"{status}_severity": meaning for status, meaning in check.severities.items()})
        required = (*COMMON_REQUIRED, *check.required, *(f"{status}_severity" for status in check.required_severities))
        types = dict(_COMMON_TYPES, **check.required, **check.optional)
        self.table(entry, known, required, name, start, end, types)
        for key, value in entry.items():
            if key == "severity" or key.endswith("_severity"):
                if value not in SEVERITIES:
                    raise self.fail(self.key_line(key, start, end) or start,
                                    f"{name}: {key} {value!r} is not a severity ({', '.join(SEVERITIES)})")
        if entry.get("component_kind", "python-package") not in (*COMPONENT_KINDS, CLIENT):
            raise self.fail(self.key_line("component_kind", start, end) or start,
                            f"{name}: unknown component_kind {entry['component_kind']!r} (known: {', '.join(COMPONENT_KINDS)})")
        severities = {key[:-len("_severity")]: value for key, value in entry.items() if key.endswith("_severity")}
        outcomes, allowed = check.outcomes, check.outcomes
        if outcomes is not None and check.status_outcomes:
            outcomes, allowed = (*outcomes, *severities), (*outcomes, *check.severities)
        self.text("title", entry["title"], outcomes, allowed, name, start, end)
        self.text("remediation", entry["remediation"], outcomes if check.outcome_remedies else (),
                  allowed if check.outcome_remedies else None, name, start, end)
        rule_fields = {key: value for key, value in entry.items() if key not in ("severity", "title", "remediation")
                       and not key.endswith("_severity")}
        rule_fields = {key: tuple(value) if isinstance(value, list) else value for key, value in rule_fields.items()}
        return Rule(severity=entry["severity"], title=entry["title"], remediation=entry["remediation"],
                    severities=severities, line=start + 1, **rule_fields)

    def text(self, key: str, value: Any, outcomes: Optional[tuple[str, ...]], allowed: Optional[tuple[str, ...]],
             name: str, start: int, end: int) -> None:
        """A plain text (outcomes None), a table keyed freely (outcomes empty: a plain text is allowed too), or a
        table that must hold every outcome and only the `allowed` ones."""
        def where() -> int:  # found only for an error: a pack that loads needs no line numbers
            return self.key_line(key, start, end) or start

        if outcomes is None:
            if not isinstance(value, str) and not (key == "remediation" and _TYPES["table"][1](value)):
                raise self.fail(where(), f"{name}: {key} must be a string" + (" or a table of strings" if key == "remediation" else ""))
            return
        if not outcomes:
            if not isinstance(value, str) and not _TYPES["table"][1](value):
                raise self.fail(where(), f"{name}: {key} must be a string or a table of strings")
            return
        if not _TYPES["table"][1](value):
            raise self.fail(where(), f"{name}: {key} must be a table of strings keyed by outcome ({', '.join(outcomes)})")
        unknown = [outcome for outcome in value if allowed is not None and outcome not in allowed]
        if unknown:
            found = where()
            raise self.fail(self.key_line(unknown[0], found, end) or found,
                            f"{name}: {key} has a text for {unknown[0]!r}, which is not an outcome of its check "
                            f"({', '.join(allowed or ())})")
        missing = [outcome for outcome in outcomes if outcome not in value]
        if missing:
            raise self.fail(where(), f"{name}: {key} has no text for {', '.join(missing)}")
