"""From a scan's report to what `auditor fix` does: each finding it can act on becomes a Change, and the edits of
each file it touches are gathered in one FileEdit over the bytes read once (several pins of one file, one diff)."""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING

from auditor.fix.changes import COMMAND, MANUAL, PENDING, REFUSED, Change, FileEdit
from auditor.fix.pins import (HASH, continued, edit_pep508, edit_quoted, hashed_block, new_specifier,
                              poetry_constraint, quoted_specifier)
from auditor.fix.releases import Refusal, target_release
from auditor.fix.targets import FixTarget, Outside, locate
from auditor.fs import FsError
from auditor.records import field, mutable_record

if TYPE_CHECKING:
    from auditor.checks.rule_pack import Pack, Rule
    from auditor.checks.rules import ReleaseDates
    from auditor.collect.config.environ import Environ
    from auditor.fix.index import PackageIndex
    from auditor.model import Component, Report

MAX_FILE = 64 * 1024 * 1024  # as the scan's cap of a requirements file
LOCKS = {"poetry.lock": "poetry lock", "uv.lock": "uv lock", "pdm.lock": "pdm lock", "Pipfile.lock": "pipenv lock"}
KEYSTORE_FORMATS = ("jks", "jceks", "pkcs12")
PASSWORD_VARIABLE = "AUDITOR_STOREPASS"


@mutable_record
class FixRequest:
    to: str  # first-safe, latest, or a version
    index: PackageIndex | None  # --online: the package index; None: no network
    environ: Environ | None = None  # the environment the scan judged the clients with


@mutable_record
class Plan:
    changes: list[Change] = field(default_factory=list)
    edits: dict[str, FileEdit] = field(default_factory=dict)  # by real path
    lockers: dict[str, Change] = field(default_factory=dict)  # one locker command per folder and tool


def plan_fixes(report: Report, packs: list[Pack], targets: list[FixTarget], dates: ReleaseDates,
               request: FixRequest) -> Plan:
    rules = {(pack.id, rule.id): rule for pack in packs for rule in pack.rules}
    components = {c.id: c for c in report.components}
    flagged: dict[str, list[Rule]] = {}
    for finding in report.findings:
        rule = rules.get((finding.pack, finding.rule))
        if rule is not None and finding.component in components:
            flagged.setdefault(finding.component, []).append(rule)
    plan = Plan()
    for component_id, found in flagged.items():
        component = components[component_id]
        checks = {rule.check for rule in found}
        if component.kind == "python-package" and "released-before" in checks:
            cutoff = max(rule.cutoff or "" for rule in found if rule.check == "released-before")
            _package(plan, component, cutoff, targets, dates, request)
        elif component.kind == "trust-store" and "store-without-anchor" in checks:
            _store(plan, component, targets, report, request.environ)
        elif component.kind == "trust-config" and any(r.check == "trust-override" and r.effect == "disabled" for r in found):
            _validation_off(plan, component, report)
    plan.changes.extend(plan.lockers.values())
    plan.changes.sort(key=lambda c: (c.file, c.line or 0, c.status))
    return plan


# -- pins ---------------------------------------------------------------------------------------------------------

def _package(plan: Plan, component: Component, cutoff: str, targets: list[FixTarget], dates: ReleaseDates,
             request: FixRequest) -> None:
    source, name = component.source, component.name
    specifier = str(component.details.get("specifier", ""))
    where, line = component.location, component.line
    if source in LOCKS or source == "pylock.toml":
        command = LOCKS.get(source)
        if command is None:
            plan.changes.append(Change(where, line, None, None, f"{name} {component.version} is pinned by a lock, "
                                       "never edited by hand: once the requirements it was made from are raised, make "
                                       "it again with the tool that wrote it (pip lock, uv export)", REFUSED))
        else:
            _locker(plan, where, command, f"{os.path.basename(where)} pins {name} {component.version}")
        return
    if "specifier" not in component.details:
        plan.changes.append(Change(where, line, None, None, f"{name} {component.version} is installed ({source}), not "
                                   "a requirement: auditor fix edits requirement text only; upgrade the install "
                                   "(see the scan's remediation)", REFUSED))
        return
    if line is None or not specifier or specifier.startswith("@"):
        plan.changes.append(Change(where, line, None, None, f"{name}: no requirement text the scan can point to "
                                   f"({source}): change it by hand", REFUSED))
        return
    if source.startswith("setup.py"):
        plan.changes.append(Change(where, line, None, None, f"{name}{specifier}: setup.py is code, never rewritten: "
                                   f"change the requirement at line {line} by hand", MANUAL))
        return
    if source.startswith("environment.yml dependencies"):
        plan.changes.append(Change(where, line, None, None, f"{name}{specifier} is a conda package: the release-date "
                                   f"table knows PyPI's releases, not a channel's builds; change line {line} by hand to a "
                                   f"build released after {cutoff}", MANUAL))
        return
    try:
        version, why = target_release(dates, name, cutoff, request.to, request.index)
        edit = _file_edit(plan, targets, where)
    except (Refusal, Outside) as exc:
        plan.changes.append(Change(where, line, None, None, f"{name}{specifier}: {exc}", REFUSED))
        return
    lines = [raw.decode("utf-8", "surrogateescape") for raw in edit.lines()]
    if line > len(lines):
        plan.changes.append(Change(where, line, None, None, f"{name}: the file has no line {line} now", REFUSED))
        return
    first = line - 1
    try:
        new_lines, count, did = _edited(lines, first, component, specifier, version, request)
    except Refusal as exc:
        plan.changes.append(Change(where, line, lines[first].rstrip("\r\n"), None, f"{name}{specifier}: {exc}", REFUSED))
        return
    before = "".join(lines[first:first + count])
    encoded = [text.encode("utf-8", "surrogateescape") for text in new_lines]
    if edit.replaced.get(first) == (count, encoded):
        return  # the same line met again (a constraints file read alone and through -c): one change
    if not edit.replace(first, count, encoded):
        plan.changes.append(Change(where, line, before.rstrip("\r\n"), None, f"{name}: another fix edits this line", REFUSED))
        return
    flagged = (f"{name} {component.version} was released before {cutoff}" if component.version else
               f"'{name}{specifier}' admits only releases made before {cutoff}")
    change = Change(where, line, before.rstrip("\r\n"), "".join(new_lines).rstrip("\r\n"), f"{flagged}: {did} ({why})",
                    PENDING)
    edit.changes.append(change)
    plan.changes.append(change)
    locker = _declared_locker(component, edit.host)
    if locker is not None:
        _locker(plan, where, locker, f"{os.path.basename(where)} changed")


def _edited(lines: list[str], first: int, component: Component, specifier: str, version: str,
            request: FixRequest) -> tuple[list[str], int, str]:
    """(the new lines, how many old lines they replace, what was done)."""
    source, name, text = component.source, component.name, lines[first]
    if source.startswith("pyproject.toml [tool.poetry"):
        written = str(component.details.get("written", ""))
        constraint, did = poetry_constraint(written, version)
        return [edit_quoted(text, written, constraint)], 1, did
    if source.startswith("Pipfile"):
        written = quoted_specifier(text, specifier)
        constraint, did = new_specifier(written, version)
        return [edit_quoted(text, written, constraint)], 1, did
    new_first, did = edit_pep508(text, name, specifier, version)
    if not source.startswith("requirements"):
        return [new_first], 1, did
    count = continued(lines, first)
    block = lines[first:first + count]
    if not any(HASH.search(part) for part in block):
        return [new_first, *block[1:]], count, did
    hashes = None
    if request.index is not None:
        from auditor.fix.index import IndexFailure

        try:
            hashes = request.index.sha256s(name, version)
        except IndexFailure as exc:
            raise Refusal(f"the pin carries --hash options, and the hashes of {name} {version} could not be had: "
                          f"{exc} (old hashes are never left under a new version)") from None
    rebuilt = hashed_block([new_first, *block[1:]], hashes)
    assert request.index is not None and hashes is not None  # hashed_block refuses a pin without them
    return rebuilt, count, f"{did}, with the {len(hashes)} hashes of its files from {request.index.url}"


def _declared_locker(component: Component, host: str) -> str | None:
    """The one command that re-locks a project whose declared requirement changed, when it has a lock."""
    folder, source = os.path.dirname(host), component.source
    if source.startswith("Pipfile"):
        return "pipenv lock"
    if source.startswith("pyproject.toml [tool.poetry"):
        return "poetry lock"
    if source.startswith("pyproject.toml"):
        for lock, command in LOCKS.items():
            if lock != "Pipfile.lock" and os.path.isfile(os.path.join(folder, lock)):
                return command
    return None


def _locker(plan: Plan, where: str, command: str, why: str) -> None:
    """The one locker command of a project folder, with every reason to run it."""
    folder = os.path.dirname(where) or "."
    key = f"{folder}\0{command}"
    if key not in plan.lockers:
        plan.lockers[key] = Change(folder, None, None, None, "", COMMAND, f"cd {shlex.quote(folder)} && {command}")
    locker = plan.lockers[key]
    reasons = [r for r in locker.reason.removeprefix("re-lock, as a lock is never edited by hand: ").split("; ") if r]
    if why not in reasons:
        reasons.append(why)
    locker.reason = "re-lock, as a lock is never edited by hand: " + "; ".join(reasons)


def _file_edit(plan: Plan, targets: list[FixTarget], where: str) -> FileEdit:
    view, real = locate(targets, where)
    if real not in plan.edits:
        try:
            original = view.read_bytes(real, MAX_FILE)
        except FsError as exc:
            raise Outside(f"cannot read: {exc}") from None
        plan.edits[real] = FileEdit(real, where, original)
    return plan.edits[real]


# -- trust stores -------------------------------------------------------------------------------------------------

def _store(plan: Plan, component: Component, targets: list[FixTarget], report: Report,
           environ: Environ | None) -> None:
    details, where = component.details, component.location
    roles = [str(role) for role in details.get("roles", [])]
    store_format = details.get("format")
    if store_format in KEYSTORE_FORMATS:
        plan.changes.append(_keytool(component, report, environ))
        return
    named = [role[len("named by "):] for role in roles if role.startswith("named by ")] or roles
    if details.get("remedy") != "custom":
        plan.changes.append(Change(where, None, None, None, f"holds no ATS anchor, and is not a bundle a setting names "
                                   f"({', '.join(roles) or 'no role'}): not edited; {_first_line(component, report)}",
                                   REFUSED))
        return
    try:
        edit = _file_edit(plan, targets, where)
        if store_format != "pem" or details.get("problem"):
            raise Outside(f"not a PEM bundle that could be read ({details.get('problem') or store_format}): not edited")
    except Outside as exc:
        plan.changes.append(Change(where, None, None, None, f"the bundle ({', '.join(named)}) holds no ATS anchor; "
                                   f"{exc}", REFUSED))
        return
    from auditor.trust.anchors import shipped_copies

    try:
        copies = shipped_copies()
    except (OSError, ValueError) as exc:
        plan.changes.append(Change(where, None, None, None, f"the shipped anchors cannot be used: {exc}", REFUSED))
        return
    ending = b"\r\n" if b"\r\n" in edit.original else b"\n"
    added = b"" if not edit.original or edit.original.endswith((b"\n", b"\r")) else ending
    for copy in copies:
        pem = ending.join(copy.pem.strip().splitlines()) + ending
        comment = (f"# {copy.anchor.name} (ATS trust anchor, SHA-256 {copy.anchor.sha256}), added by auditor fix"
                   .encode("ascii") + ending)
        added += comment + pem
    edit.appended += added
    change = Change(where, len(edit.lines()) + 1, None, added.decode("ascii").rstrip(),
                    f"the bundle named by {', '.join(named)} holds none of the ATS anchors: the shipped copies of "
                    f"{', '.join(c.anchor.name for c in copies)} appended", PENDING)
    edit.changes.append(change)
    plan.changes.append(change)


def _keytool(component: Component, report: Report, environ: Environ | None) -> Change:
    from auditor.rule_data import rules_dir

    anchor = rules_dir() / "anchors" / "amazon-root-ca-1.pem"
    store = component.location
    store_type = ["-storetype", "JCEKS"] if component.details.get("format") == "jceks" else []
    command = shlex.join(["keytool", "-importcert", "-noprompt", "-alias", "amazonrootca1", "-file", str(anchor),
                          "-keystore", store, *store_type, "-storepass:env", PASSWORD_VARIABLE])
    found = _password_source(component, report, environ)
    reason = (f"the keystore holds none of the ATS anchors: import Amazon Root CA 1 (the shipped, fingerprint-checked "
              f"copy) with keytool, the store's password in the variable {PASSWORD_VARIABLE} (never on the command "
              f"line); {found}; auditor never writes a keystore itself")
    return Change(store, None, None, None, reason, COMMAND, command)


JVM_OPTION_VARIABLES = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


def _password_source(component: Component, report: Report, environ: Environ | None) -> str:
    """Where the keystore's password was found, said without the password: the JVM options of the environment
    the scan judged, or a Java client's reasons."""
    for variable in JVM_OPTION_VARIABLES:
        value = environ.get(variable) if environ is not None else None
        if value and "-Djavax.net.ssl.trustStorePassword=" in value:
            return (f"its password is the value of -Djavax.net.ssl.trustStorePassword in {variable} (from "
                    f"{environ.origin if environ is not None else 'the environment'})")
    for other in report.components:
        if other.details.get("trust_store_id") != component.id:
            continue
        for reason in other.details.get("trust_reasons", []):
            if "trustStorePassword" in str(reason):
                return f"its password is the javax.net.ssl.trustStorePassword the scan found: {reason}"
    return ("the scan found no password for it (a JDK's cacerts ships with the password 'changeit' unless it was "
            "changed)")


def _first_line(component: Component, report: Report) -> str:
    remediation = next((f.remediation for f in report.findings if f.component == component.id and f.remediation), "")
    return remediation or "see the scan's remediation"


# -- settings that turn validation off -----------------------------------------------------------------------------

def _validation_off(plan: Plan, component: Component, report: Report) -> None:
    statement = str(component.details.get("statement", component.name))
    advice = _first_line(component, report)
    plan.changes.append(Change(component.location, component.line, statement, None,
                               f"{statement} turns certificate validation off; user code is never rewritten: {advice}",
                               MANUAL))
