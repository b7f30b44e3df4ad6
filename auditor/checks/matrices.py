"""The platform matrices (rules/os-matrix.toml, rules/java-matrix.toml) and their judging: where an OS or a JDK
stands, as a Verdict the os-matrix and java-matrix checks turn into findings."""

from __future__ import annotations

import re
from typing import Any

from auditor.collect.platform.java import JavaVersion, parse_java_version
from auditor.facts.client_trust import ClientTrust
from auditor.facts.java import JavaFacts
from auditor.facts.operating_system import OsFacts
from auditor.model import Component, Verdict
from auditor.records import replace


def judge_os(matrix: dict[str, Any], component: Component) -> Verdict:
    """Where an "os" component stands in the matrix: its row's bands are read in order, and the first whose
    `below` the version is under, or that has no `below`, gives the status. A system the matrix does not name
    gets the `unlisted` band; a version that cannot be read, where the answer depends on it, `unknown_version`."""
    row = next((r for r in matrix["os"] if r["id"] == component.name), None)
    facts = component.facts_as(OsFacts)
    name = facts.name or (row or {}).get("name") or component.name
    label = f"{name} {component.version or '(version unknown)'}"
    if row is None:
        band = matrix["unlisted"]
    else:
        band = _os_band(row["bands"], matrix["unknown_version"], version_key(component.version))
    read = component.version if facts.read is None else facts.read
    observed = [f"{component.location}: {read}", f"{label}: {band['note']}"]
    if row is None and facts.id_like:
        observed.append(f"ID_LIKE={facts.id_like}: the matrix's rows are not extended to derivatives")
    if band["status"] != "supported":
        observed.append(_os_trust_store_pointer(component.client_trust()))
    return Verdict(band["status"], label, band["note"], row and row["documented"], tuple(observed))


def _os_band(bands: list[dict[str, Any]], unknown: dict[str, Any], key: tuple[int, ...] | None) -> dict[str, Any]:
    for band in bands:
        if "below" not in band:
            return band
        if key is None:
            return unknown
        bound = version_key(band["below"])
        if bound is None:
            raise ValueError(f"a matrix band's 'below' is not a version: {band['below']!r}")
        if key < bound:
            return band
    raise ValueError("the matrix row's last band must have no 'below'")


def _os_trust_store_pointer(trust: ClientTrust | None) -> str:
    if trust is not None and trust.store_id:
        return (f"the system's trust store decides: {trust.store} (component {trust.store_id}); "
                "see that store's findings")
    return ("no trust store of this system was read: whether it trusts ATS depends on its CA store holding "
            "Amazon Root CA 1, Starfield Services Root Certificate Authority - G2 "
            "or Starfield Class 2 Certification Authority")


def version_key(text: str | None) -> tuple[int, ...] | None:
    """The numbers of a dotted version, for comparing part by part, trailing zeros dropped: "8.10" > "8.9",
    "10.4.11" < "10.5", "5" == "5.0", "2013.09" == "2013.9". None if the text does not start with a digit, or
    a part is longer than any version's (int() refuses over 4,300 digits: VERSION_ID=999… must not crash the scan)."""
    match = re.match(r"\d+(?:\.\d+)*", text or "")
    if match is None or any(len(part) > 18 for part in match.group().split(".")):
        return None
    parts = [int(part) for part in match.group().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def judge_java(table: dict[str, Any], component: Component) -> Verdict:
    """Where a "java" component stands in a table of rules/java-matrix.toml: the first row whose `vendors`
    name its vendor, or that names none, and in it the first band whose `below` the version is under, or
    that has no `below`. A version that is unknown, or not exact where the answer depends on the levels
    not read, gets the table's `unknown_version` band."""
    facts = component.facts_as(JavaFacts)
    vendor = facts.vendor
    version = parse_java_version(component.version or "")
    if version is not None and facts.version_exact is not None:  # the collector knew the source: "1.6.0" printed by java is exact
        version = replace(version, exact=facts.version_exact)
    row = next(r for r in table["rows"] if vendor in r.get("vendors", [vendor]))
    band = _java_band(row["bands"], version) or table["unknown_version"]
    label = f"Java {component.version or '(version unknown)'}" + (f" ({vendor})" if vendor else "")
    read = facts.version_read or "no version could be read (no release file, no version in the name)"
    observed = [f"{component.location}: {read}", f"{label}: {band['note']}"]
    if table.get("trust_store_decides"):
        observed.append(_java_trust_store_pointer(component.client_trust()))
    return Verdict(band["status"], label, band["note"], row["documented"], tuple(observed))


def _java_band(bands: list[dict[str, Any]], version: JavaVersion | None) -> dict[str, Any] | None:
    for band in bands:
        if "below" not in band:
            return band
        if version is None:
            return None
        below = parse_java_version(band["below"])
        if below is None:
            raise ValueError(f"a matrix band's 'below' is not a Java version: {band['below']!r}")
        bound = below.key
        if version.key < bound:
            known = len(version.parts)
            return None if not version.exact and bound[:known] == version.key[:known] else band
    raise ValueError("a matrix row's last band must have no 'below'")


def _java_trust_store_pointer(trust: ClientTrust | None) -> str:
    if trust is not None and trust.store_id:
        return (f"whether it trusts ATS is decided by the trust store it uses, {trust.store} "
                f"(component {trust.store_id}); see that store's findings")
    return "no trust store of this JVM was read: whether it trusts ATS depends on its cacerts"
