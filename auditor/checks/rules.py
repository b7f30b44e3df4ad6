"""Rule packs and the release-date table (data in rules/), and the checks that evaluate them.

A rule names a `check`; the checks here are generic, so a new migration with
another cutoff or other packages is a new TOML file, not new code.
"""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_left, bisect_right
from functools import cached_property, lru_cache

from auditor.model import Component, Evidence, Finding, ScanError
from auditor.records import replace
from auditor.rule_data import data_file, rules_path, shipped_release_dates, user_release_dates
# Pack and RulesError are re-exported: the runs and the command line name them from here.
from auditor.checks.rule_pack import CLIENT, Pack as Pack, Rule, RulesError as RulesError, load_pack

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Optional, Sequence
    from pathlib import Path

    from auditor.model import Verdict

    from auditor.facts.manifest import ManifestFacts
    from auditor.facts.package import PackageFacts
    from auditor.facts.setting import SettingFacts
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

# The waiver policy is the auditor's own: it judges waiver files, not endpoints, and applies when waivers are given
# (a saved report rendered with --waivers included), so it ships with the code and never comes from rules/.
WAIVER_PACK = os.path.join(os.path.dirname(__file__), "waivers_pack.toml")


# A kind's facts are imported when a check first reads them: `auditor truststore` judges stores only, and its
# start-up is part of what it is measured by (bench/bench_java_cacerts.py).
def _package_facts(component: Component) -> PackageFacts:
    from auditor.facts.package import PackageFacts

    return component.facts_as(PackageFacts)


def _setting_facts(component: Component) -> SettingFacts:
    from auditor.facts.setting import SettingFacts

    return component.facts_as(SettingFacts)


def _manifest_facts(component: Component) -> ManifestFacts:
    from auditor.facts.manifest import ManifestFacts

    return component.facts_as(ManifestFacts)


@lru_cache(maxsize=None)
def waiver_pack() -> Pack:
    return load_pack(WAIVER_PACK)


def load_packs(directory: str | os.PathLike[str] | None = None) -> dict[str, Pack]:
    """The packs of rules/packs (or `directory`) and the waiver pack, each checked as it is read (RulesError
    naming the file and line)."""
    folder = os.fspath(directory) if directory is not None else os.path.join(rules_path(), "packs")
    packs: dict[str, Pack] = {}
    found: dict[str, str] = {}
    for path in [*_toml_files(folder), WAIVER_PACK]:
        pack = waiver_pack() if path == WAIVER_PACK else load_pack(path)
        if pack.id in packs:
            raise RulesError(f"rule pack {path}: id {pack.id!r} is taken by {found[pack.id]}")
        packs[pack.id], found[pack.id] = pack, path
    return packs


# The kinds of facts a scan reads only when a selected pack judges them: database clients' CA bundles and settings.
DATABASE_CHECKS = ("bundle-lacks-ca", "setting-names-file")


def judges_databases(packs: list[Pack]) -> bool:
    return any(rule.check in DATABASE_CHECKS for pack in packs for rule in pack.rules)


def _toml_files(folder: str) -> list[str]:
    """The *.toml entries of the folder, by name (as Path.glob finds them: none when it is no folder or cannot be
    listed); os.listdir, not pathlib, whose import costs more than `auditor truststore` does in all."""
    try:
        names = os.listdir(folder) if os.path.isdir(folder) else []
    except PermissionError:
        names = []
    # normcase: on Windows, as pathlib there, without regard to case
    return [os.path.join(folder, name) for name in sorted(names, key=os.path.normcase)
            if os.path.normcase(name).endswith(".toml")]


def select_packs(requested: list[str]) -> list[Pack]:
    packs = load_packs()
    if not requested:
        return [p for p in packs.values() if p.default]
    unknown = [r for r in requested if r not in packs]
    if unknown:
        raise RulesError(f"unknown rule pack {', '.join(unknown)}; available: {', '.join(sorted(packs))}")
    return [packs[r] for r in requested]


@lru_cache(maxsize=4)
def _shared_release_dates(path: str, mtime_ns: int, size: int) -> "ReleaseDates":
    """One ReleaseDates per version of the file, so that its parsed and ordered releases are built once per process."""
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    return ReleaseDates(*_table_parts(data), path=Path(path))


_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _table_parts(data: Any) -> tuple[dict[str, dict[str, str]], str]:
    """(packages, fetched_at) of a table, checked: dates are compared as text, so a value of another shape (a
    hand-edited or truncated refresh) would judge wrongly rather than fail. ValueError saying what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        raise ValueError("not a release-date table: no \"packages\" object")
    fetched_at = data.get("fetched_at", "")
    if not isinstance(fetched_at, str) or (fetched_at and not _UTC.fullmatch(fetched_at)):
        raise ValueError(f"not a release-date table: fetched_at {fetched_at!r} is not a UTC time (YYYY-MM-DDThh:mm:ssZ)")
    for name, table in data["packages"].items():
        if not isinstance(table, dict):
            raise ValueError(f"not a release-date table: {name!r} is not an object of releases")
        for version, date in table.items():
            if not isinstance(date, str) or not _UTC.fullmatch(date):
                raise ValueError(f"not a release-date table: {name} {version}: {date!r} is not a UTC time")
    return data["packages"], fetched_at


def release_dates_in_use() -> tuple["ReleaseDates", list[ScanError]]:
    """The table a scan judges by: the user's refreshed one (`auditor rules refresh`) where it is newer, by its own
    fetched_at, than the shipped one, else the shipped one. A refreshed table that cannot be read is an error entry
    naming the table used instead, never a silent fall-back."""
    shipped = ReleaseDates.load(shipped_release_dates())
    user = user_release_dates()
    try:
        refreshed = ReleaseDates.load(user)
    except FileNotFoundError:
        return shipped, []
    except (OSError, ValueError) as exc:  # not JSON or not text (UnicodeDecodeError), or not a table
        return shipped, [ScanError(str(user), f"the refreshed release-date table cannot be used ({exc}); "
                                              f"the shipped table {shipped.path} (fetched {shipped.fetched_at}) is used")]
    return (refreshed if refreshed.fetched_at > shipped.fetched_at else shipped), []


class ReleaseDates:
    """First PyPI upload (UTC) of every release of the tracked packages."""

    def __init__(self, packages: dict[str, dict[str, str]], fetched_at: str = "", path: Optional[Path] = None):
        self.packages = packages
        self.fetched_at = fetched_at
        self.path = path

    @classmethod
    def load(cls, path: Optional[Path] = None) -> "ReleaseDates":
        """The table at `path` (default: the shipped one), read again only when the file changed (a refresh)."""
        path = path or shipped_release_dates()
        info = path.stat()
        return _shared_release_dates(str(path), info.st_mtime_ns, info.st_size)

    def tracked(self) -> set[str]:
        return set(self.packages)

    def released(self, name: str, version: str) -> Optional[str]:
        table = self.packages.get(name, {})
        if version in table:
            return table[version]
        parsed = _version(version)
        if parsed is None:
            return None
        versions, dates = self._by_version.get(name, ((), ()))
        at = bisect_left(versions, parsed)
        return dates[at] if at < len(versions) and versions[at] == parsed else None

    def newer_than_every_release(self, name: str, version: str) -> bool:
        """`version` is not in the table and orders after every release it lists, in the newest release's major line:
        released after the table was fetched (or a local build of such a release). A major line the table never saw
        may never have been on PyPI at all (the AWS CLI v2, awscli 2.x, ships only by its installer): no claim."""
        parsed = _version(version)
        versions = self._by_version[name][0] if name in self._by_version else []
        return (parsed is not None and bool(versions) and self.released(name, version) is None and parsed > versions[-1]
                and parsed.epoch == versions[-1].epoch and parsed.major == versions[-1].major)

    @cached_property
    def _parsed(self) -> dict[str, list[tuple[Version, str, str]]]:
        return {name: [(pv, v, d) for v, d in table.items() if (pv := _version(v)) is not None]
                for name, table in self.packages.items()}

    @cached_property
    def _by_version(self) -> dict[str, tuple[list[Version], list[str]]]:
        """Each package's releases in version order (table order among equal versions, so the first listed
        answers): an unlisted spelling of a release ("0.21" for "0.21.0") is then found by bisection."""
        ordered = {}
        for name, releases in self._parsed.items():
            releases = sorted(releases, key=lambda release: release[0])
            ordered[name] = ([pv for pv, _, _ in releases], [d for _, _, d in releases])
        return ordered

    def matching(self, name: str, specifier: str) -> list[tuple[str, str]]:
        """(version, date) of every known release the specifier admits, oldest first. Asked once per distinct range:
        `packaging` filters only the releases between the range's bounds, found by bisection."""
        key = (name, specifier)
        if key not in self._matching:
            self._matching[key] = self._admitted(name, specifier)
        return list(self._matching[key])

    @cached_property
    def _matching(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        return {}

    def _admitted(self, name: str, specifier: str) -> list[tuple[str, str]]:
        from packaging.specifiers import SpecifierSet

        versions, _ = self._by_version.get(name, ((), ()))
        releases = self._in_version_order.get(name, [])
        try:
            specifiers = SpecifierSet(specifier)
            low, high = _bounds(specifiers, versions)
            pool = releases[low:high]
            allowed = set(specifiers.filter(versions[low:high]))
            counted = self._prereleases.get(name)
            if ((low, high) != (0, len(releases)) and not specifiers.prereleases and counted and counted[high] > counted[low]
                    and any(pv.is_prerelease for pv in allowed)):
                # Pre-releases are admitted when no final release is (PEP 440); whether one is can depend on releases
                # outside the bounds in some packaging releases: asked of them all.
                pool = releases
                allowed = set(specifiers.filter([pv for pv, _, _, _ in pool]))
        except ValueError:  # InvalidSpecifier, or a version number over Python's 4,300-digit int limit
            return []
        return [(v, d) for pv, v, d, _ in sorted((r for r in pool if r[0] in allowed), key=lambda r: (r[2], r[3]))]

    @cached_property
    def _prereleases(self) -> dict[str, list[int]]:
        """How many of each package's first i releases, in version order, are pre-releases."""
        counts = {}
        for name, (versions, _) in self._by_version.items():
            counts[name] = [0]
            for pv in versions:
                counts[name].append(counts[name][-1] + pv.is_prerelease)
        return counts

    @cached_property
    def _in_version_order(self) -> dict[str, list[tuple[Version, str, str, int]]]:
        """(parsed, version, date, place in the table) of each package's releases, in the order of _by_version."""
        return {name: sorted(((pv, v, d, at) for at, (pv, v, d) in enumerate(releases)), key=lambda r: r[0])
                for name, releases in self._parsed.items()}

    def last_before(self, name: str, cutoff: str) -> Optional[tuple[Version, str, str]]:
        key = (name, cutoff)
        if key not in self._last_before:  # asked again for every unlisted version of the package
            before = [r for r in self._parsed.get(name, []) if r[2] < cutoff]
            self._last_before[key] = max(before, default=None)
        return self._last_before[key]

    @cached_property
    def _last_before(self) -> dict[tuple[str, str], Optional[tuple[Version, str, str]]]:
        return {}


def _bounds(specifiers: SpecifierSet, versions: Sequence[Version]) -> tuple[int, int]:
    """Indexes [low, high) of the sorted `versions` outside which no version can satisfy every specifier (pre-releases
    allowed or not), by PEP 440's definitions: `>=V`, `>V`, `~=V` and `==V` admit nothing below V; `<V` nothing from
    V on; `<=V` nothing above V but V's local versions (V+build, compared by their public part). Wildcards, `!=` and
    `===` bound nothing."""
    low, high = 0, len(versions)
    for spec in specifiers:
        operator, text = spec.operator, spec.version
        if operator in ("===", "!=") or text.endswith(".*"):
            continue
        bound = _version(text)
        if bound is None:
            continue
        if operator in (">=", ">", "~=", "=="):
            low = max(low, bisect_left(versions, bound))
        elif operator == "<":
            high = min(high, bisect_left(versions, bound))
        elif operator == "<=":
            end = bisect_right(versions, bound)
            while (end < len(versions) and versions[end].local is not None
                   and (public := _version(versions[end].public)) is not None and public <= bound):
                end += 1
            high = min(high, end)
    return low, max(low, high)


def _version(text: str) -> Optional[Version]:
    from packaging.version import Version  # imported when a version is judged: start-up stays short

    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or a number over Python's 4,300-digit int limit
        return None


# -- checks ------------------------------------------------------------------

def evaluate(packs: list[Pack], components: list[Component], dates: ReleaseDates) -> Iterator[Finding]:
    for pack in packs:
        for rule in pack.rules:
            check = CHECKS[rule.check]  # a pack's checks are known: load_pack refuses any other
            for component in components:
                if _judges(rule, component) and (rule.applies_to is None or component.name in rule.applies_to):
                    yield from check(pack, rule, component, dates)


def _judges(rule: Rule, component: Component) -> bool:
    if rule.component_kind == CLIENT:  # any client the store book linked, whatever its kind
        return component.kind != "trust-config" and component.client_trust() is not None
    return component.kind == rule.component_kind


def _finding(pack: Pack, rule: Rule, component: Component, severity: str, title: str, observed: list[Evidence]) -> Finding:
    remediation = rule.remediation
    if not isinstance(remediation, str):
        # Keyed by the component's name, or by the kind of remedy its collector named (a store's platform).
        remediation = remediation.get(component.details.get("remedy", component.name), remediation.get("default", ""))
    documented = Evidence("documented", rule.documented, source=pack.source or None)
    return Finding(rule.id, pack.id, severity, component.id, title, (documented, *observed), remediation, rule.references)


def _where(component: Component) -> Evidence:
    return Evidence("observed", f"found at {component.location} ({component.source})", source=component.location, line=component.line)


def check_released_before(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    cutoff = rule.required("cutoff")
    name, version, package = component.name, component.version, _package_facts(component)
    fmt = dict(name=name, version=version, cutoff=cutoff, specifier=package.requirement.specifier if package.requirement else "")
    if version is None and package.requirement is not None:
        yield from _range_only_before(pack, rule, component, dates, cutoff, fmt)
        return
    if version is None:
        observed = [Evidence("observed", f"no version could be read for this install of {name}"), _where(component)]
        yield _finding(pack, rule, component, rule.severity_of("unknown", "medium"),
                       f"{name} (version unknown): verify it was released after {cutoff}", observed)
        return
    severity = rule.severity if package.loaded else rule.severity_of("shadowed", rule.severity)
    released = dates.released(name, version)
    if released is not None:
        if released < cutoff:
            observed = [Evidence("observed", f"{name} {version} was first uploaded to PyPI on {released} (UTC); "
                                             f"the cutoff compared is {cutoff} 00:00 UTC"), _where(component)]
            observed += _install_state(component)
            yield _finding(pack, rule, component, severity, rule.plain_title().format(**fmt), observed)
        return
    parsed, last = _version(version), dates.last_before(name, cutoff)
    if dates.newer_than_every_release(name, version) and dates.fetched_at and dates.fetched_at < cutoff:
        # Released after the table's date, which does not say whether it was before a cutoff later still.
        observed = [Evidence("observed", f"{name} {version} is newer than every release in the release-date table, "
                                         f"fetched {dates.fetched_at}, before the cutoff; run 'auditor rules refresh'"),
                    _where(component)]
        yield _finding(pack, rule, component, rule.severity_of("unknown", "medium"),
                       f"{name} {version}: release date unknown; verify it was built after {cutoff}", observed)
        return
    if parsed is not None and last is not None:
        if parsed.release <= last[0].release:
            observed = [Evidence("observed", f"{name} {version} is not on PyPI's release list (a local or modified build?); "
                                             f"its version is not newer than {last[1]}, the last release before the cutoff "
                                             f"(uploaded {last[2]} UTC)"), _where(component)]
            yield _finding(pack, rule, component, severity, rule.plain_title().format(**fmt), observed + _install_state(component))
        return
    observed = [Evidence("observed", f"{name} {version!r} is neither a PyPI release nor a version that can be ordered "
                                     f"against them; its age cannot be judged"), _where(component)]
    yield _finding(pack, rule, component, rule.severity_of("unknown", "medium"),
                   f"{name} {version}: release date unknown; verify it was built after {cutoff}", observed)


def _install_state(component: Component) -> list[Evidence]:
    package, notes = _package_facts(component), []
    if package.shadowed_by:
        notes.append(Evidence("observed", f"not the install Python imports first: shadowed by {package.shadowed_by}"))
    if package.module_version:
        notes.append(Evidence("observed", f"the package's own __version__ says {package.module_version}: "
                                          f"the files on disk differ from this metadata"))
    if package.requirement is not None and package.requirement.marker:
        notes.append(Evidence("observed", f"applies only where {package.requirement.marker}"))
    return notes


def _range_only_before(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates, cutoff: str,
                       fmt: dict[str, Any]) -> Iterator[Finding]:
    requirement = _package_facts(component).requirement
    specifier = requirement.specifier if requirement else ""
    if not specifier or specifier.startswith("@"):
        return
    allowed = dates.matching(component.name, specifier)
    if allowed and all(date < cutoff for _, date in allowed):
        newest = allowed[-1]
        observed = [Evidence("observed", f"every release that '{component.name}{specifier}' admits was uploaded before "
                                         f"{cutoff} (UTC); the newest it admits is {newest[0]} ({newest[1]})"), _where(component)]
        title = rule.plain_title().format(**dict(fmt, version=specifier))
        yield _finding(pack, rule, component, rule.severity, title, observed + _install_state(component))


def check_unpinned(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    requirement = _package_facts(component).requirement
    if component.version is not None or requirement is None:
        return
    specifier, cutoff = requirement.specifier, rule.required("cutoff")
    allowed = [] if specifier.startswith("@") else dates.matching(component.name, specifier or ">=0")
    if specifier.startswith("@"):
        summary = f"{component.name} is installed from {specifier[2:]}; no release is named"
    elif allowed:
        early = sum(1 for _, d in allowed if d < cutoff)
        summary = (f"'{component.name}{specifier}' admits {len(allowed)} known releases, from {allowed[0][0]} to {allowed[-1][0]}"
                   + (f"; {early} of them were uploaded before {cutoff}" if early else ""))
    else:
        summary = f"'{component.name}{specifier}' admits no release PyPI knows of"
    fmt = dict(name=component.name, version="", cutoff=cutoff, specifier=specifier or "any release")
    yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(**fmt), [Evidence("observed", summary), _where(component)])


def check_store_without_anchor(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    details = component.details
    if details.get("anchors") or details.get("format") == "missing":  # a missing store is the store-missing check's
        return
    seen = [Evidence("observed", _store_contents(details)), _where(component)]
    users = details.get("users", [])
    if users:
        seen.append(Evidence("observed", "used by: " + "; ".join(users)))
        severity = rule.severity
    elif details.get("fallback_for"):
        seen.append(Evidence("observed", "not in use now; the fallback of: " + "; ".join(details["fallback_for"])))
        severity = rule.severity_of("fallback", rule.severity)
    elif details.get("added_by"):
        seen.append(Evidence("observed", "only added to the built-in roots of: " + "; ".join(details["added_by"])))
        severity = rule.severity_of("supplement", rule.severity)
    else:
        severity = rule.severity
    title = rule.plain_title().format(name=component.location, as_of=details.get("as_of", ""))
    yield _finding(pack, rule, component, severity, title, seen)


_MISSING_OUTCOMES = ("fails", "falls back", "ignores")  # what the users of a missing store do, worst first


def check_store_missing(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A trust store whose file is not there (format "missing"): what each client that uses it does without it
    (`if_missing`: the clients found here, worst first, then the settings that name it, whose readers may not
    have been found). Severity, from the first: `severity` when a client found here fails every connection,
    `unused_severity` when only a setting names it and its readers would fail, `falls_back_severity` when the
    client uses another store instead, `ignored_severity` when it goes on without it, `fallback_severity` when
    the store is only a fallback today, `unused_severity` when nothing uses it. `title` may name {name},
    {named} (" named by X" when a setting names it), {state} ("does not exist", "is a link to …") and {effect}."""
    details = component.details
    if details.get("format") != "missing":
        return
    effects = sorted(details.get("if_missing", []), key=lambda e: (not e["client"], _MISSING_OUTCOMES.index(e["outcome"])))
    seen = [Evidence("observed", f"{component.location} {details.get('problem', 'does not exist')}", source=component.location)]
    seen += [Evidence("observed", f"{e['user']}: {e['effect']}: {e['detail']}") for e in effects]
    if effects:
        worst = effects[0]
        status = {"fails": None if worst["client"] else "unused", "falls back": "falls_back",
                  "ignores": "ignored"}[worst["outcome"]]
        severity, effect = rule.severity if status is None else rule.severities[status], worst["effect"]
    elif details.get("fallback_for"):
        seen.append(Evidence("observed", "not in use now; the fallback of: " + "; ".join(details["fallback_for"])))
        severity, effect = rule.severities["fallback"], "not in use now, only a fallback"
    else:
        severity, effect = rule.severities["unused"], "no client found here uses it"
    settings = [role[len("named by "):] for role in details.get("roles", []) if role.startswith("named by ")]
    named = f" named by {' and '.join(settings)}" if settings else ""
    title = rule.plain_title().format(name=component.location, named=named, state=details.get("problem", "does not exist"),
                                 effect=effect)
    yield _finding(pack, rule, component, severity, title, seen)


def _store_contents(details: dict[str, Any]) -> str:
    if details.get("problem"):
        return f"the store {details['problem']}"
    summary = f"{details.get('certificates', 0)} certificates read; none is a valid ATS anchor"
    if details.get("expired"):
        summary += f"; expired on {details.get('as_of')}: {', '.join(details['expired'])}"
    for name, where in details.get("distrusted_by", {}).items():
        summary += f"; {name} is present but distrusted by {where}"
    return summary


def check_store_with_anchor(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    details = component.details
    if not details.get("anchors"):
        return
    seen = [Evidence("observed", f"{details.get('certificates', 0)} certificates read ({details.get('format')}); valid on "
                                 f"{details.get('as_of')}: {', '.join(details['anchors'])}"), _where(component)]
    if details.get("users"):
        seen.append(Evidence("observed", "used by: " + "; ".join(details["users"])))
    yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(name=component.location), seen)


def check_store_impostor(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    impostors = component.details.get("impostors", [])
    if impostors:
        seen = [Evidence("observed", f"certificate with subject '{i['name']}' but another public key, SHA-256 {i['sha256']}; "
                                     "not counted as an anchor") for i in impostors]
        yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(name=component.location),
                       [*seen, _where(component)])


def check_trust_override(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A trust setting whose effect is the rule's `effect`, found in one of the rule's places
    (`found_in`: python, script, environment, config file, systemd unit, crontab, /etc/environment,
    profile.d script)."""
    if component.kind != "trust-config":  # a pack may aim the check at another kind: it has no setting
        return
    setting = _setting_facts(component)
    if setting.effect != rule.effect or setting.found_in not in rule.found_in:
        return
    value = setting.value
    written = component.name if value is None else f"{component.name}={value}"
    where = f"{component.source}, line {component.line}" if component.line else component.source
    seen = [Evidence("observed", f"{where}: {setting.statement}", source=component.location, line=component.line)]
    severity = rule.severity
    trust = component.client_trust()
    if trust is not None and trust.store:
        seen.append(Evidence("observed", f"names {trust.store}, checked as its own trust-store component"))
    elif rule.observed:
        seen.append(Evidence("observed", rule.observed.format(written=written, value=value or "")))
    title = rule.plain_title()
    readers = setting.read_by_found
    if readers:
        seen.append(Evidence("observed", "read by the AWS clients found: " + "; ".join(readers)))
    elif readers is not None:  # a CA variable that none of the AWS clients found reads
        seen.append(Evidence("observed", f"not read by any AWS client found; it is read by {setting.read_by}"))
        severity = rule.severity_of("unread", severity)
        title = rule.unread_title or title
    if setting.points_to_os_store:
        seen.append(Evidence("observed", "the file is the operating system's own bundle, maintained by its CA package"))
        severity = rule.severity_of("os_store", severity)
    finding = _finding(pack, rule, component, severity, title.format(written=written), seen)
    if setting.points_to_os_store and rule.os_store_remediation:
        finding = replace(finding, remediation=rule.os_store_remediation)
    yield finding


def check_openssl_before(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """An OpenSSL older than the rule's `minimum` (e.g. 1.0.1, the first with TLS 1.2)."""
    from auditor.collect.platform.openssl import version_key
    from auditor.facts.openssl import OpenSSLFacts

    key, minimum = version_key(component.version or ""), version_key(rule.required("minimum"))
    if minimum is None:  # a pack's minimum the check cannot compare: an error naming the rule, not a TypeError
        raise RulesError(f"rule {rule.id}: minimum {rule.minimum!r} is not an OpenSSL version such as 1.0.1")
    if key is None or key >= minimum:
        return
    text = component.facts_as(OpenSSLFacts).version_text if component.kind == "openssl" else None
    seen = [Evidence("observed", f"{text or component.version} ({component.source})"), _where(component)]
    yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(version=component.version), seen)


def check_capability_missing(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """An interpreter's ssl module (an openssl component) reported without a capability (`capability`: sni or
    tls1_2)."""
    from auditor.facts.openssl import OpenSSLFacts

    facts = component.facts_as(OpenSSLFacts) if component.kind == "openssl" else None
    module = facts.ssl_module if facts is not None else None
    capability = rule.required("capability")
    if facts is None or module is None or module.capability(capability) is not False:
        return
    seen = [Evidence("observed", f"Python {module.python_version} at {module.python} with "
                                 f"{facts.version_text}: {capability} is not available"), _where(component)]
    yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(python=module.python), seen)


def check_os_matrix(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """An operating system judged against the platform matrix (`matrix`: a TOML file in rules/); severity, `title`
    and `remediation` as _matrix_finding gives them, which may name {os} and {note}."""
    from auditor.checks.matrices import judge_os

    verdict = judge_os(data_file(rule.required("matrix")), component)
    yield from _matrix_finding(pack, rule, component, verdict, "os", verdict.documented or rule.documented)


def check_java_matrix(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A JDK or JRE judged against a table of a Java matrix (`matrix`: a TOML file in rules/, `table`: its table);
    severity, `title` and `remediation` as _matrix_finding gives them, which may name {java} and {note}."""
    from auditor.checks.matrices import judge_java

    verdict = judge_java(data_file(rule.required("matrix"))[rule.required("table")], component)
    # Every row of a Java matrix restates its source: a Java verdict always has its own.
    yield from _matrix_finding(pack, rule, component, verdict, "java", verdict.documented or rule.documented)


def _matrix_finding(pack: Pack, rule: Rule, component: Component, verdict: Verdict, name: str,
                    documented: str) -> Iterator[Finding]:
    """The finding of a matrix verdict: the status found picks the severity, `severity` for unsupported and
    `<status>_severity` for the others (a status without one gives no finding); `title` and `remediation` are
    keyed by status and may name {<name>} (the verdict's label) and {note}."""
    severity = rule.severity if verdict.status == "unsupported" else rule.severity_of(verdict.status)
    if severity is None:
        return
    where, *why = verdict.observed
    seen = [Evidence("observed", where, source=component.location), *(Evidence("observed", text) for text in why)]
    fmt = {name: verdict.label, "note": verdict.note}
    shaped = replace(rule, documented=documented, remediation=rule.remediation_for(verdict.status).format(**fmt))
    yield _finding(pack, shaped, component, severity, rule.title_for(verdict.status).format(**fmt), seen)


def check_probe(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A live probe of an endpoint with one trust store (kind probe). `severity` when the store failed
    verification, `error_severity` when it could not be tried (network, proxy, TLS version), `pass_severity`
    when it verified. `title` is keyed by that outcome (pass, fail, error) and may name {endpoint}, {store},
    {who} (the store's users, else the store), {problem} and {anchor}; the remediation table is keyed by
    failure class (the component's remedy, "pass" on success)."""
    from auditor.checks.probe_evidence import anchor_text, observations
    from auditor.facts.probe import ProbeFacts

    details = component.details
    outcome = details["outcome"]
    severity = rule.severity if outcome == "fail" else rule.severities[outcome]
    users = details.get("users", [])
    fmt = dict(endpoint=component.name, store=component.location, problem=details.get("problem", ""),
               anchor=anchor_text(details.get("anchor")),
               who=f"{'; '.join(users)} ({component.location})" if users else component.location)
    first, *rest = observations(component.facts_as(ProbeFacts))
    seen = [Evidence("observed", first, source=component.location), *(Evidence("observed", text) for text in rest)]
    yield _finding(pack, rule, component, severity, rule.title_for(outcome).format(**fmt), seen)


def check_waiver(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A waiver (kind waiver, made by auditor/checks/waivers.py) whose `status` is the rule's: expired or stale."""
    details = component.details
    if details.get("status") != rule.status:
        return
    seen = [Evidence("observed", f"{component.location}, line {component.line}: {details['summary']}",
                     source=component.location, line=component.line),
            Evidence("observed", details["judged"])]
    yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(**details), seen)


def check_sdk_trust(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """An AWS SDK of another language (kind sdk-manifest) whose trust comes from one of the rule's `trust_from`
    sources. Only the component that carries its file's finding is judged (the others name it in `reported_with`).
    `versions` (a PEP 440 specifier) narrows a rule to some releases; a rule without it leaves a component to the
    narrower rule of the same check that matches it. Severity: `severity` when no store is linked (the machine it
    runs on decides), else `trusted_severity` or `untrusted_severity` as the linked store holds an ATS anchor or not.
    `title` and `remediation` are keyed by that status (unlinked, trusted, untrusted) and may name {sdk}, {package},
    {version}, {store}, {decides} and {advice} (the rule's `stores` and `advice` texts for the trust source)."""
    facts = _manifest_facts(component)
    if facts.reported_with is not None or not _sdk_rule_matches(rule, component):
        return
    narrower = [r for r in pack.rules if r is not rule and r.check == rule.check and r.versions is not None]
    if rule.versions is None and any(_sdk_rule_matches(r, component) for r in narrower):
        return
    trust = component.client_trust()
    store = trust.store if trust is not None else None
    anchors = (trust.store_anchors if trust is not None else None) or ()
    status = "unlinked" if not store else "trusted" if anchors else "untrusted"
    severity = rule.severity if status == "unlinked" else rule.severities[status]
    fmt = dict(sdk=facts.sdk, package=component.name, store=store or "",
               version=component.version or facts.constraint or "(any version)",
               decides=rule.stores[facts.trust_from], advice=rule.advice.get(facts.trust_from, ""))
    seen = [_where(component), Evidence("observed", f"{component.name} {fmt['version']}: {facts.note}")]
    seen += [Evidence("observed", note) for note in facts.notes]
    others = facts.same_file_packages
    if others:
        seen.append(Evidence("observed", f"the same file names {len(others)} more AWS SDK packages with the same trust: "
                                         + ", ".join(others[:5]) + (", …" if len(others) > 5 else "")))
    if trust is not None and store:
        seen.append(Evidence("observed", f"its store {store} (component {trust.store_id}) holds "
                                         + (", ".join(anchors) if anchors else "no valid ATS anchor") + "; see that store's findings"))
    shaped = replace(rule, remediation=rule.remediation_for(status).format(**fmt))
    yield _finding(pack, shaped, component, severity, rule.title_for(status).format(**fmt), seen)


def _sdk_rule_matches(rule: Rule, component: Component) -> bool:
    if component.kind != "sdk-manifest" or _manifest_facts(component).trust_from not in rule.trust_from:
        return False
    if rule.applies_to is not None and component.name not in rule.applies_to:
        return False
    if rule.versions is None:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    version = _version(component.version or "")
    try:
        return version is not None and version in SpecifierSet(rule.versions)
    except InvalidSpecifier as exc:
        raise RulesError(f"rule {rule.id}: invalid versions {rule.versions!r}") from exc


def check_proxy_interception(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A client behind a proxy whose store lacks a CA added to the OS store (the likely interception CA): its
    `proxy_ca_missing` (auditor.trust.interception). `title` may name {client}, {proxy}, {subject}, {sha256},
    {store} and {count}; `remediation`, a table keyed by the client's name ("default" for the rest), may name
    {store}, {os_store}, {ca_file} and {alias}."""
    trust = component.client_trust()
    if trust is None or not trust.proxy_ca_missing:
        return
    first = trust.proxy_ca_missing[0]
    client = f"{component.name} {component.version}" if component.version else component.name
    store = trust.store or ""
    ca_file = first.source if first.source.startswith("/") and " " not in first.source else "CA.pem"
    fmt = dict(client=client, proxy=first.proxy, subject=first.subject, sha256=first.sha256, store=store,
               count=len(trust.proxy_ca_missing), os_store=first.os_store, ca_file=ca_file,
               alias=re.sub(r"[^a-z0-9]+", "-", first.subject.partition(",")[0].partition("=")[2].lower()).strip("-") or "proxy-ca")
    seen = [_where(component), Evidence("observed", f"a proxy is in force for it: {first.proxy}")]
    seen += [Evidence("observed", f"{m.os_store} holds a CA added on this machine, {m.subject} (SHA-256 {m.sha256}, "
                                  f"from {m.source}); {store} (component {trust.store_id}), the store it uses, lacks it")
             for m in trust.proxy_ca_missing]
    remediation = rule.remediation if isinstance(rule.remediation, str) else rule.remediation.get(
        component.name, rule.remediation.get("default", ""))
    shaped = replace(rule, remediation=remediation.format(**fmt))
    yield _finding(pack, shaped, component, rule.severity, rule.plain_title().format(**fmt), seen)


def check_store_locally_added(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """An OS store holding CAs that are not the distribution's own (`locally_added`). `title` may name {name},
    {count} and {cas} ("1 CA", "2 CAs")."""
    from auditor.facts.trust_store import TrustStoreFacts

    local = component.facts_as(TrustStoreFacts).locally_added
    if not local:
        return
    seen = [_where(component)]
    seen += [Evidence("observed", f"{ca.subject}, SHA-256 {ca.sha256}" + (f", valid until {ca.not_after}" if ca.not_after else "")
                                  + f": from {ca.source}") for ca in local]
    yield _finding(pack, rule, component, rule.severity, rule.plain_title().format(
        name=component.location, count=len(local), cas=f"{len(local)} CA" + ("s" if len(local) != 1 else "")), seen)


def check_bundle_lacks_ca(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A database CA bundle (kind db-ca-bundle) that holds CAs of the rule's `old_cas` and none of its `new_cas`, ids
    of the CA table `cas`. `title` may name {name} and {old}."""
    if component.kind != "db-ca-bundle":
        return
    table = {entry["id"]: entry for entry in data_file(rule.required("cas"))["cas"]}
    unknown = [ca for ca in (*rule.old_cas, *rule.new_cas) if ca not in table]
    if unknown:
        raise RulesError(f"rule {rule.id}: {', '.join(unknown)} not in the CA table {rule.cas} (known: {', '.join(table)})")
    details = component.details
    old = [ca for ca in details.get("old_cas", []) if ca in rule.old_cas]
    if not old or any(ca in rule.new_cas for ca in details.get("new_cas", [])):
        return
    counts = details.get("rds_cas", {})
    seen = [Evidence("observed", f"{details.get('certificates', 0)} certificates read; "
                                 + ", ".join(f"{ca}: {counts.get(ca, 0)}" for ca in old)
                                 + f"; none of {', '.join(rule.new_cas)}", source=component.location),
            Evidence("observed", f"CAs recognised by {details.get('matched_by', 'subject')}"), _where(component)]
    title = rule.plain_title().format(name=component.location, old=", ".join(old))
    yield _finding(pack, rule, component, rule.severity, title, seen)


def check_setting_names_file(pack: Pack, rule: Rule, component: Component, dates: ReleaseDates) -> Iterator[Finding]:
    """A setting (trust-config) of the rule's `effect` whose value names a file whose name holds one of `names`
    (case ignored). `title` may name {written} (setting=value) and {name} (the part matched)."""
    if component.kind != "trust-config":
        return
    setting = _setting_facts(component)
    value = setting.value or ""
    base = re.split(r"[\\/]", value)[-1].lower()
    matched = next((name for name in rule.names if name.lower() in base), None)
    if setting.effect != rule.effect or matched is None:
        return
    where = f"{component.location}:{component.line}" if component.line else component.location
    seen = [Evidence("observed", f"{where}: {setting.statement}", source=component.location, line=component.line)]
    title = rule.plain_title().format(written=f"{component.name}={value}", name=matched)
    yield _finding(pack, rule, component, rule.severity, title, seen)


# What each check is: the findings of one rule on one component.
if TYPE_CHECKING:
    CheckFunction = Callable[[Pack, Rule, Component, ReleaseDates], Iterator[Finding]]

CHECKS: dict[str, CheckFunction] = {"released-before": check_released_before, "unpinned": check_unpinned,
          "store-without-anchor": check_store_without_anchor, "store-missing": check_store_missing,
          "store-with-anchor": check_store_with_anchor, "store-impostor": check_store_impostor,
          "trust-override": check_trust_override, "openssl-before": check_openssl_before,
          "capability-missing": check_capability_missing,
          "os-matrix": check_os_matrix,
          "java-matrix": check_java_matrix,
          "probe": check_probe,
          "sdk-trust": check_sdk_trust,
          "waiver": check_waiver,
          "proxy-interception": check_proxy_interception,
          "store-locally-added": check_store_locally_added,
          "bundle-lacks-ca": check_bundle_lacks_ca,
          "setting-names-file": check_setting_names_file}
